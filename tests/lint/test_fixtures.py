"""spectra-lint on the fixture modules: exactly the findings their ``expect`` comments
name, at those lines; and the IR the static front end builds, fact by fact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler import _ir as ir
from compiler._types import TypeExpr
from compiler.lint import lint_paths, lint_source
from compiler.lint._engine import analyse_file
from compiler.lint._loader import Loader

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lint"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z0-9 ]+)")


def expected_findings(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, code) for every ``# expect: CODE ...`` comment under ``root``."""
    found: list[tuple[str, int, str]] = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                found.extend((str(path), number, code) for code in match["codes"].split())
    return sorted(found)


def test_fixture_findings_are_exactly_the_expected_ones() -> None:
    result = lint_paths([str(FIXTURES)])
    got = sorted(
        (d.location.file, d.location.line, d.code)
        for d in result.diagnostics
        if d.location is not None
    )
    assert got == expected_findings(FIXTURES)
    assert result.internal_errors == ()
    assert result.suppressed == 2  # in noqa.py: on the def line, on a decorator line


def test_clean_workflow_lints_clean() -> None:
    assert lint_paths([str(FIXTURES / "clean_parallel.py")]).diagnostics == ()


def _spec(name: str, workflow: int = 0) -> ir.WorkflowSpec:
    result = analyse_file(str(FIXTURES / name), Loader())
    return result.workflows[workflow].spec


def test_ir_of_the_design_example() -> None:
    spec = _spec("clean_parallel.py")
    path = str(FIXTURES / "clean_parallel.py")
    assert spec.name == "parallel-analysis"
    assert spec.inputs is None
    assert spec.location == ir.SourceLocation(path, 5, 1)
    assert [s.name for s in spec.steps] == ["fetch", "sentiment", "entities", "merge"]
    fetch, _, entities, merge = spec.steps
    assert fetch.location == ir.SourceLocation(path, 9, 1)
    assert fetch.kind == ir.ASYNC_FUNCTION
    assert fetch.params == (
        ir.ParameterSpec("url", ir.POSITIONAL_OR_KEYWORD, False, TypeExpr("str")),
    )
    assert entities.returns == TypeExpr("list", (TypeExpr("str"),))
    assert merge.join == "all"
    assert merge.writes is None


def test_constants_and_list_order_are_followed() -> None:
    spec = _spec("constants.py")
    assert spec.name == "constants"
    assert [s.name for s in spec.steps] == [
        "split-it", "summarize_title", "summarize_body", "publish"]
    assert spec.steps[0].writes == ("title", "body")
    assert spec.steps[3].join == "all"
    assert [(r.key, r.name) for r in spec.reducers] == [("summary", "last_write_wins")]


def test_reducers_in_order_with_locations() -> None:
    spec = _spec("racing_writers.py")
    path = str(FIXTURES / "racing_writers.py")
    assert [(r.key, r.name, r.has_initial, r.location) for r in spec.reducers] == [
        ("issues", "extend", True, ir.SourceLocation(path, 27, 1)),
        ("isues", "extend", True, ir.SourceLocation(path, 27, 1)),
        ("warnings", "append", True, ir.SourceLocation(path, 32, 1)),
    ]


def test_steps_imported_from_a_sibling_module_keep_their_location() -> None:
    spec = _spec("lint_pkg/flow.py")
    assert [s.name for s in spec.steps] == ["fetch", "left", "right", "combine"]
    combine = spec.steps[3]
    assert combine.location is not None
    assert Path(combine.location.file) == FIXTURES / "lint_pkg" / "steps.py"
    assert combine.location.line == 22


def test_typed_dict_fields_are_read() -> None:
    spec = _spec("types_and_names.py")
    count = spec.steps[1]
    assert count.returns_fields == {"words": TypeExpr("int"), "lines": TypeExpr("int")}


SOURCE_HEADER = "from spectra_dsl import Join, Workflow, step, reducers\n"


def codes(source: str) -> list[tuple[int, str]]:
    return [(d.location.line if d.location else 0, d.code)
            for d in lint_source(SOURCE_HEADER + source, "mod.py")]


def test_parameter_kinds_and_defaults() -> None:
    source = (
        "wf = Workflow('w')\n"
        "@wf.step\n"
        "def s(a, /, b=1, *c, d, e=2, **f): ...\n"
    )
    result = analyse_file("mod.py", Loader(), SOURCE_HEADER + source)
    (step,) = result.workflows[0].spec.steps
    assert [(p.name, p.kind, p.has_default) for p in step.params] == [
        ("a", ir.POSITIONAL_ONLY, False), ("b", ir.POSITIONAL_OR_KEYWORD, True),
        ("c", ir.VAR_POSITIONAL, False), ("d", ir.KEYWORD_ONLY, False),
        ("e", ir.KEYWORD_ONLY, True), ("f", ir.VAR_KEYWORD, False),
    ]
    assert step.kind == ir.SYNC_FUNCTION


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("async def s():\n    yield 1\n", ir.ASYNC_GENERATOR),
        ("def s():\n    yield 1\n", ir.GENERATOR),
        ("def s():\n    def inner():\n        yield 1\n    return inner\n", ir.SYNC_FUNCTION),
        ("def s():\n    return (lambda: (yield))\n", ir.SYNC_FUNCTION),
        ("class s:\n    pass\n", ir.CLASS),
    ],
)
def test_step_kinds(body: str, kind: str) -> None:
    source = SOURCE_HEADER + "wf = Workflow('w')\n@wf.step\n" + body
    (step,) = analyse_file("mod.py", Loader(), source).workflows[0].spec.steps
    assert step.kind == kind


def test_decorator_location_is_the_def_line_and_column() -> None:
    source = "wf = Workflow('w')\n@wf.step(\n    name='x',\n)\nasync def s(): ...\n"
    (step,) = analyse_file("mod.py", Loader(), SOURCE_HEADER + source).workflows[0].spec.steps
    assert step.location == ir.SourceLocation("mod.py", 6, 1)
    assert step.name == "x"


@pytest.mark.parametrize(
    ("writes", "expected"),
    [("'k'", ("k",)), ("('a', 'b')", ("a", "b")), ("['a', 1]", ("a", 1)), ("None", None),
     ("7", (7,))],
)
def test_writes_values(writes: str, expected: object) -> None:
    source = f"wf = Workflow('w')\n@wf.step(writes={writes})\nasync def s(): ...\n"
    (step,) = analyse_file("mod.py", Loader(), SOURCE_HEADER + source).workflows[0].spec.steps
    assert step.writes == expected


def test_unfollowed_join_is_reported_once_and_checked_as_all() -> None:
    source = (
        "wf = Workflow('w')\n"
        "@wf.step\nasync def a(x: int) -> int: ...\n"
        "@wf.step(join=pick())\nasync def b(a: int) -> int: ...\n"
    )
    # no SPX103 although b is no fan-in: only the SPX902 saying what was skipped
    assert codes(source) == [(6, "SPX902")]


def test_a_file_without_spectra_dsl_has_no_workflows() -> None:
    source = "class Workflow:\n    pass\nwf = Workflow('w')\n@wf.step\ndef s(): ...\n"
    assert lint_source(source, "mod.py") == ()
    assert analyse_file("mod.py", Loader(), source).workflows == ()


def test_module_alias_import() -> None:
    source = (
        "import spectra_dsl as sd\n"
        "wf = sd.Workflow('w')\n"
        "@wf.step(writes='k')\nasync def a(x: int) -> int: ...\n"
        "@wf.step(writes='k')\nasync def b(x: int) -> int: ...\n"
    )
    assert [d.code for d in lint_source(source, "mod.py")] == ["SPX201"]


def test_later_reducer_for_a_key_replaces_the_earlier() -> None:
    source = (
        "wf = Workflow('w', reducers={'k': reducers.append})\n"
        "wf.reducer('k', reducers.add, initial=0)\n"
    )
    spec = analyse_file("mod.py", Loader(), SOURCE_HEADER + source).workflows[0].spec
    assert [(r.key, r.name, r.has_initial) for r in spec.reducers] == [("k", "add", True)]


def test_wf_step_as_a_call() -> None:
    source = (
        "async def a(x: int) -> int: ...\n"
        "wf = Workflow('w')\n"
        "wf.step(a, join=Join.ANY)\n"
    )
    (step,) = analyse_file("mod.py", Loader(), SOURCE_HEADER + source).workflows[0].spec.steps
    assert (step.name, step.join) == ("a", "any")


def test_steps_registered_inside_a_function_are_named() -> None:
    source = (
        "wf = Workflow('w')\n"
        "def setup():\n"
        "    @wf.step\n"
        "    async def hidden(x: int) -> int: ...\n"
    )
    found = lint_source(SOURCE_HEADER + source, "mod.py")
    assert [(d.code, d.steps) for d in found] == [("SPX902", ("hidden",))]
