"""A real process that runs or resumes the crash-test workflow on a real SQLite file.

``python _worker.py run PATH RUN_ID [--kill-after N | --kill-mid N]``: start the run
(on a ``MockClock``: the same commits every time) and kill this process with SIGKILL
right after its Nth commit returned, or in the middle of its Nth commit (its rows
written, before SQLite's COMMIT).  ``python _worker.py resume PATH RUN_ID [--block]``:
resume it (with ``--block``, print ``blocked`` once the lease is held and wait for a
line on stdin first).  Prints ``{"status": ..., "end": ...}`` as its last line, or
``ResumeError: <message>`` when the run cannot be resumed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trio
import trio.testing

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from spectra_dsl import ResumeError
from spectra_dsl.store import SqliteStore
from tests.durable.flow import build


class KillingStore(SqliteStore):
    """A store that kills its process after (or during) its Nth commit."""

    kill_after = 0
    kill_mid = 0
    commits = 0
    dying = False

    def _write(self, run_id: str, token: str, records: Any, **options: Any) -> None:
        """Every commit (records, a group, the run's end) is one call of this."""
        self.commits += 1
        self.dying = self.commits == self.kill_mid
        super()._write(run_id, token, records, **options)
        if self.commits == self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with super()._transaction() as db:
            yield db
            if self.dying:  # the rows are written; SQLite's COMMIT is not
                os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    command, path, run_id, *rest = argv
    store = KillingStore(path)
    if "--kill-after" in rest:
        store.kill_after = int(rest[rest.index("--kill-after") + 1])
    if "--kill-mid" in rest:
        store.kill_mid = int(rest[rest.index("--kill-mid") + 1])
    plan = build().compile()

    async def go() -> Any:
        if command == "run":
            return await plan.run({"seed": 1}, store=store, run_id=run_id)
        if "--block" in rest:
            store.acquire(run_id)
            print("blocked", flush=True)
            await trio.to_thread.run_sync(sys.stdin.readline)
            store.release(run_id)
        return await plan.resume(run_id, store=store)

    try:
        result = trio.run(go, clock=trio.testing.MockClock(autojump_threshold=0))
    except ResumeError as error:
        print(f"ResumeError: {error}", flush=True)
        return
    finally:
        store.close()
    print(json.dumps({"status": result.status, "end": result["end"]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
