"""Events a run emits, in the order they happen.

Every event has ``time`` (``trio.current_time()``, so tests on ``MockClock`` see exact
virtual times) and ``scope``: the path of sub-workflow steps it happened inside (empty
at the top level).  Together they answer which steps ran together, how long a batch
took, which branch failed and whether a join waited for all its inputs.

The events of one call of a step carry ``item``: ``None`` for an unmapped step, the
element's index (from 0) for a call of a mapped step (``@step(map=...)``), which also
reports :class:`MapStarted` (with the element count) and :class:`MapFinished`.
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
    item: int | None = None


@attrs.frozen
class StepStarted(Event):
    """``step`` started; ``in_flight`` steps held a slot then, this one included (a step
    given its slot in the same instant may not have logged its own start yet)."""

    step: str
    in_flight: int
    scope: tuple[str, ...] = ()
    item: int | None = None


@attrs.frozen
class StepFinished(Event):
    """``step`` returned ``value`` after ``duration`` seconds.

    For a mapped step each call reports its own (``item`` is the element's index and
    ``value`` that call's result), then the step reports once more with ``item`` None
    and ``value`` the list of results in element order.  ``value`` is what the step
    returned, before any reducer folded it into the state.
    """

    step: str
    duration: float
    scope: tuple[str, ...] = ()
    value: object = None
    item: int | None = None


@attrs.frozen
class StepError(Event):
    """``step`` raised ``error``; the run is being cancelled.  (The run then raises the
    :class:`spectra_dsl.StepFailed` exception.)"""

    step: str
    error: BaseException
    scope: tuple[str, ...] = ()
    item: int | None = None


@attrs.frozen
class StepCancelled(Event):
    """``step`` was running when the run was cancelled."""

    step: str
    scope: tuple[str, ...] = ()
    item: int | None = None


@attrs.frozen
class MapStarted(Event):
    """Mapped ``step`` is starting one call per element: ``count`` elements (0: no
    call; its value is ``[]``)."""

    step: str
    count: int
    scope: tuple[str, ...] = ()


@attrs.frozen
class MapFinished(Event):
    """Every call of mapped ``step`` returned: ``count`` calls over ``duration``
    seconds from :class:`MapStarted`.  (Its :class:`StepFinished` with ``item`` None
    follows.)"""

    step: str
    count: int
    duration: float
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
    item: int | None = None


@attrs.frozen
class StepTimedOut(Event):
    """Attempt ``attempt`` of ``step`` ran longer than ``timeout`` seconds."""

    step: str
    attempt: int
    timeout: float
    scope: tuple[str, ...] = ()
    item: int | None = None

@attrs.frozen
class RunResumed(Event):
    """A stored run was resumed: ``restored`` step records will be read back instead of
    calling their steps; ``rerun`` steps had their records dropped (``rerun=`` or
    ``on_code_change="rerun"``); ``answers`` names the asks answered by this resume."""

    workflow: str
    run_id: str
    restored: int
    rerun: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    scope: tuple[str, ...] = ()


@attrs.frozen
class StepRestored(Event):
    """``step`` was not called: its record was read back from the store.  ``status`` is
    ``"finished"`` (its value was written again), ``"answered"`` (an ask's stored or
    newly given answer) or ``"asked"`` (an ask still waiting for its answer)."""

    step: str
    status: str = "finished"
    scope: tuple[str, ...] = ()
    item: int | None = None


@attrs.frozen
class StepAsked(Event):
    """An ask step returned its question (``payload``); its readers wait for the
    answer (from ``on_ask``, or from a later ``plan.resume(..., answers=...)``)."""

    step: str
    payload: object = attrs.field(default=None, repr=False)
    scope: tuple[str, ...] = ()
