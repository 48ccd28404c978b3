"""The intermediate representation both front ends fill and every pass reads.

The IR records facts as the user wrote them, not yet judged: a parameter's kind,
the raw ``join=`` value, the keys of ``writes=``.  The passes decide what is wrong,
so the runtime front end (live functions) and the static front end (source text)
get the same findings for the same mistake.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from ._types import TypeExpr


class ParamKind(str, enum.Enum):
    """A parameter's kind, named after the :class:`inspect.Parameter` kinds."""

    POSITIONAL_ONLY = "positional-only"
    POSITIONAL_OR_KEYWORD = "positional-or-keyword"
    VAR_POSITIONAL = "var-positional"
    KEYWORD_ONLY = "keyword-only"
    VAR_KEYWORD = "var-keyword"

    def __str__(self) -> str:
        return self.value


class StepKind(str, enum.Enum):
    """What the object marked as a step is: only an async or plain function can run."""

    ASYNC_FUNCTION = "async function"
    SYNC_FUNCTION = "function"
    ASYNC_GENERATOR = "async generator"
    GENERATOR = "generator"
    CLASS = "class"
    SUBWORKFLOW = "sub-workflow"
    OTHER = "object"

    def __str__(self) -> str:
        return self.value


# The module-level names the front ends used before the enums: aliases of the members.
POSITIONAL_ONLY = ParamKind.POSITIONAL_ONLY
POSITIONAL_OR_KEYWORD = ParamKind.POSITIONAL_OR_KEYWORD
VAR_POSITIONAL = ParamKind.VAR_POSITIONAL
KEYWORD_ONLY = ParamKind.KEYWORD_ONLY
VAR_KEYWORD = ParamKind.VAR_KEYWORD
ASYNC_FUNCTION = StepKind.ASYNC_FUNCTION
SYNC_FUNCTION = StepKind.SYNC_FUNCTION
ASYNC_GENERATOR = StepKind.ASYNC_GENERATOR
GENERATOR = StepKind.GENERATOR
CLASS = StepKind.CLASS
SUBWORKFLOW = StepKind.SUBWORKFLOW
OTHER = StepKind.OTHER


def _param_kind(value: ParamKind | str) -> ParamKind:
    return value if type(value) is ParamKind else ParamKind(value)


def _step_kind(value: StepKind | str) -> StepKind:
    return value if type(value) is StepKind else StepKind(value)


@attrs.frozen
class SourceLocation:
    """Where a step is defined: file, 1-based line and 1-based column of its ``def``."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@attrs.frozen
class ParameterSpec:
    """One parameter of a step, as the signature declares it."""

    name: str
    kind: ParamKind = attrs.field(default=ParamKind.POSITIONAL_OR_KEYWORD,
                                  converter=_param_kind)
    has_default: bool = False
    annotation: TypeExpr | None = None


@attrs.frozen
class GuardSpec:
    """A ``when=`` guard.

    ``reads`` are the keys the guard depends on.  ``matches`` holds the
    ``(key, value)`` pairs of a ``match(...)`` guard (``None`` for a plain callable);
    a value that is a ``frozenset`` is a value set (the key holds one of them), any
    other value is compared by equality, so the compiler can tell exclusive branches
    apart.  ``negated`` is True for ``~match(...)``: the guard holds when the match
    does not (and, like every guard, not when a key it reads was never written).
    ``name`` is a callable guard's name (``"<lambda>"`` for a lambda), for drawings.
    """

    reads: tuple[str, ...]
    matches: tuple[tuple[str, object], ...] | None = None
    negated: bool = False
    name: str | None = None


@attrs.frozen
class RetrySpec:
    """The facts of a ``Retry(...)`` as written; SPX403 judges them."""

    attempts: object = 3
    backoff: object = 1.0
    factor: object = 2.0
    jitter: object = 0.0


@attrs.frozen
class RepeatSpec:
    """The facts of a ``Repeat(...)`` as written; SPX401/SPX402 judge them."""

    until_reads: tuple[str, ...] = ()
    max_iterations: object = None
    carry: tuple[tuple[str, str], ...] = ()
    on_limit: str = "raise"


@attrs.frozen
class StepSpec:
    """One step: its name, what it reads, what it writes and how it joins.

    ``join`` is the raw value the user gave (``None`` when not given); the join pass
    checks that it is ``"all"`` or ``"any"``.  ``writes`` is ``None`` when the step
    writes its own name.

    ``map`` is ``None`` for an unmapped step, else the names of the parameters (or,
    for a sub-workflow, its inputs) mapped over, as given (``map="p"`` is ``("p",)``;
    SPX501 judges them).  ``concurrency`` is the raw ``concurrency=`` value (``None``
    when not given).  ``after`` holds the raw names of ``after=``: steps this one runs
    after without reading their values (SPX005 judges them).
    """

    name: str
    params: tuple[ParameterSpec, ...] = ()
    writes: tuple[str, ...] | None = None
    join: object = None
    kind: StepKind = attrs.field(default=StepKind.ASYNC_FUNCTION, converter=_step_kind)
    location: SourceLocation | None = None
    returns: TypeExpr | None = None
    guard: GuardSpec | None = None
    retry: RetrySpec | None = None
    timeout: object = None
    body: WorkflowSpec | None = None
    repeat: RepeatSpec | None = None
    writes_mapping: tuple[tuple[str, str], ...] | None = None
    #: Keys of a TypedDict return annotation, for multi-key writers (SPX301).
    returns_fields: Mapping[str, TypeExpr] | None = None
    map: tuple[str, ...] | None = None
    concurrency: object = None
    after: tuple[str, ...] = ()
    #: ``ask=`` and ``durable=`` as given (SPX601/SPX602 read ``ask``).
    ask: object = False
    durable: object = True
    #: The name given by ``executor=`` (bound when the workflow runs), or None.
    executor: str | None = None

    @property
    def keys_written(self) -> tuple[str, ...]:
        """The state keys this step writes."""
        return (self.name,) if self.writes is None else self.writes


@attrs.frozen
class ReducerSpec:
    """A reducer registered for a key; ``result`` is its return annotation if known."""

    key: str
    name: str
    has_initial: bool = False
    result: TypeExpr | None = None
    location: SourceLocation | None = None


@attrs.frozen
class WorkflowSpec:
    """A whole workflow: its steps in declaration order, inputs and reducers."""

    name: str
    steps: tuple[StepSpec, ...]
    inputs: tuple[str, ...] | None = None
    reducers: tuple[ReducerSpec, ...] = ()
    location: SourceLocation | None = None
