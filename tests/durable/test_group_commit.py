"""Group commit: the steps that finish in one instant are committed in ONE
transaction, however many there are (even past the runner's inline budget, where
they are run by a chain of tasks), and the run's last step is committed with the
run's end status.  Nothing of it changes virtual times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio
import trio.testing

from spectra_dsl import Join, Workflow
from spectra_dsl._inline import INLINE_BUDGET
from spectra_dsl.store import SqliteStore


class CountingStore(SqliteStore):
    """A real SQLite store that remembers how many records each commit held."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sizes: list[int] = []

    def _write(self, run_id: str, token: str, records: Any, **options: Any) -> None:
        finished = options.get("finished")
        self.sizes.append(len(records) + (len(finished) if finished else 0))
        super()._write(run_id, token, records, **options)


def fan_out(n: int, sleep: float, later: float = 0.0) -> Workflow:
    """root, then n branches (every other one sleeps ``sleep``, the rest ``later``
    more), then a join over their reduced total."""
    wf = Workflow("fan", reducers={"total": lambda a, b: a + b})

    @wf.step
    async def root(x: int) -> int:
        return x

    for i in range(n):
        namespace: dict[str, Any] = {"trio": trio, "sleep": sleep + (i % 2) * later}
        exec(f"async def b{i}(root):\n    await trio.sleep(sleep)\n    return root + {i}\n",
             namespace)
        wf.step(writes="total")(namespace[f"b{i}"])

    @wf.step(join=Join.ALL)
    async def join(total: int) -> int:
        return total

    return wf


def test_a_wide_fan_out_finishing_in_one_instant_is_one_commit(tmp_path: Path) -> None:
    n = 3 * INLINE_BUDGET + 10  # run inline by one task, then a chain of three more
    plan = fan_out(n, 0).compile()
    with CountingStore(tmp_path / "runs.sqlite") as store:
        result = trio.run(lambda: plan.run({"x": 1}, store=store, run_id="r"),
                          clock=trio.testing.MockClock(autojump_threshold=0))
        # root; every branch at once; the join with the run's status and lease
        assert store.sizes == [1, n, 1]
        assert result["join"] == n * 1 + n * (n - 1) // 2
        assert len(store.steps("r")) == n + 2
        assert store.run("r").status == "finished" and store.run("r").lease is None


def test_branches_finishing_at_two_times_are_two_commits_at_the_same_times(
        tmp_path: Path) -> None:
    plan = fan_out(40, 1.5, later=1.0).compile()
    bare = trio.run(lambda: plan.run({"x": 1}),
                    clock=trio.testing.MockClock(autojump_threshold=0))
    with CountingStore(tmp_path / "runs.sqlite") as store:
        stored = trio.run(lambda: plan.run({"x": 1}, store=store, run_id="r"),
                          clock=trio.testing.MockClock(autojump_threshold=0))
        assert store.sizes == [1, 20, 20, 1]  # those done at 1.5, those done at 2.5
    assert stored.state == bare.state
    assert stored.duration == bare.duration == 2.5
    assert [e.time for e in stored.events] == [e.time for e in bare.events]
