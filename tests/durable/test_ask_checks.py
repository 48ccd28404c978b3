"""SPX601 and SPX602: misused ask steps are found by compile() and by spectra-lint
alike, before anything runs."""

from __future__ import annotations

import textwrap

import pytest

from compiler.lint import lint_source
from spectra_dsl import CompileError, Workflow

RACE = '''
from spectra_dsl import Ask, Join, Workflow

wf = Workflow("race")

@wf.step(ask=True)
async def approval(draft: str) -> Ask[bool]:
    return Ask(draft)

@wf.step
async def robot(draft: str) -> bool:
    return True

@wf.step(join=Join.ANY)
async def decide(approval: bool = False, robot: bool = False) -> bool:
    return approval or robot
'''

RETRIED = '''
from spectra_dsl import Ask, Retry, Workflow

wf = Workflow("retried")

@wf.step(ask=True, retry=Retry(attempts=2), timeout=30)
async def approval(draft: str) -> Ask[bool]:
    return Ask(draft)
'''

FINE = '''
from spectra_dsl import Ask, Join, Workflow

wf = Workflow("fine")

@wf.step(ask=True)
async def approval(draft: str) -> Ask[bool]:
    return Ask(draft)

@wf.step(durable=False)
async def robot(draft: str) -> bool:
    return True

@wf.step(join=Join.ALL)
async def decide(approval: bool, robot: bool) -> bool:
    return approval or robot
'''


def compiled(source: str) -> list[tuple[str, tuple[str, ...]]]:
    namespace: dict[str, object] = {}
    exec(textwrap.dedent(source), namespace)
    wf = namespace["wf"]
    assert isinstance(wf, Workflow)
    with pytest.raises(CompileError) as info:
        wf.compile()
    return [(d.code, d.steps) for d in info.value.diagnostics if d.severity == "error"]


def linted(source: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(d.code, d.steps) for d in lint_source(source, "asks.py")
            if d.severity == "error"]


def test_an_ask_racing_in_a_join_any_is_spx601_in_both_front_ends() -> None:
    expected = [("SPX601", ("approval", "decide"))]
    assert compiled(RACE) == expected
    assert linted(RACE) == expected


def test_an_ask_with_retry_or_timeout_is_spx602_in_both_front_ends() -> None:
    expected = [("SPX602", ("approval",))]
    assert compiled(RETRIED) == expected
    assert linted(RETRIED) == expected
    namespace: dict[str, object] = {}
    exec(RETRIED, namespace)
    wf = namespace["wf"]
    assert isinstance(wf, Workflow)
    [problem] = wf.check()
    assert "retry= and timeout=" in problem.message


def test_well_used_asks_and_durable_false_are_fine_in_both_front_ends() -> None:
    namespace: dict[str, object] = {}
    exec(FINE, namespace)
    wf = namespace["wf"]
    assert isinstance(wf, Workflow)
    assert wf.check() == ()
    assert linted(FINE) == []


def test_ask_and_durable_take_booleans() -> None:
    wf = Workflow("bad")
    with pytest.raises(TypeError, match=r"ask= takes True or False, not 'yes'"):
        wf.step(ask="yes")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"durable= takes True or False"):
        wf.step(durable=None)  # type: ignore[call-overload]
