"""The spectra-dsl compiler: workflow IR, checks, diagnostics, lowering and spectra-lint.

It imports only attrs and the standard library (never trio, never ``spectra_dsl``), so
the same checks run from live functions and from source text alone.
"""

from ._diagnostics import CODES as CODES
from ._diagnostics import Code as Code
from ._diagnostics import Diagnostic as Diagnostic
from ._diagnostics import Findings as Findings
from ._diagnostics import Severity as Severity
from ._diagnostics import format_diagnostics as format_diagnostics
from ._draw_dot import draw_dot as draw_dot
from ._draw_mermaid import draw_mermaid as draw_mermaid
from ._graph import Needed as Needed
from ._graph import needed as needed
from ._graph import restrict as restrict
from ._ir import GuardSpec as GuardSpec
from ._ir import ParameterSpec as ParameterSpec
from ._ir import ParamKind as ParamKind
from ._ir import ReducerSpec as ReducerSpec
from ._ir import RepeatSpec as RepeatSpec
from ._ir import RetrySpec as RetrySpec
from ._ir import SourceLocation as SourceLocation
from ._ir import StepKind as StepKind
from ._ir import StepSpec as StepSpec
from ._ir import WorkflowSpec as WorkflowSpec
from ._lower import Compilation as Compilation
from ._lower import ExecutionGraph as ExecutionGraph
from ._lower import compile_workflow as compile_workflow
from ._types import TypeExpr as TypeExpr

__all__ = [
    "CODES", "Code", "Compilation", "Diagnostic", "ExecutionGraph", "Findings", "GuardSpec",
    "Needed", "ParamKind", "ParameterSpec", "ReducerSpec", "RepeatSpec", "RetrySpec",
    "Severity", "SourceLocation", "StepKind", "StepSpec", "TypeExpr", "WorkflowSpec",
    "compile_workflow", "draw_dot", "draw_mermaid", "format_diagnostics", "needed", "restrict",
]
