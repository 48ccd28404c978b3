"""The compiler's public surface: kinds as enums, type expressions, nothing private."""

from __future__ import annotations

import compiler
from compiler import ParameterSpec, ParamKind, StepKind, StepSpec, TypeExpr
from compiler import _ir as ir
from spectra_dsl import Workflow


def test_kinds_are_string_enums_and_the_old_names_are_their_members() -> None:
    assert ir.ASYNC_FUNCTION is StepKind.ASYNC_FUNCTION
    assert ir.POSITIONAL_ONLY is ParamKind.POSITIONAL_ONLY
    assert StepKind("function") is StepKind.SYNC_FUNCTION
    assert StepKind.SYNC_FUNCTION.value == "function"
    assert str(StepKind.SUBWORKFLOW) == "sub-workflow"
    assert f"{ParamKind.VAR_KEYWORD}" == "var-keyword"


def test_a_kind_given_as_text_is_read_as_the_enum() -> None:
    assert StepSpec("s", kind="generator").kind is StepKind.GENERATOR
    assert ParameterSpec("p", "keyword-only").kind is ParamKind.KEYWORD_ONLY


def test_type_expressions_from_text_and_from_live_objects_agree() -> None:
    assert TypeExpr.from_source("list[str] | None") == TypeExpr.from_runtime(list[str] | None)
    assert str(TypeExpr.from_runtime(dict[str, int])) == "dict[str, int]"


def test_the_runtime_front_end_records_kinds_as_enums() -> None:
    wf = Workflow("kinds")

    @wf.step
    def plain(x: int) -> int:
        return x

    step = wf.spec().steps[0]
    assert step.kind is StepKind.SYNC_FUNCTION
    assert step.params[0].kind is ParamKind.POSITIONAL_OR_KEYWORD
    assert {"StepKind", "ParamKind", "TypeExpr"} <= set(compiler.__all__)
