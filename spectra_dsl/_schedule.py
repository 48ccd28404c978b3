"""The scheduling core: which steps are ready, with joins, branch tips and skips.

No trio and no awaits: the shape of :class:`graphlib.TopologicalSorter`'s
``prepare()`` / ``get_ready()`` / ``done()``.  The caller reports each released step as
finished (:meth:`Schedule.done`) or skipped (:meth:`Schedule.skip`) and gets back the
steps that report releases, each exactly once:

- a ``Join.ALL`` step (or any step without branch tips) is released when every upstream
  has finished or been skipped;
- a ``Join.ANY`` step waits for its non-tip upstreams as usual and for one tip: the
  first tip to finish, or the last to be skipped when none finished (the caller then
  skips it: :meth:`Schedule.all_tips_skipped`).

What a released step does (run, or be skipped by a guard or a missing input) is the
caller's business; dead-path elimination is the caller skipping it in turn.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs


@attrs.frozen
class ScheduleTable:
    """The per-plan tables a :class:`Schedule` reads, built once per plan.

    ``successors`` and ``predecessors`` hold plan positions; ``tips`` the branch tips
    of each ``Join.ANY`` step (empty for others); ``waits`` how many reports release
    each step; ``roots`` the steps with no upstream.
    """

    successors: tuple[tuple[int, ...], ...]
    predecessors: tuple[tuple[int, ...], ...]
    tips: tuple[frozenset[int], ...]
    waits: tuple[int, ...]
    roots: tuple[int, ...]

    @classmethod
    def build(
        cls, predecessors: Sequence[Sequence[int]], tips: Sequence[frozenset[int]] | None = None
    ) -> ScheduleTable:
        """Tables for a DAG given by each step's upstreams (and each step's tips)."""
        preds = tuple(tuple(p) for p in predecessors)
        all_tips = tuple(tips) if tips is not None else tuple(frozenset() for _ in preds)
        successors: list[list[int]] = [[] for _ in preds]
        for position, ups in enumerate(preds):
            for up in ups:
                successors[up].append(position)
        return cls(
            successors=tuple(tuple(s) for s in successors),
            predecessors=preds,
            tips=all_tips,
            # Join.ANY: every non-tip upstream, and one report for the race of the tips.
            waits=tuple(len(p) - len(t) + 1 if t else len(p)
                        for p, t in zip(preds, all_tips, strict=True)),
            roots=tuple(p for p, ups in enumerate(preds) if not ups),
        )


class Schedule:
    """One run's progress through a :class:`ScheduleTable`.

    ``finished`` and ``skipped`` mark each step (1 or 0); ``pending`` counts the steps
    neither finished nor skipped: the run is over when it is 0.
    """

    __slots__ = ("_remaining", "_successors", "_tip_seen", "_tips", "_tips_left",
                 "finished", "pending", "skipped", "table")

    def __init__(self, table: ScheduleTable) -> None:
        self.table = table
        self._successors = table.successors
        self._tips = table.tips
        self._remaining = list(table.waits)
        self._tips_left = [len(t) for t in table.tips]
        self._tip_seen = bytearray(len(table.waits))
        self.finished = bytearray(len(table.waits))
        self.skipped = bytearray(len(table.waits))
        self.pending = len(table.waits)

    def roots(self) -> list[int]:
        """The steps released at the start: those with no upstream."""
        return list(self.table.roots)

    def done(self, position: int) -> list[int]:
        """``position`` finished: the steps this releases."""
        self.finished[position] = 1
        self.pending -= 1
        return self._report(position, True)

    def skip(self, position: int) -> list[int]:
        """``position`` was skipped: the steps this releases."""
        self.skipped[position] = 1
        self.pending -= 1
        return self._report(position, False)

    def remaining(self, position: int) -> int:
        """How many more reports release ``position`` (0 once it was released)."""
        return self._remaining[position]

    def all_tips_skipped(self, position: int) -> bool:
        """True for a released ``Join.ANY`` step none of whose branch tips finished."""
        tips = self._tips[position]
        return bool(tips) and not any(self.finished[t] for t in tips)

    def _report(self, position: int, finished: bool) -> list[int]:
        released: list[int] = []
        remaining = self._remaining
        for succ in self._successors[position]:
            tips = self._tips[succ]
            if tips and position in tips:
                self._tips_left[succ] -= 1
                # The race counts once: the first tip to finish, else the last skip.
                if self._tip_seen[succ] or not (finished or self._tips_left[succ] == 0):
                    continue
                self._tip_seen[succ] = 1
            remaining[succ] -= 1
            if not remaining[succ]:
                released.append(succ)
        return released

    def upstreams(self, position: int) -> tuple[list[int], list[int], list[int]]:
        """``position``'s upstreams split into (finished, not yet done, skipped)."""
        arrived: list[int] = []
        waiting: list[int] = []
        skipped: list[int] = []
        for up in self.table.predecessors[position]:
            if self.finished[up]:
                arrived.append(up)
            elif self.skipped[up]:
                skipped.append(up)
            else:
                waiting.append(up)
        return arrived, waiting, skipped
