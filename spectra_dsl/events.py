"""Events a run emits, in the order they happen.

Every event has ``time`` (``trio.current_time()``, so tests on ``MockClock`` see exact
virtual times) and ``scope``: the path of sub-workflow steps it happened inside (empty
at the top level).  Together they answer which steps ran together, how long a batch
took, which branch failed and whether a join waited for all its inputs.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Event:
    """Base class of every event."""

    time: float


@attrs.frozen
class WorkflowStarted(Event):
    """A run began; ``inputs`` are the names of the inputs given."""

    workflow: str
    inputs: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()


@attrs.frozen
class WorkflowFinished(Event):
    """A run ended with every step finished or skipped."""

    workflow: str
    duration: float
    scope: tuple[str, ...] = ()


@attrs.frozen
class WorkflowFailed(Event):
    """A run ended because ``step`` failed with ``error``."""

    workflow: str
    step: str
    error: BaseException
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepReady(Event):
    """Every input of ``step`` is there; it starts now or waits for a free slot."""

    step: str
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepStarted(Event):
    """``step`` started; ``in_flight`` steps held a slot then, this one included (a step
    given its slot in the same instant may not have logged its own start yet)."""

    step: str
    in_flight: int
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepFinished(Event):
    """``step`` returned after ``duration`` seconds."""

    step: str
    duration: float
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepError(Event):
    """``step`` raised ``error``; the run is being cancelled.  (The run then raises the
    :class:`spectra_dsl.StepFailed` exception.)"""

    step: str
    error: BaseException
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepCancelled(Event):
    """``step`` was running when the run was cancelled."""

    step: str
    scope: tuple[str, ...] = ()


@attrs.frozen
class JoinReleased(Event):
    """A ``step`` with ``join=`` (every fan-in has one) was released: ``arrived``
    upstreams had finished, ``skipped`` were skipped, ``pending`` had neither (always
    empty for ``Join.ALL``)."""

    step: str
    join: str
    arrived: tuple[str, ...]
    pending: tuple[str, ...]
    skipped: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()


@attrs.frozen
class StateWritten(Event):
    """``step`` wrote ``key``; ``reducer`` names the reducer that folds it, if any."""

    key: str
    step: str
    reducer: str | None
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepSkipped(Event):
    """``step`` did not run, for ``reason``."""

    step: str
    reason: str
    scope: tuple[str, ...] = ()


@attrs.frozen
class LoopIteration(Event):
    """Pass number ``iteration`` (from 1) of loop ``step`` is starting."""

    step: str
    iteration: int
    scope: tuple[str, ...] = ()


@attrs.frozen
class RetryAttempt(Event):
    """Attempt ``attempt`` (from 2) of ``step`` starts after ``delay`` seconds, because
    the previous attempt failed with ``error``."""

    step: str
    attempt: int
    delay: float
    error: BaseException
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepTimedOut(Event):
    """Attempt ``attempt`` of ``step`` ran longer than ``timeout`` seconds."""

    step: str
    attempt: int
    timeout: float
    scope: tuple[str, ...] = ()
