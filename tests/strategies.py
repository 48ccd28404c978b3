"""Hypothesis strategies and workflow builders shared by every property test."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio
from hypothesis import strategies as st

from spectra_dsl import Join, Workflow, reducers


@attrs.frozen
class RandomDag:
    """A random DAG: ``deps[i]`` are the earlier steps step ``i`` reads."""

    deps: tuple[tuple[int, ...], ...]
    durations: tuple[int, ...]
    logs: tuple[bool, ...]
    #: Which steps join with Join.ANY (when they are fan-ins); empty: none.
    anys: tuple[bool, ...] = ()

    @property
    def size(self) -> int:
        return len(self.deps)

    def joins_any(self, i: int) -> bool:
        return bool(self.anys) and self.anys[i] and len(self.deps[i]) > 1


@st.composite
def random_dags(
    draw: st.DrawFn, max_steps: int = 12, max_duration: int = 5, with_any: bool = False
) -> RandomDag:
    """A DAG of 1..max_steps steps, integer durations, which steps also write 'log' and
    (``with_any``) which fan-ins join with Join.ANY."""
    n = draw(st.integers(1, max_steps))
    deps = []
    for i in range(n):
        chosen = draw(st.sets(st.integers(0, i - 1), max_size=min(i, 4))) if i else set()
        deps.append(tuple(sorted(chosen)))
    durations = draw(st.lists(st.integers(0, max_duration), min_size=n, max_size=n))
    logs = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    anys: list[bool] = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if with_any else []
    return RandomDag(tuple(deps), tuple(durations), tuple(logs), tuple(anys))


def name(i: int) -> str:
    return f"s{i}"


def value_of(i: int, inputs: dict[str, Any]) -> str:
    """What step ``i`` returns: its name applied to its inputs, so order shows."""
    return f"{name(i)}({','.join(str(inputs[k]) for k in sorted(inputs))})"


@attrs.define
class Recorder:
    """Records what a run's steps did: start/finish times, in-flight peak, call counts."""

    in_flight: int = 0
    peak: int = 0
    starts: dict[str, float] = attrs.field(factory=dict)
    ends: dict[str, float] = attrs.field(factory=dict)
    calls: dict[str, int] = attrs.field(factory=dict)


def make_step(
    i: int, dag: RandomDag, rec: Recorder
) -> Callable[..., Awaitable[Any]]:
    """An async step with parameters named after its dependencies."""
    duration = dag.durations[i]

    async def body(**inputs: Any) -> Any:
        me = name(i)
        rec.calls[me] = rec.calls.get(me, 0) + 1
        rec.in_flight += 1
        rec.peak = max(rec.peak, rec.in_flight)
        rec.starts[me] = trio.current_time()
        try:
            if duration:  # a 0 s step returns without blocking (run inline, no task)
                await trio.sleep(duration)
        finally:
            rec.in_flight -= 1
        rec.ends[me] = trio.current_time()
        out = value_of(i, inputs)
        return {me: out, "log": out} if dag.logs[i] else out

    default = None if dag.joins_any(i) else inspect.Parameter.empty
    body.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name(d), inspect.Parameter.KEYWORD_ONLY, default=default)
         for d in dag.deps[i]]
    )
    return body


def build(dag: RandomDag, rec: Recorder, max_concurrency: int | None = None) -> Workflow:
    """The workflow of ``dag``: fan-ins join with Join.ALL, 'log' folds with append."""
    wf = Workflow("random", max_concurrency=max_concurrency)
    if any(dag.logs):
        wf.reducer("log", reducers.append)
    for i in range(dag.size):
        join = Join.ANY if dag.joins_any(i) else Join.ALL if len(dag.deps[i]) > 1 else None
        writes = (name(i), "log") if dag.logs[i] else None
        wf.step(name=name(i), join=join, writes=writes)(make_step(i, dag, rec))
    return wf


def sequential_state(dag: RandomDag, plan_order: tuple[str, ...]) -> dict[str, Any]:
    """The reference: run every step one after another in plan order, plainly."""
    state: dict[str, Any] = {}
    log: list[str] = []
    for step_name in plan_order:
        i = int(step_name[1:])
        out = value_of(i, {name(d): state[name(d)] for d in dag.deps[i]})
        state[step_name] = out
        if dag.logs[i]:
            log.append(out)
    if any(dag.logs):
        state["log"] = log
    return state


def limits() -> st.SearchStrategy[int | None]:
    """A concurrency limit: none, or 1..6."""
    return st.one_of(st.none(), st.integers(1, 6))


# -- spectra-lint: random workflow modules as source text ---------------------------------


@attrs.frozen
class WorkflowSource:
    """The text of a random workflow module; ``valid`` when it is meant to import."""

    text: str
    valid: bool


_LINT_NAMES = ("fetch", "parse", "rank", "merge", "score", "clean", "index", "store")
_LINT_TYPES = ("int", "str", "float", "list[str]", "dict[str, int]", "bool", "object")
_LINT_JOINS = ("", "", "", "", "join=Join.ALL", "join=Join.ANY", "join='all'",
               "join='any'", "join=JOIN", "join='bogus'")


@st.composite
def workflow_sources(draw: st.DrawFn, max_steps: int = 7) -> WorkflowSource:
    """A module building one workflow from random steps: fan-outs and fan-ins with or
    without join=, shared writes with or without reducers, typos, wrong annotations,
    duplicate names, generators, both registration styles; sometimes broken text."""
    n = draw(st.integers(0, max_steps))
    names = [f"{_LINT_NAMES[i % len(_LINT_NAMES)]}{i}" for i in range(n)]
    use_list = draw(st.booleans())
    lines = [
        "from spectra_dsl import Join, Retry, Workflow, match, reducers, step",
        "",
        "JOIN = Join.ALL",
        f"KEYS = ({draw(st.sampled_from(['shared', 'out']))!r},)",
    ]
    inputs = draw(st.sampled_from(["", ", inputs=('seed',)", ", inputs=('seed', 'extra')"]))
    reducer = draw(st.sampled_from(["", ", reducers={'shared': reducers.append}",
                                    ", reducers={'nobody': reducers.add}"]))
    if not use_list:
        lines.append(f"wf = Workflow('random'{inputs}{reducer})")
    for i, step_name in enumerate(names):
        options = []
        join = draw(st.sampled_from(_LINT_JOINS))
        if join:
            options.append(join)
        writes = draw(st.sampled_from(["", "", "", "", "", "", "writes='shared'",
                                       "writes=KEYS", "writes=('a', 'b')", "writes=()"]))
        if writes:
            options.append(writes)
        if draw(st.integers(0, 9)) == 0 and i:
            options.append(f"name={names[0]!r}")
        if i and draw(st.integers(0, 9)) == 0:
            value = draw(st.sampled_from(["'a'", "'b'", "1"]))
            options.append(f"when=match({names[0]}={value})")
        extra = draw(st.sampled_from(["", "", "", "retry=Retry(attempts=2)",
                                      "retry=Retry(attempts=0)", "timeout=1.5",
                                      "timeout=-1", "retry=Retry(3, backoff=-1.0)"]))
        if extra:
            options.append(extra)
        fan_in = min(i, draw(st.sampled_from([0, 0, 1, 2])))
        readable = [*names[:i], "shared", "a"] if i else ["seed"]
        upstream = draw(st.lists(st.sampled_from(readable), min_size=fan_in,
                                 max_size=max(fan_in, 3), unique=True))
        params = []
        for param in upstream:
            if draw(st.integers(0, 7)) == 0:
                param = param[:-1] + "x" + param[-1]  # a typo
            annotation = draw(st.sampled_from(_LINT_TYPES))
            default = " = None" if draw(st.integers(0, 3)) == 0 else ""
            params.append(f"{param}: {annotation}{default}")
        params.sort(key=lambda p: "=" in p)
        if draw(st.integers(0, 9)) == 0:
            params.append("*rest: int")
        returns = draw(st.sampled_from(_LINT_TYPES))
        is_async = draw(st.booleans())
        body = "yield 1" if draw(st.integers(0, 11)) == 0 else "return None  # type: ignore"
        marker = "step" if use_list else "wf.step"
        decorator = f"@{marker}({', '.join(options)})" if options else f"@{marker}"
        lines += ["", "", decorator,
                  f"{'async ' if is_async else ''}def {step_name}({', '.join(params)}) "
                  f"-> {returns}:", f"    {body}"]
    if use_list:
        lines.append("")
        lines.append(f"wf = Workflow('random', steps=[{', '.join(names)}]{inputs}{reducer})")
    if draw(st.booleans()) and n:
        lines.append("wf.reducer('shared', reducers.extend)")
    text = "\n".join(lines) + "\n"
    valid = True
    if draw(st.integers(0, 4)) == 0:
        valid = False
        cut = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from(["", "(", "def", "\x00", "é", "@wf.step(", "\n  x"]))
        text = text[:cut] + junk + text[cut:]
    return WorkflowSource(text, valid)


# -- control flow: random guards and routers ----------------------------------------------

CHOICES = ("x", "y", "z")


@attrs.frozen
class GuardedDag:
    """A random DAG where some steps are routers (they return one of ``CHOICES``) and
    some steps are guarded by ``match(router=value)``; ``defaults[i][j]`` says whether
    step ``i``'s ``j``-th parameter has a default."""

    deps: tuple[tuple[int, ...], ...]
    defaults: tuple[tuple[bool, ...], ...]
    routes: tuple[str | None, ...]
    guards: tuple[tuple[int, str] | None, ...]
    durations: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.deps)


@st.composite
def guarded_dags(draw: st.DrawFn, max_steps: int = 10) -> GuardedDag:
    """Random steps, routers with random outputs, and random match guards on routers."""
    n = draw(st.integers(1, max_steps))
    deps: list[tuple[int, ...]] = []
    defaults: list[tuple[bool, ...]] = []
    routes: list[str | None] = []
    guards: list[tuple[int, str] | None] = []
    for i in range(n):
        chosen = sorted(draw(st.sets(st.integers(0, i - 1), max_size=min(i, 3)))) if i else []
        deps.append(tuple(chosen))
        defaults.append(tuple(draw(st.booleans()) for _ in chosen))
        routes.append(draw(st.one_of(st.none(), st.sampled_from(CHOICES))))
        routers = [j for j in range(i) if routes[j] is not None]
        guarded: bool = draw(st.booleans())
        guard: tuple[int, str] | None = None
        if routers and guarded:
            router: int = draw(st.sampled_from(routers))
            value: str = draw(st.sampled_from(CHOICES))
            guard = (router, value)
        guards.append(guard)
    durations = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    return GuardedDag(tuple(deps), tuple(defaults), tuple(routes), tuple(guards),
                      tuple(durations))
