"""The exceptions spectra-dsl raises, one class each, carrying structured data."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compiler import Diagnostic, Findings, format_diagnostics

from ._timeline import built, failed_timeline
from ._trace import dumps, failed_trace
from .events import Event


class SpectraError(Exception):
    """Base class of every error spectra-dsl raises."""


class SpectraWarning(UserWarning):
    """A compile warning (SPX003, SPX103, ...) issued through :mod:`warnings`.

    ``Workflow.compile()`` issues one per warning finding, besides keeping them on
    ``plan.diagnostics``, so pytest shows them and ``-W error::spectra_dsl.SpectraWarning``
    makes them fatal.  ``diagnostic`` is the finding itself.
    """

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class CompileError(Findings, SpectraError):
    """A workflow has errors; ``diagnostics`` holds every finding, errors and warnings."""

    def __init__(self, workflow: str, diagnostics: Sequence[Diagnostic]) -> None:
        self.workflow = workflow
        self.diagnostics = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.is_error]
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(
            f"workflow '{workflow}' has {len(errors)} {noun}:\n"
            + format_diagnostics(list(self.diagnostics))
        )


class InputError(SpectraError, ValueError):
    """The inputs given to a run are missing required names or contain unknown ones.

    ``missing`` maps each missing input to the steps that need it; ``unknown`` lists
    the names no step reads; ``near`` maps an unknown name that is a near miss to the
    name it is close to and what that is (``"an input of step 'filter'"``).
    """

    def __init__(
        self, workflow: str, missing: Mapping[str, Sequence[str]], unknown: Sequence[str],
        expected: Sequence[str], written: Mapping[str, Sequence[str]] | None = None,
        near: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.workflow = workflow
        self.missing = {k: tuple(v) for k, v in missing.items()}
        self.unknown = tuple(unknown)
        self.near = dict(near or {})
        written = written or {}
        given_for = {close: name for name, (close, _) in self.near.items()}
        lines = [f"workflow '{workflow}' cannot start:"]
        for name, steps in self.missing.items():
            needed = ", ".join(f"'{s}'" for s in steps)
            line = f"  missing input '{name}', needed by step {needed}"
            if name in given_for:
                line += f" (was it given as '{given_for[name]}'?)"
            lines.append(line)
        for name in self.unknown:
            if name in written:
                by = ", ".join(f"'{s}'" for s in written[name])
                lines.append(f"  '{name}' is not an input: step {by} writes it; leave it out")
            elif name in self.near:
                close, what = self.near[name]
                lines.append(f"  unknown input '{name}': no step reads it; did you mean "
                             f"'{close}'? ({what})")
            else:
                lines.append(f"  unknown input '{name}': no step reads it")
        accepted = ", ".join(f"'{e}'" for e in expected) or "none"
        lines.append(f"  inputs it takes: {accepted}")
        super().__init__("\n".join(lines))


class StepFailed(SpectraError):
    """A step raised; the run was cancelled.

    ``step`` is the first step that failed and ``__cause__`` its exception;
    ``failures`` maps every step that failed (that one included) to its exception.
    ``item`` is the index of the element whose call failed, for a mapped step (``None``
    for an unmapped one, or when the mapped step failed before any call).
    """

    def __init__(
        self, step: str, failures: Mapping[str, BaseException], item: int | None = None
    ) -> None:
        self.step = step
        self.failures = dict(failures)
        self.item = item
        cause = self.failures[step]
        where = "" if item is None else f" on element {item}"
        message = f"step '{step}' failed{where}: {_describe(cause)}"
        others = [f"'{name}' ({_describe(exc)})"
                  for name, exc in self.failures.items() if name != step]
        if others:
            message += "; also failed: " + ", ".join(others)
        super().__init__(message)

    #: The run's event log up to the failure, set by the run that raises it.
    _log: list[Any] | None = None
    #: The id of the failed run in its store (``None`` for a run with no store): resume
    #: it with ``plan.resume(error.run_id, store=store)``.
    run_id: str | None = None

    @property
    def events(self) -> list[Event]:
        """The events of the failed run up to its failure, in order (what
        ``RunResult.events`` would have held): a failed run's partial story."""
        return built(self._log) if self._log is not None else []

    def timeline(self, *, width: int = 40, ascii: bool = False) -> str:
        """The failed run's text Gantt chart so far (see ``RunResult.timeline``): the
        failing call is marked ``failed``, the calls it cancelled ``cancelled``."""
        return failed_timeline(self._log or [], width=width, ascii=ascii)

    def to_chrome_trace(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The failed run as Trace Event JSON (see ``RunResult.to_chrome_trace``);
        with ``path``, also written there."""
        document = failed_trace(self._log or [])
        if path is not None:
            Path(path).write_text(dumps(document), encoding="utf-8")
        return document


class StepOutputError(SpectraError, TypeError):
    """A step with several ``writes=`` keys returned something else than a mapping with
    exactly those keys."""

    def __init__(self, step: str, keys: Sequence[str], value: object) -> None:
        self.step = step
        self.keys = tuple(keys)
        wanted = ", ".join(repr(k) for k in keys)
        if not isinstance(value, Mapping):
            problem = f"it returned {type(value).__name__}"
        else:
            missing = [k for k in keys if k not in value]
            extra = [k for k in value if k not in keys]
            parts = []
            if missing:
                parts.append("no " + ", ".join(repr(k) for k in missing))
            if extra:
                parts.append("the extra keys " + ", ".join(repr(k) for k in extra))
            problem = "its mapping has " + " and ".join(parts)
        super().__init__(
            f"step '{step}' writes ({wanted}) so it must return a mapping with exactly "
            f"those keys, but {problem}"
        )


class StepTimeout(SpectraError, TimeoutError):
    """One attempt of a step ran longer than its ``timeout=``."""

    def __init__(self, step: str, attempt: int, timeout: float) -> None:
        self.step = step
        self.attempt = attempt
        self.timeout = timeout
        super().__init__(
            f"step '{step}' attempt {attempt} took longer than its timeout of {timeout:g} s"
        )


class LoopLimitExceeded(StepFailed):
    """A loop reached ``max_iterations`` without its ``until`` guard holding.

    ``iterations`` passes ran; ``last_state`` is the final state of the last pass.
    Use ``Repeat(on_limit="stop")`` to keep the last pass instead.
    """

    def __init__(self, step: str, iterations: int, last_state: Mapping[str, object]) -> None:
        self.iterations = iterations
        self.last_state = dict(last_state)
        # The loop step's own failure is this error: its message is the reason itself,
        # with no exception type in front of it.
        self.step = step
        self.failures = {step: self}
        SpectraError.__init__(
            self,
            f"loop '{step}' ran {iterations} passes (its max_iterations) and its until "
            "guard never held; raise max_iterations, fix until, or use "
            "Repeat(on_limit='stop') to keep the last pass"
        )
        #: Which run's loop step raised it (set by the runner).
        self.origin: object = None


class ReducerError(SpectraError):
    """A reducer raised while folding ``step``'s write into ``key``."""

    def __init__(self, key: str, reducer: str, error: Exception, step: str) -> None:
        self.key = key
        self.reducer = reducer
        self.step = step
        super().__init__(
            f"reducer {reducer} of key '{key}' raised {_describe(error)} on the write of "
            f"step '{step}'; a reducer takes (acc, value) and returns the new acc (give "
            "initial= when the first write is not an acc)"
        )


class EventHandlerError(SpectraError):
    """The ``on_event`` callback raised; the run was stopped.  ``event`` is the event it
    was given and ``__cause__`` what it raised."""

    def __init__(self, event: object, error: Exception) -> None:
        self.event = event
        super().__init__(
            f"the on_event callback raised {_describe(error)} on {event!r}; the run was "
            "stopped (a callback must not raise: catch errors inside it)"
        )


def _describe(error: BaseException) -> str:
    """``ValueError: message``, or just ``ValueError`` when the message is empty (or when
    the exception's ``__str__`` itself raises: the failure must not be hidden)."""
    name = type(error).__name__
    try:
        message = str(error)
    except Exception as broken:
        return f"{name} (its message could not be read: __str__ raised {type(broken).__name__})"
    return f"{name}: {message}" if message else name
