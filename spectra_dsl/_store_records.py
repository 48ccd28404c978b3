"""What a store holds: one record per run, one per step call, and a run's lease.

Records are frozen.  Values are kept *encoded* (bytes from the store's codec): listing
runs or steps never unpickles anything; ``store.values(record)`` decodes on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple, get_args

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
    if type(values) is tuple:  # as encode_values makes them: kept as they are
        return values
    items = values.items() if isinstance(values, Mapping) else values
    return tuple((str(k), bytes(v)) for k, v in items)


class Pairs(tuple[tuple[str, str], ...]):
    """``(name, fingerprint)`` pairs as a :class:`RunRecord` holds them: str, sorted.
    Made once by :func:`pairs`; a record made or evolved from one keeps it as is."""

    __slots__ = ()


def pairs(values: Mapping[str, str] | Iterable[tuple[str, str]]) -> Pairs:
    """``values`` as sorted ``(str, str)`` pairs (as they are when already so)."""
    if type(values) is Pairs:
        return values
    items = values.items() if isinstance(values, Mapping) else values
    return Pairs(sorted((str(k), str(v)) for k, v in items))


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

    ``created`` is when it started and ``updated`` when its status, error or
    fingerprints last changed (step records and leases leave it alone: a run that ended
    a week ago was updated a week ago).

    ``inputs`` is the run's inputs encoded as one mapping (``store.inputs(run_id)``
    decodes it) with ``codec`` naming the codec that wrote every value of the run.
    ``plan_fingerprint`` and ``step_fingerprints`` (sorted ``(step, fingerprint)``
    pairs; nested steps named ``"sub/inner"``) tell whether the plan changed since.
    ``lease`` is the current owner (``None`` once released), ``error`` the failure text
    of a failed run.  ``outputs`` is what the run was asked for with ``outputs=``
    (``None``: the whole workflow); a resume runs the same part of the workflow.
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
        default=(), converter=pairs, repr=False)
    lease: Lease | None = None
    error: str | None = None
    outputs: tuple[str, ...] | None = None


class StepWrite(NamedTuple):
    """One step call's record as it is written: what :meth:`Store.record` returns and
    :meth:`Store.commit` takes (values already encoded).  A named tuple, immutable and
    cheap to make: one is written per step call on the run's hot path.  The store adds
    the run id, ``seq`` and ``updated``; :meth:`Store.steps` reads :class:`StepRecord`.
    """

    scope: tuple[str, ...]
    step: str
    item: int | None
    status: StepStatus
    attempt: int = 1
    values: Blobs = ()
    error: str | None = None
    payload: bytes | None = None

    @property
    def key(self) -> tuple[tuple[str, ...], str, int | None]:
        """``(scope, step, item)``: what identifies the call within its run."""
        return (self.scope, self.step, self.item)


class Finished:
    """The ``finished`` records of a group commit's steps (not mapped, first attempt)
    in columns: what a run's journal hands :meth:`Store._commit_group`, cheaper to make
    (and to collect) than one :class:`StepWrite` each.

    Record ``i`` is ``steps[i]``, of scope ``scope`` (or ``scopes[i]`` when the
    records are of several scopes); its values are the next ``counts[i]`` (1 when
    ``counts`` is ``None``) of ``keys`` and ``blobs`` (encoded)."""

    __slots__ = ("blobs", "counts", "keys", "scope", "scopes", "steps")

    def __init__(self) -> None:
        self.scope: tuple[str, ...] = ()
        self.scopes: list[tuple[str, ...]] | None = None
        self.steps: list[str] = []
        self.counts: list[int] | None = None
        self.keys: list[str] = []
        self.blobs: list[bytes] = []

    def __len__(self) -> int:
        return len(self.steps)

    def writes(self) -> list[StepWrite]:
        """The records as :class:`StepWrite` (in order)."""
        count = len(self.steps)
        scopes = self.scopes or [self.scope] * count
        counts = self.counts or [1] * count
        values = list(zip(self.keys, self.blobs, strict=True))
        found = []
        at = 0
        for scope, step, n in zip(scopes, self.steps, counts, strict=True):
            found.append(StepWrite(scope, step, None, "finished", 1, tuple(values[at:at + n])))
            at += n
        return found


@attrs.frozen
class StepRecord:
    """The latest state of one step call, keyed by ``(run_id, scope, step, item)``.

    ``scope`` is the path of sub-workflow steps the call happened inside (``()`` at the
    top level; names as in events, e.g. ``("review", "loop#2")``); ``item`` the element
    index of a mapped call (``None`` otherwise).  ``attempt`` counts from 1.
    ``values`` holds the encoded values by key (what it wrote when ``finished`` or
    ``answered``), ``error`` the failure text, ``payload`` the encoded question of an
    ask.  ``seq`` is the commit order within the run and ``updated`` the wall time of
    the commit.  :meth:`Store.commit` also takes these (to copy a run's records).
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

    def __attrs_post_init__(self) -> None:
        check_write(self.scope, self.step, self.item, self.status, self.attempt)

    @property
    def key(self) -> tuple[tuple[str, ...], str, int | None]:
        """``(scope, step, item)``: what identifies the call within its run."""
        return (self.scope, self.step, self.item)

    def as_write(self) -> StepWrite:
        """The record as :meth:`Store.commit` writes it (without run id, seq, time)."""
        return StepWrite(self.scope, self.step, self.item, self.status, self.attempt,
                         self.values, self.error, self.payload)


_STEP_SET = frozenset(STEP_STATUSES)


def check_write(scope: tuple[str, ...], step: str, item: object, status: str,
                attempt: object) -> None:
    """Refuse a record the store could not key exactly (``ValueError`` naming why)."""
    if status not in _STEP_SET:
        check_status(status, STEP_STATUSES, "a step record's status")
    if type(step) is not str or not step:
        raise ValueError(f"a step record's step must be a non-empty str, not {step!r}")
    for name in scope:
        if type(name) is not str or not name or "/" in name:
            raise ValueError(
                f"scope {scope!r} of step '{step}' has the name {name!r}: scope names "
                "must be non-empty str and contain no '/'")
    if item is not None and (type(item) is not int or item < 0):
        raise ValueError(
            f"item of step '{step}' must be an element index (int >= 0) or None, "
            f"not {item!r}")
    if type(attempt) is not int or attempt < 1:
        raise ValueError(f"attempt of step '{step}' must be an int >= 1, not {attempt!r}")


def call_key(run_id: str, scope: tuple[str, ...], step: str, item: int | None) -> str:
    """The stable key of one step call, the same for every attempt and every resume:
    ``"o-42/charge"``, ``"o-42/review/loop#2/page[3]"`` (what ``current_step().key``
    gives, to pass as an idempotency key to outside services)."""
    path = "/".join((run_id, *scope, step))
    return path if item is None else f"{path}[{item}]"


def scope_text(scope: tuple[str, ...]) -> str:
    """A scope as stored: its names joined by ``/`` (``""`` at the top level)."""
    return "/".join(scope)


def opened_by(name: str) -> str:
    """The sub-workflow step a scope name was opened by: ``"review"`` for
    ``"review"``, a loop's pass ``"refine#2"`` and a mapped element ``"check[3]"``."""
    return name.split("#", 1)[0].split("[", 1)[0]


def scope_from_text(text: str) -> tuple[str, ...]:
    """The inverse of :func:`scope_text`."""
    return tuple(text.split("/")) if text else ()


def check_status(status: str, allowed: tuple[str, ...], what: str) -> None:
    """Raise ``ValueError`` naming the allowed values when ``status`` is not one."""
    if status not in allowed:
        options = ", ".join(repr(s) for s in allowed)
        raise ValueError(f"{what} must be one of {options}, not {status!r}")


def as_write(record: StepWrite | StepRecord, run_id: str) -> StepWrite:
    """``record`` as written; a :class:`StepRecord` of another run is refused."""
    if type(record) is StepWrite:
        return record
    if type(record) is StepRecord:
        if record.run_id != run_id:
            raise ValueError(f"a record of run '{record.run_id}' was given to commit() for "
                             f"run '{run_id}'")
        return record.as_write()
    raise TypeError(f"commit() takes what store.record() returns (or StepRecord), not "
                    f"{type(record).__name__}")


def new_run_id() -> str:
    """A fresh run id: UTC time to the second, then 8 random hex digits
    (``20261201T214003-1f2e3d4c``): sortable by start, unique in practice."""
    import secrets
    import time

    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)
