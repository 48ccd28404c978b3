"""What every store does, written once: :class:`Store` checks arguments, encodes and
decodes with the codec, decides leases and what to prune, and leaves each backend
(SQLite, memory) a few atomic primitives.
"""

from __future__ import annotations

import abc
import functools
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from ._store_codec import (
    PICKLE_PROTOCOL,
    Codec,
    PickleCodec,
    decode_value,
    encode_inputs,
    encode_value,
    encode_values,
)
from ._store_errors import ResumeError, StoreError
from ._store_fingerprint import CodeChanges, compare_fingerprints
from ._store_lease import check_free, new_lease, new_token, owner_alive, this_host
from ._store_records import (
    RUN_STATUSES,
    Blobs,
    Finished,
    Lease,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
    StepWrite,
    as_write,
    check_status,
    check_write,
    opened_by,
    pairs,
)

S = TypeVar("S", bound="Store")
#: A step of a run as ``discard`` takes it: ``(scope, step)``.
StepKey = tuple[tuple[str, ...], str]
#: A record's key within its run: ``(scope, step, item)``.
RecordKey = tuple[tuple[str, ...], str, int | None]

_MISSING: Any = object()
#: :class:`PickleCodec`'s ``encode`` without its method call.
_pickle_encode: Callable[[Any], bytes] = functools.partial(pickle.dumps,
                                                           protocol=PICKLE_PROTOCOL)


class Store(abc.ABC):
    """A journal of runs: what :meth:`Plan.run` and :meth:`Plan.resume` write and read.

    Every method is synchronous and short (one transaction): call it from the event
    loop's thread; it never awaits, so a run on ``MockClock`` keeps its exact virtual
    times.  A store object is one writer; several store objects (in one process or
    several) may share one file.  Use it as a context manager (``with`` or ``async
    with``): closing releases every lease it holds.

    Writing a run: :meth:`create_run` (takes its lease), :meth:`record` (encode a step's
    values; a value that cannot be stored raises ``SerializationError`` naming the step
    and key), :meth:`commit` (a batch of records, and the run's status, atomically),
    :meth:`release`.  Resuming: :meth:`acquire` (the lease, refused while a live owner
    holds it), :meth:`steps`, :meth:`values`, :meth:`inputs`.  Housekeeping:
    :meth:`runs`, :meth:`delete`, :meth:`prune`.
    """

    def __init__(
        self, *, codec: Codec | None, host: str | None, clock: Callable[[], float] | None,
        where: str,
    ) -> None:
        #: The codec every value written by this store goes through.
        self.codec: Codec = codec if codec is not None else PickleCodec()
        #: The host name leases taken by this store record.
        self.host = host if host is not None else this_host()
        self._clock = clock if clock is not None else time.time
        self._token = new_token()
        self._held: set[str] = set()
        self._codecs: dict[str, str] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._where = where

    # -- context management ---------------------------------------------------------

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    async def __aenter__(self: S) -> S:
        return self

    async def __aexit__(self, kind: type[BaseException] | None,
                        error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release every lease this store holds and close it (idempotent)."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._held:
                    self._unlease(sorted(self._held), self._token)
                self._held.clear()
            finally:
                self._closed = True
                self._shut()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def held(self) -> frozenset[str]:
        """The ids of the runs whose lease this store holds."""
        return frozenset(self._held)

    # -- writing a run ---------------------------------------------------------------

    def create_run(
        self, run_id: str, *, workflow: str, inputs: Mapping[str, Any] | None = None,
        plan_fingerprint: str = "",
        step_fingerprints: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        outputs: Iterable[str] | None = None,
    ) -> RunRecord:
        """Record a new run (status ``running``) and take its lease, atomically.

        ``outputs``: the outputs the run was asked for (``outputs=``; one name may be a
        plain string), if not all.
        Raises :class:`RunExistsError` when ``run_id`` is taken (whatever its status)
        and ``SerializationError`` (step ``None``, the input's name) for an input the
        codec cannot store.  Returns the record as stored.
        """
        _check_id(run_id)
        blob = encode_inputs(self.codec, inputs or {})
        with self._lock:
            self._open()
            now = self._clock()
            record = RunRecord(
                run_id=run_id, workflow=workflow, status="running", created=now,
                updated=now, inputs=blob, codec=self.codec.name,
                plan_fingerprint=plan_fingerprint,
                step_fingerprints=pairs(step_fingerprints or ()),
                lease=new_lease(host=self.host, token=self._token, now=now),
                outputs=None if outputs is None else (
                    (outputs,) if isinstance(outputs, str) else tuple(outputs)),
            )
            self._insert_run(record)
            self._held.add(run_id)
            self._codecs[run_id] = record.codec
            return record

    def record(
        self, step: str, status: StepStatus, *, scope: tuple[str, ...] = (),
        item: int | None = None, attempt: int = 1, values: Mapping[str, Any] | None = None,
        error: str | None = None, payload: Any = _MISSING,
    ) -> StepWrite:
        """A step call's record, its values (and an ask's ``payload``) encoded by this
        store's codec, ready for :meth:`commit`.  Raises ``SerializationError`` naming
        ``step`` and the first key whose value cannot be stored: call it where the step
        finished, so that the failure is that step's; ``ValueError`` for a status,
        scope, item or attempt the store could not key exactly."""
        check_write(scope, step, item, status, attempt)
        blobs = encode_values(self.codec, values, step=step) if values else ()
        encoded = None if payload is _MISSING else encode_value(
            self.codec, payload, step=step, key="payload")
        return StepWrite(tuple(scope), step, item, status, attempt, blobs, error, encoded)

    @property
    def _encode(self) -> Callable[[Any], bytes]:
        codec = self.codec
        if type(codec) is PickleCodec:
            return _pickle_encode
        return codec.encode

    def encode_values(self, step: str, values: Mapping[str, Any]) -> Blobs:
        """``values`` encoded key by key (``SerializationError`` names step and key)."""
        return encode_values(self.codec, values, step=step)

    def commit(
        self, run_id: str, records: Iterable[StepWrite | StepRecord] = (), *,
        status: RunStatus | None = None, error: str | None = None,
    ) -> None:
        """Write ``records`` (each replacing the record of the same scope, step and
        item) and, when given, the run's ``status`` and ``error``, in ONE transaction:
        after a crash at any point either all of it is in the store or none.

        Records get their ``seq`` in the order given.  Requires this store to hold the
        run's lease: :class:`ResumeError` (``reason="lost"``) when another owner took it
        over, and nothing is written.
        """
        batch = [as_write(record, run_id) for record in records]
        if status is not None:
            check_status(status, RUN_STATUSES, "a run's status")
        with self._lock:
            self._owned(run_id)
            self._write(run_id, self._token, batch, status=status, error=error,
                        drop=(), fingerprints=None, now=self._clock())

    def _commit_group(self, run_id: str, records: Sequence[StepWrite],
                      finished: Finished) -> None:
        """:meth:`commit` ``records`` then the ``finished`` ones, in ONE transaction:
        a run's group commit (the journal makes ``finished`` in columns, and a backend
        may store them without making a :class:`StepWrite` each)."""
        with self._lock:
            self._owned(run_id)
            self._write(run_id, self._token, records, status=None, error=None, drop=(),
                        fingerprints=None, now=self._clock(), finished=finished)

    def _end_run(self, run_id: str, records: Iterable[StepWrite], *, status: RunStatus,
                 error: str | None = None) -> None:
        """:meth:`commit` the last records and the run's status, and :meth:`release` its
        lease, in ONE transaction (what a run does when it ends)."""
        batch = list(records)
        with self._lock:
            self._owned(run_id)
            self._write(run_id, self._token, batch, status=status, error=error, drop=(),
                        fingerprints=None, now=self._clock(), release=True)
            self._held.discard(run_id)

    def set_fingerprints(
        self, run_id: str, plan_fingerprint: str, step_fingerprints: Mapping[str, str],
    ) -> None:
        """Replace the run's fingerprints (after resuming a changed plan with
        ``on_code_change="rerun"`` or ``"keep"``).  Requires the lease."""
        with self._lock:
            self._owned(run_id)
            self._write(run_id, self._token, [], status=None, error=None, drop=(),
                        fingerprints=(plan_fingerprint, dict(step_fingerprints)),
                        now=self._clock())

    def discard(self, run_id: str, steps: Iterable[StepKey], *, nested: bool = True) -> int:
        """Delete the records of the given ``(scope, step)`` pairs (every item of a
        mapped step), atomically, and return how many were deleted.  With ``nested``
        the records inside the scopes those steps opened go too (a sub-workflow
        ``sub`` opens ``sub``, a loop ``sub#1``, ``sub#2``..., a mapped one
        ``sub[0]``...).  For ``rerun=``; the caller passes the descendants too.
        Requires the lease."""
        wanted = {(tuple(scope), step) for scope, step in steps}
        with self._lock:
            self._owned(run_id)
            drop = [r.key for r in self._list_steps(run_id)
                    if _discarded(r.scope, r.step, wanted, nested)]
            if drop:
                self._write(run_id, self._token, [], status=None, error=None, drop=drop,
                            fingerprints=None, now=self._clock())
            return len(drop)

    # -- leases ---------------------------------------------------------------------

    def acquire(self, run_id: str, *, force: bool = False) -> RunRecord:
        """Take the lease of ``run_id`` for this store and return the run's record.

        Free when no one holds it or its owner's process is dead on this host.  A live
        owner (another process, another store object, or this very store: leases do
        not nest) raises :class:`ResumeError` naming it (pid, host, since when); an
        owner on another host cannot be checked and is taken only with ``force=True``,
        which takes any lease.  An unknown ``run_id`` raises ``ResumeError`` too.
        """

        def take(record: RunRecord) -> Lease:
            check_free(run_id, record.lease, host=self.host, force=force)
            return new_lease(host=self.host, token=self._token, now=self._clock())

        with self._lock:
            self._open()
            record = self._lease(run_id, take)
            if record is None:
                raise ResumeError.unknown(run_id, self._known())
            self._held.add(run_id)
            self._codecs[run_id] = record.codec
            return record

    def release(self, run_id: str) -> None:
        """Give up this store's lease of ``run_id`` (nothing if it holds none)."""
        with self._lock:
            self._open()
            if run_id in self._held:
                self._held.discard(run_id)
                self._unlease([run_id], self._token)

    # -- reading --------------------------------------------------------------------

    def run(self, run_id: str) -> RunRecord:
        """The record of ``run_id``; :class:`ResumeError` when there is none."""
        with self._lock:
            self._open()
            record = self._get_run(run_id)
            if record is None:
                raise ResumeError.unknown(run_id, self._known())
            return record

    def runs(self, *, status: RunStatus | Iterable[RunStatus] | None = None,
             workflow: str | None = None) -> list[RunRecord]:
        """Every run (or those with a given status or workflow), oldest first."""
        statuses = _statuses(status)
        with self._lock:
            self._open()
            found = self._list_runs()
        return [r for r in found if (statuses is None or r.status in statuses)
                and (workflow is None or r.workflow == workflow)]

    def steps(self, run_id: str, *, scope: tuple[str, ...] | None = None) -> list[StepRecord]:
        """The step records of ``run_id`` in commit order (or only those of one
        ``scope``); :class:`ResumeError` for an unknown run."""
        with self._lock:
            self._open()
            if self._get_run(run_id) is None:
                raise ResumeError.unknown(run_id, self._known())
            found = self._list_steps(run_id)
        return found if scope is None else [r for r in found if r.scope == tuple(scope)]

    def changes(self, run_id: str, plan_fingerprint: str,
                step_fingerprints: Mapping[str, str]) -> CodeChanges:
        """What changed between the plan ``run_id`` was started (or last resumed) with
        and the current one (falsy when nothing did): raise
        ``ResumeError.changed(run_id, changes)`` with it to refuse a resume."""
        record = self.run(run_id)
        return compare_fingerprints(record.step_fingerprints, step_fingerprints,
                                    stored_plan=record.plan_fingerprint,
                                    current_plan=plan_fingerprint)

    def inputs(self, run_id: str) -> dict[str, Any]:
        """The inputs ``run_id`` was started with, decoded."""
        record = self.run(run_id)
        self._check_codec(run_id, record.codec)
        value = decode_value(self.codec, record.inputs, step=None, key="(inputs)")
        return dict(value)

    def values(self, record: StepRecord) -> dict[str, Any]:
        """A record's values decoded, by key (``SerializationError`` with
        ``decoding=True`` naming step and key when one cannot be read back)."""
        self._check_codec(record.run_id)
        return {key: decode_value(self.codec, blob, step=record.step, key=key)
                for key, blob in record.values}

    def payload(self, record: StepRecord) -> Any:
        """An ask record's question, decoded (``None`` when it has none)."""
        if record.payload is None:
            return None
        self._check_codec(record.run_id)
        return decode_value(self.codec, record.payload, step=record.step, key="payload")

    # -- housekeeping ---------------------------------------------------------------

    def delete(self, run_id: str, *, force: bool = False) -> None:
        """Delete a run and all its records.  A run whose lease a live owner holds
        (this store included) is refused with :class:`ResumeError` naming the owner
        unless ``force=True``; an unknown run raises ``ResumeError`` too."""
        with self._lock:
            self._open()
            record = self._get_run(run_id)
            if record is None:
                raise ResumeError.unknown(run_id, self._known())
            if not force:
                check_free(run_id, record.lease, host=self.host, force=False)
            if not self._remove([run_id], lambda r: force or self._deletable(r)):
                now_held = self.run(run_id).lease
                assert now_held is not None  # only a live lease stops a delete
                check_free(run_id, now_held, host=self.host, force=False)
            self._forget(run_id)

    def prune(
        self, *, older_than: float | None = None, keep: int | None = None,
        status: RunStatus | Iterable[RunStatus] | None = None,
    ) -> list[str]:
        """Delete old runs and return their ids, oldest first.

        Among the runs with a status in ``status`` (default: every status but
        ``running``), the ``keep`` most recently updated are kept; of the others, those
        last updated more than ``older_than`` seconds ago are deleted (every one when
        ``older_than`` is ``None``).  Give ``older_than``, ``keep`` or both.  A run
        whose lease a live owner holds is never pruned.  ``store.prune(older_than=7 *
        86400)`` drops what ended a week ago; ``store.prune(keep=100)`` keeps the
        newest hundred.
        """
        if older_than is None and keep is None:
            raise TypeError("prune() needs older_than= (seconds), keep= (a count) or both")
        if keep is not None and (type(keep) is not int or keep < 0):
            raise ValueError(f"keep= must be an int >= 0, not {keep!r}")
        if older_than is not None and not older_than >= 0:
            raise ValueError(f"older_than= must be seconds >= 0, not {older_than!r}")
        statuses = _statuses(status) or frozenset(("finished", "failed", "interrupted"))
        with self._lock:
            self._open()
            now = self._clock()
            candidates = sorted((r for r in self._list_runs() if r.status in statuses),
                                key=lambda r: (r.updated, r.created, r.run_id),
                                reverse=True)
            rest = candidates[keep:] if keep is not None else candidates
            doomed = [r.run_id for r in reversed(rest)
                      if (older_than is None or r.updated < now - older_than)
                      and self._deletable(r)]
            if not doomed:
                return []
            removed = set(self._remove(doomed, self._deletable))
            for run_id in removed:
                self._forget(run_id)
            self._compact()
            return [r for r in doomed if r in removed]

    # -- helpers --------------------------------------------------------------------

    def _deletable(self, record: RunRecord) -> bool:
        return record.lease is None or owner_alive(record.lease, self.host) is False

    def _forget(self, run_id: str) -> None:
        self._held.discard(run_id)
        self._codecs.pop(run_id, None)

    def _open(self) -> None:
        if self._closed:
            raise StoreError(self._where, f"the store {self._where} is closed")

    def _owned(self, run_id: str) -> None:
        self._open()
        if run_id not in self._held:
            record = self._get_run(run_id)
            if record is None:
                raise ResumeError.unknown(run_id, self._known())
            raise ResumeError.lost(run_id, record.lease)

    def _known(self) -> list[str]:
        return [r.run_id for r in self._list_runs()]

    def _check_codec(self, run_id: str, stored: str | None = None) -> None:
        if stored is None:
            stored = self._codecs.get(run_id)
            if stored is None:
                stored = self.run(run_id).codec
                self._codecs[run_id] = stored
        if stored != self.codec.name:
            raise ResumeError.codec(run_id, stored, self.codec.name)

    # -- the backend's primitives (each atomic, called under the lock) ---------------

    @abc.abstractmethod
    def _insert_run(self, record: RunRecord) -> None:
        """Insert ``record``; :class:`RunExistsError` if its id exists."""

    @abc.abstractmethod
    def _lease(self, run_id: str, take: Callable[[RunRecord], Lease]) -> RunRecord | None:
        """Atomically: read the run (``None`` if unknown), ``take(record)`` (which may
        raise), store the lease it returns; the updated record."""

    @abc.abstractmethod
    def _unlease(self, run_ids: Sequence[str], token: str) -> None:
        """Clear the leases of ``run_ids`` that ``token`` holds."""

    @abc.abstractmethod
    def _write(
        self, run_id: str, token: str, records: Sequence[StepWrite], *,
        status: str | None, error: str | None, drop: Sequence[RecordKey],
        fingerprints: tuple[str, dict[str, str]] | None, now: float,
        release: bool = False, finished: Finished | None = None,
    ) -> None:
        """Atomically, if ``token`` still holds the run's lease (else
        ``ResumeError.lost``): delete ``drop``, upsert ``records`` then ``finished``
        (next seqs), set status/error/fingerprints when given (and then ``updated =
        now``), and clear the lease when ``release``."""

    @abc.abstractmethod
    def _get_run(self, run_id: str) -> RunRecord | None:
        """The run's record or ``None``."""

    @abc.abstractmethod
    def _list_runs(self) -> list[RunRecord]:
        """Every run, by creation order."""

    @abc.abstractmethod
    def _list_steps(self, run_id: str) -> list[StepRecord]:
        """The run's step records by ``seq``."""

    @abc.abstractmethod
    def _remove(self, run_ids: Sequence[str], check: Callable[[RunRecord], bool]) -> list[str]:
        """Atomically delete the runs (and records) among ``run_ids`` that pass
        ``check`` as read inside the transaction; the ids deleted."""

    def _compact(self) -> None:  # noqa: B027 - optional for a backend
        """Give freed space back (after pruning), where the backend can."""

    @abc.abstractmethod
    def _shut(self) -> None:
        """Close the backend."""


def _check_id(run_id: str) -> None:
    if not isinstance(run_id, str) or not run_id or run_id.strip() != run_id:
        raise ValueError(
            f"run_id must be a non-empty str without surrounding spaces, not {run_id!r}")


def _statuses(status: str | Iterable[str] | None) -> frozenset[str] | None:
    if status is None:
        return None
    found = frozenset((status,) if isinstance(status, str) else status)
    for one in found:
        check_status(one, RUN_STATUSES, "status=")
    return found


def _discarded(scope: tuple[str, ...], step: str, wanted: set[StepKey], nested: bool) -> bool:
    if (scope, step) in wanted:
        return True
    if not nested:
        return False
    for depth in range(len(scope)):
        opened = scope[depth]
        if (scope[:depth], opened_by(opened)) in wanted:
            return True
    return False

