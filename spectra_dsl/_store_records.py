"""What a store holds: one record per run, one per step call, and a run's lease.

Records are frozen.  Values are kept *encoded* (bytes from the store's codec): listing
runs or steps never unpickles anything; ``store.values(record)`` decodes on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

import attrs

#: A run's status: ``running`` (started or resumed and not ended; after a crash it stays
#: so, with a lease whose owner is dead), ``finished``, ``failed`` (a step failed or it
#: was cancelled) or ``interrupted`` (waiting for a person's answers).
RunStatus = Literal["running", "finished", "failed", "interrupted"]
RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)

#: A step call's status: ``started`` (in flight when the record was written: on resume it
#: runs again; its ``values`` may hold what it was called with, e.g. a ``Join.ANY``
#: winner), ``finished`` (``values`` holds what it wrote), ``failed`` (``error``),
#: ``asked`` (waiting for a person: ``payload``) or ``answered`` (``values`` holds the
#: answer as written, ``payload`` the question).
StepStatus = Literal["started", "finished", "failed", "asked", "answered"]
STEP_STATUSES: tuple[str, ...] = get_args(StepStatus)

#: Encoded values by key, in the order they were given.
Blobs = tuple[tuple[str, bytes], ...]


def _blobs(values: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> Blobs:
    items = values.items() if isinstance(values, Mapping) else values
    return tuple((str(k), bytes(v)) for k, v in items)


def _pairs(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = values.items() if isinstance(values, Mapping) else values
    return tuple(sorted((str(k), str(v)) for k, v in items))


@attrs.frozen
class Lease:
    """Who owns a run: one process (``pid`` on ``host``), one store object in it
    (``token``), since ``since`` (wall time, seconds since the epoch).

    ``started`` identifies the owning process beyond its pid (boot id and process start
    time where the system tells them, else ``None``) so that a reused pid is not taken
    for a live owner.
    """

    pid: int
    host: str
    token: str
    since: float
    started: str | None = None


@attrs.frozen
class RunRecord:
    """One run: its id, workflow, status and wall times, what it needs to resume.

    ``inputs`` is the run's inputs encoded as one mapping (``store.inputs(run_id)``
    decodes it) with ``codec`` naming the codec that wrote every value of the run.
    ``plan_fingerprint`` and ``step_fingerprints`` (sorted ``(step, fingerprint)``
    pairs; nested steps named ``"sub/inner"``) tell whether the plan changed since.
    ``lease`` is the current owner (``None`` once released), ``error`` the failure text
    of a failed run.
    """

    run_id: str
    workflow: str
    status: RunStatus
    created: float
    updated: float
    inputs: bytes = attrs.field(default=b"", repr=False)
    codec: str = "pickle"
    plan_fingerprint: str = ""
    step_fingerprints: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_pairs, repr=False)
    lease: Lease | None = None
    error: str | None = None


@attrs.frozen
class StepRecord:
    """The latest state of one step call, keyed by ``(run_id, scope, step, item)``.

    ``scope`` is the path of sub-workflow steps the call happened inside (``()`` at the
    top level; names as in events, e.g. ``("review", "loop#2")``); ``item`` the element
    index of a mapped call (``None`` otherwise).  ``attempt`` counts from 1.
    ``values`` holds the encoded values by key (what it wrote when ``finished`` or
    ``answered``), ``error`` the failure text, ``payload`` the encoded question of an
    ask.  ``seq`` is the commit order within the run and ``updated`` the wall time of
    the commit: both are set by the store (leave them out when writing).
    """

    run_id: str
    scope: tuple[str, ...]
    step: str
    item: int | None
    status: StepStatus
    attempt: int = 1
    values: Blobs = attrs.field(default=(), converter=_blobs, repr=False)
    error: str | None = None
    payload: bytes | None = attrs.field(default=None, repr=False)
    seq: int = 0
    updated: float = 0.0

    @property
    def key(self) -> tuple[tuple[str, ...], str, int | None]:
        """``(scope, step, item)``: what identifies the call within its run."""
        return (self.scope, self.step, self.item)


def scope_text(scope: tuple[str, ...]) -> str:
    """A scope as stored: its names joined by ``/`` (``""`` at the top level)."""
    return "/".join(scope)


def scope_from_text(text: str) -> tuple[str, ...]:
    """The inverse of :func:`scope_text`."""
    return tuple(text.split("/")) if text else ()


def check_status(status: str, allowed: tuple[str, ...], what: str) -> None:
    """Raise ``ValueError`` naming the allowed values when ``status`` is not one."""
    if status not in allowed:
        options = ", ".join(repr(s) for s in allowed)
        raise ValueError(f"{what} must be one of {options}, not {status!r}")


def check_record(record: StepRecord, run_id: str) -> None:
    """Refuse a record the store could not key exactly (``ValueError`` naming why)."""
    if not isinstance(record, StepRecord):
        raise TypeError(f"commit() takes StepRecord objects, not {type(record).__name__}")
    if record.run_id != run_id:
        raise ValueError(
            f"a record of run '{record.run_id}' was given to commit() for run '{run_id}'")
    check_status(record.status, STEP_STATUSES, "a step record's status")
    for name in record.scope:
        if not name or "/" in name:
            raise ValueError(
                f"scope {record.scope!r} of step '{record.step}' has the name {name!r}: "
                "scope names must be non-empty and contain no '/'")
    if record.item is not None and (type(record.item) is not int or record.item < 0):
        raise ValueError(
            f"item of step '{record.step}' must be an element index (int >= 0) or None, "
            f"not {record.item!r}")
    if type(record.attempt) is not int or record.attempt < 1:
        raise ValueError(
            f"attempt of step '{record.step}' must be an int >= 1, not {record.attempt!r}")


def new_run_id() -> str:
    """A fresh run id: UTC time to the second, then 8 random hex digits
    (``20261201T214003-1f2e3d4c``): sortable by start, unique in practice."""
    import secrets
    import time

    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)
