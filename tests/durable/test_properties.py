"""Property: a random workflow (reducers, Join.ANY, guards, mapped steps) crashed at a
random commit and resumed ends in the state of an uninterrupted run, and the steps it
restores are exactly those whose records were committed before the crash."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import attrs
import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spectra_dsl import Join, Workflow, events, reducers
from spectra_dsl.store import MemoryStore
from tests.helpers import virtual

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup


class Crash(BaseException):
    """The process died here: nothing from this commit on reaches the store."""


class CrashingStore(MemoryStore):
    """A store whose Nth commit (and every one after it) never happens."""

    def __init__(self, crash_at: int) -> None:
        super().__init__()
        self.crash_at = crash_at
        self.commits = 0

    def _write(self, run_id: str, token: str, records: Any, **options: Any) -> None:
        """Every commit (records, a group, the run's end) is one call of this."""
        self.commits += 1
        if self.crash_at and self.commits >= self.crash_at:
            raise Crash(self.commits)
        super()._write(run_id, token, records, **options)


@attrs.frozen
class Spec:
    """Step i reads ``deps[i]``; ``kinds[i]`` is plain, any (a Join.ANY fan-in),
    mapped (over its first dependency) or logger (writes the reduced key ``log``);
    ``guards[i]`` guards it on its first dependency; ``sleeps[i]`` is its duration."""

    deps: tuple[tuple[int, ...], ...]
    kinds: tuple[str, ...]
    guards: tuple[bool, ...]
    sleeps: tuple[int, ...]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    n = draw(st.integers(1, 8))
    deps: list[tuple[int, ...]] = []
    kinds: list[str] = []
    for i in range(n):
        readable = [j for j in range(i) if kinds[j] != "logger"]
        chosen = draw(st.lists(st.sampled_from(readable), unique=True, max_size=3)
                      ) if readable else []
        deps.append(tuple(sorted(chosen)))
        options = ["plain", "logger"]
        if len(chosen) >= 2:
            options.append("any")
        if len(chosen) == 1:
            options.append("mapped")
        kinds.append(draw(st.sampled_from(options)))
    guards = tuple(bool(d) and draw(st.booleans()) for d in deps)
    # Distinct powers of two: no two steps ever finish in the same instant, so which
    # branch wins a Join.ANY race is decided by the clock (trio shuffles what is ready
    # in one instant: a tie is a race in any run, journaled or not).
    sleeps = tuple(2 ** i for i in range(n))
    return Spec(tuple(deps), tuple(kinds), guards, sleeps)


def build(spec: Spec) -> Workflow:
    wf = Workflow("random", reducers={"log": reducers.append})
    for i, (deps, kind, guard, sleep) in enumerate(
            zip(spec.deps, spec.kinds, spec.guards, spec.sleeps, strict=True)):
        params = [f"s{j}" for j in deps]
        default = '="-"' if kind == "any" else ""
        signature = ", ".join(p + default for p in params)
        if kind == "mapped":
            body = f"return f's{i}[{{{params[0]}}}]'"
        else:
            listed = ", ".join(params)
            body = f"return ['s{i}(' + ','.join(str(v) for v in [{listed}]) + ')']"
        source = (f"async def s{i}({signature}):\n"
                  f"    await trio.sleep({sleep})\n"
                  f"    {body}\n")
        scope: dict[str, Any] = {"trio": trio}
        exec(source, scope)
        options: dict[str, Any] = {}
        if kind == "any":
            options["join"] = Join.ANY
        elif len(deps) >= 2:
            options["join"] = Join.ALL
        if kind == "mapped":
            options["map"] = params[0]
        if kind == "logger":
            options["writes"] = "log"
        if guard:
            first = params[0]
            options["when"] = eval(f"lambda {first}: len(str({first})) % 3 != 0")
        wf.step(**options)(scope[f"s{i}"])
    return wf



@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), crash=st.integers(1, 16))
def test_a_crash_at_any_commit_resumes_to_the_uninterrupted_state(spec: Spec,
                                                                  crash: int) -> None:
    event(f"crashed: {crash_and_resume(spec, crash)}")


def crash_and_resume(spec: Spec, crash: int) -> bool:
    """Crash a run of ``spec`` at commit ``crash`` and resume it; check the property.
    False when the run made fewer commits (nothing to check)."""
    plan = build(spec).compile()
    reference = virtual(lambda: plan.run(store=MemoryStore()))
    store = CrashingStore(crash)
    with contextlib.suppress(Crash, BaseExceptionGroup):
        virtual(lambda: plan.run(store=store, run_id="r"))
    if store.commits < crash:  # the run ended before that commit
        return False
    recorded = {r.step for r in store.steps("r") if r.status == "finished" and not r.scope}
    store.crash_at = 0
    resumed = virtual(lambda: plan.resume("r", store=store))
    assert dict(resumed) == dict(reference)
    restored = {e.step for e in resumed.events_of(events.StepRestored) if not e.scope}
    assert restored == recorded
    return True


@pytest.mark.parametrize("crash", range(1, 8))
def test_a_crash_in_a_fan_out_with_a_reducer_and_a_race(crash: int) -> None:
    spec = Spec(deps=((), (0,), (0,), (0,), (1, 2, 3), (1, 2), (4, 5)),
                kinds=("plain", "plain", "plain", "mapped", "plain", "any", "logger"),
                guards=(False, False, False, True, False, False, False),
                sleeps=(1, 2, 1, 3, 0, 1, 1))
    assert crash_and_resume(spec, crash)  # every one of these commits happens
