"""spectra-lint reads ``executor=`` like the runtime does; a name it cannot read is
SPX902, like any other option it cannot follow."""

from __future__ import annotations

from compiler.lint import lint_source

SOURCE = '''
from spectra_dsl import Workflow

CPU = "cpu"


def pick() -> str:
    return "cpu"


wf = Workflow("bound")


@wf.step(executor="cpu")
def a(x: int) -> int:
    return x


@wf.step(executor=CPU)
def b(a: int) -> int:
    return a


@wf.step(executor=pick())
def c(b: int) -> int:
    return b

'''


def test_executor_names_are_read_and_a_non_literal_is_spx902() -> None:
    found = lint_source(SOURCE, "bound.py")
    assert [(d.code, d.steps) for d in found] == [("SPX902", ("c",))]
    (finding,) = found
    assert "executor=pick() is not followed" in finding.message
