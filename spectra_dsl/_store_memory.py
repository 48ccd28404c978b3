"""A store in memory, for tests: the same API and the same codec as :class:`SqliteStore`,
so a value that cannot be stored fails here too; nothing outlives the object."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from ._store_base import RecordKey, Store
from ._store_codec import Codec
from ._store_errors import ResumeError, RunExistsError
from ._store_records import Finished, Lease, RunRecord, StepRecord, StepWrite


class MemoryStore(Store):
    """A :class:`Store` held in this object's memory (one process, gone on exit).

    ``MemoryStore()`` or ``MemoryStore.open()``; ``codec``, ``host`` and ``clock`` (the
    wall clock records are stamped with, ``time.time`` by default) as for
    :class:`SqliteStore`.  Each object is its own store: two objects share nothing.
    """

    def __init__(self, *, codec: Codec | None = None, host: str | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        super().__init__(codec=codec, host=host, clock=clock, where="in memory")
        self._runs: dict[str, RunRecord] = {}
        #: Per run, by key: (record as written, seq, updated); read as StepRecord.
        self._steps: dict[str, dict[RecordKey, tuple[StepWrite, int, float]]] = {}
        self._seq: dict[str, int] = {}

    @classmethod
    def open(cls, *, codec: Codec | None = None, host: str | None = None,
             clock: Callable[[], float] | None = None) -> MemoryStore:
        """A new empty store (the same as calling the class), for symmetry with
        ``SqliteStore.open``: ``async with MemoryStore.open() as store:``."""
        return cls(codec=codec, host=host, clock=clock)

    def __repr__(self) -> str:
        return f"MemoryStore(runs={len(self._runs)}, codec={self.codec.name!r})"

    def _insert_run(self, record: RunRecord) -> None:
        old = self._runs.get(record.run_id)
        if old is not None:
            raise RunExistsError(record.run_id, old.status)
        self._runs[record.run_id] = record
        self._steps[record.run_id] = {}
        self._seq[record.run_id] = 0

    def _lease(self, run_id: str, take: Callable[[RunRecord], Lease]) -> RunRecord | None:
        record = self._runs.get(run_id)
        if record is None:
            return None
        record = attrs.evolve(record, lease=take(record))
        self._runs[run_id] = record
        return record

    def _unlease(self, run_ids: Sequence[str], token: str) -> None:
        for run_id in run_ids:
            record = self._runs.get(run_id)
            if record is not None and record.lease is not None \
                    and record.lease.token == token:
                self._runs[run_id] = attrs.evolve(record, lease=None)

    def _write(
        self, run_id: str, token: str, records: Sequence[StepWrite], *,
        status: str | None, error: str | None, drop: Sequence[RecordKey],
        fingerprints: tuple[str, dict[str, str]] | None, now: float,
        release: bool = False, finished: Finished | None = None,
    ) -> None:
        run = self._runs.get(run_id)
        if run is None or run.lease is None or run.lease.token != token:
            raise ResumeError.lost(run_id, None if run is None else run.lease)
        if finished:
            records = [*records, *finished.writes()]
        steps = self._steps[run_id]
        for key in drop:
            steps.pop(key, None)
        seq = self._seq[run_id]
        for record in records:
            seq += 1
            key = (record[0], record[1], record[2])  # record.key, without the call
            steps.pop(key, None)  # a replaced record moves to the end
            steps[key] = (record, seq, now)
        self._seq[run_id] = seq
        changes: dict[str, object] = {}
        if status is not None:
            changes["status"] = status
            changes["error"] = error
        elif error is not None:
            changes["error"] = error
        if fingerprints is not None:
            changes["plan_fingerprint"], changes["step_fingerprints"] = fingerprints
        if changes:
            changes["updated"] = now
        if release:
            changes["lease"] = None
        if changes:
            self._runs[run_id] = attrs.evolve(run, **changes)  # type: ignore[arg-type]

    def _get_run(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def _list_runs(self) -> list[RunRecord]:
        return list(self._runs.values())

    def _list_steps(self, run_id: str) -> list[StepRecord]:
        return [StepRecord(run_id, *write, seq, updated)
                for write, seq, updated in self._steps.get(run_id, {}).values()]

    def _remove(self, run_ids: Sequence[str], check: Callable[[RunRecord], bool]) -> list[str]:
        removed = []
        for run_id in run_ids:
            record = self._runs.get(run_id)
            if record is not None and check(record):
                del self._runs[run_id]
                del self._steps[run_id]
                del self._seq[run_id]
                removed.append(run_id)
        return removed

    def _shut(self) -> None:
        pass
