"""Diagnostics: what the passes find, with a stable code, a severity and a location."""

from __future__ import annotations

import enum

import attrs

from ._ir import SourceLocation


class Severity(str, enum.Enum):
    """How bad a finding is: an error stops compilation, a warning does not."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Code:
    """A diagnostic code: its number, its kebab-case name, severity and a summary."""

    code: str
    name: str
    severity: Severity
    summary: str


_ERROR, _WARNING = Severity.ERROR, Severity.WARNING

#: Every code, in order.  A code never changes meaning; new checks get new codes.
CODES: dict[str, Code] = {
    c.code: c
    for c in (
        Code("SPX001", "invalid-step", _ERROR,
             "two steps with one name, or an invalid step definition"),
        Code("SPX002", "cycle", _ERROR, "a cycle (the message lists its path)"),
        Code("SPX003", "near-miss-input", _WARNING,
             "a parameter taken as a workflow input is a near miss of a step or key name"),
        Code("SPX004", "unknown-name", _ERROR,
             "a parameter that is neither a step, a key nor a declared input"),
        Code("SPX005", "unknown-after", _ERROR, "after= names no step of the workflow"),
        Code("SPX101", "forgotten-join", _ERROR, "a fan-in step with no join="),
        Code("SPX102", "any-join-without-default", _ERROR,
             "a join=any step with a parameter fed by a branch tip that has no default"),
        Code("SPX103", "needless-join", _WARNING, "join= on a step that is no fan-in"),
        Code("SPX104", "unreachable-step", _WARNING,
             "a step that can never run: it needs the outputs of two mutually exclusive "
             "steps with no default for either"),
        Code("SPX201", "racing-writers", _ERROR,
             "concurrent writers of one key with no reducer"),
        Code("SPX202", "unused-reducer", _WARNING, "a reducer for a key that no step writes"),
        Code("SPX301", "type-mismatch", _WARNING,
             "a producer's return annotation does not fit a consumer's parameter"),
        Code("SPX401", "unbounded-loop", _ERROR,
             "a Repeat with no max_iterations, or a non-positive one"),
        Code("SPX402", "loop-until-unwritten", _ERROR,
             "a loop whose until reads a key its body never writes"),
        Code("SPX403", "invalid-retry", _ERROR, "invalid retry or timeout settings"),
        Code("SPX501", "invalid-map", _ERROR,
             "map= names no parameter of the step (or input of the sub-workflow), or is "
             "empty"),
        Code("SPX502", "unmappable-value", _WARNING,
             "the mapped value is not iterable, is a str or bytes, or its elements do not "
             "fit the mapped parameter"),
        Code("SPX503", "invalid-concurrency", _ERROR,
             "concurrency= that is not a whole number of at least 1"),
        Code("SPX601", "ask-in-race", _ERROR,
             "an ask step that is a Join.ANY branch tip (an answer that may never be "
             "waited for)"),
        Code("SPX602", "retried-ask", _ERROR,
             "ask=True on a step that also has retry= or timeout= (a person is not "
             "retried)"),
        Code("SPX901", "unreadable-file", _ERROR, "(lint) a file that cannot be read or parsed"),
        Code("SPX902", "not-followed", _WARNING,
             "(lint) a workflow built in a way the static check cannot follow"),
    )
}


@attrs.frozen
class Diagnostic:
    """One finding.

    ``steps`` are the steps involved (first the one the finding is about), ``key`` the
    state key if any, ``location`` where to look (the ``def`` of the first step).
    """

    code: str
    message: str
    steps: tuple[str, ...] = ()
    key: str | None = None
    location: SourceLocation | None = None
    workflow: str | None = None

    @property
    def severity(self) -> Severity:
        """The code's severity."""
        return CODES[self.code].severity

    @property
    def name(self) -> str:
        """The code's kebab-case name, such as ``forgotten-join``."""
        return CODES[self.code].name

    @property
    def is_error(self) -> bool:
        """True for errors, False for warnings."""
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order by file, line, column, code, message."""
        loc = self.location
        if loc is None:
            return ("", 0, 0, self.code, self.message)
        return (loc.file, loc.line, loc.column, self.code, self.message)

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location is not None else ""
        return f"{where}{self.code} {self.message}"


class Findings:
    """Mixin for anything holding ``diagnostics``: its ``errors`` and ``warnings``."""

    __slots__ = ()
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The findings of error severity: they stop compilation."""
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The findings of warning severity."""
        return tuple(d for d in self.diagnostics if not d.is_error)


def format_diagnostics(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> str:
    """One line per finding, sorted, for messages and the text report."""
    return "\n".join(str(d) for d in sorted(diagnostics, key=Diagnostic.sort_key))
