"""A real second process for the store tests: ``python _child.py COMMAND PATH RUN_ID ...``.

- ``lease``: take the run's lease; print ``owned`` or ``refused <message>``; hold it
  until stdin closes.
- ``die-holding``: take the lease, print ``owned``, kill itself with SIGKILL.
- ``commit-and-die N SIZE FRACTION``: take the lease and commit N records of SIZE bytes
  in one group commit (with a small page cache: uncommitted pages spill to the WAL);
  kill itself with SIGKILL once the commit has done FRACTION of its work (measured by
  SQLite's progress handler on a dry run), or right after the commit returned when
  FRACTION >= 1.
- ``count STEP``: print how many records of STEP the run has (a fresh process's view).
- ``write N``: take the lease, print ``ready``, wait for a line on stdin, then make N
  single-record commits and print ``done``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from spectra_dsl import ResumeError
from spectra_dsl.store import SqliteStore, StepWrite

#: SQLite virtual-machine instructions between two calls of the progress handler.
TICK = 50


def _records(store: SqliteStore, run_id: str, n: int, size: int) -> list[StepWrite]:
    return [store.record("fan", "finished", item=i,
                         values={"fan": (b"%06d" % i) * (size // 6)}) for i in range(n)]


def _commit_and_die(path: str, run_id: str, n: int, size: int, fraction: float) -> None:
    scratch = Path(path).with_name("scratch.sqlite")
    ticks = 0

    def count() -> int:
        nonlocal ticks
        ticks += 1
        return 0

    with SqliteStore(scratch) as dry:
        dry.create_run(run_id, workflow="wf")
        records = _records(dry, run_id, n, size)
        dry._db.set_progress_handler(count, TICK)
        dry.commit(run_id, records)
    total, ticks = ticks, 0
    store = SqliteStore(path)
    store._db.execute("PRAGMA cache_size = 50")  # spill uncommitted pages to the WAL
    store.acquire(run_id)
    records = _records(store, run_id, n, size)
    if fraction < 0:  # after every statement of the commit ran, before its COMMIT
        def at_commit(statement: str) -> None:
            if statement == "COMMIT":
                os.kill(os.getpid(), signal.SIGKILL)

        store._db.set_trace_callback(at_commit)
    elif fraction < 1:
        def die() -> int:
            nonlocal ticks
            ticks += 1
            if ticks >= total * fraction:
                os.kill(os.getpid(), signal.SIGKILL)
            return 0

        store._db.set_progress_handler(die, TICK)
    store.commit(run_id, records)
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    command, path, run_id, *rest = argv
    if command == "commit-and-die":
        _commit_and_die(path, run_id, int(rest[0]), int(rest[1]), float(rest[2]))
        return
    store = SqliteStore(path)
    if command == "count":
        print(sum(r.step == rest[0] for r in store.steps(run_id)), flush=True)
        store.close()
        return
    try:
        store.acquire(run_id)
    except ResumeError as error:
        print("refused", error, flush=True)
        sys.stdin.read()
        return
    if command == "die-holding":
        print("owned", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    if command == "lease":
        print("owned", flush=True)
        sys.stdin.read()
    elif command == "write":
        print("ready", flush=True)
        sys.stdin.readline()
        for i in range(int(rest[0])):
            store.commit(run_id, [store.record("s", "finished", item=i,
                                               values={"s": i})])
        print("done", flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
