"""A :class:`DurableRun` resumed from its records: recorded steps are restored (their
values written again, never called), stored asks re-asked or answered, and a
``Join.ANY`` step that had started called with its first arguments.  A fresh run has
nothing to restore and is a plain :class:`DurableRun`: the overrides here cost its
steps nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._durable_run import DurableRun
from ._errors import ReducerError
from ._journal import ask_key, value_from
from ._runner import Request, Run
from ._store_base import Store
from ._store_records import StepRecord
from ._values import write_result

if TYPE_CHECKING:
    pass


class ResumedRun(DurableRun):
    """A :class:`DurableRun` of a run resumed from its records (and its sub-workflow
    runs, each given the records of its scope)."""

    __slots__ = ()

    def begin(self, now: float) -> list[Request]:
        """As :meth:`Run.begin`, having first sorted the records of this run's scope
        into what to restore, re-ask, answer or re-call."""
        journal = self.journal
        if journal.store is not None:
            self.read_back(journal.store, journal.records(self.emit.scope))
        return DurableRun.begin(self, now)

    def read_back(self, store: Store, records: Mapping[tuple[str, int | None], StepRecord]
                  ) -> None:
        """Sort this run's records into what to restore, re-ask, answer or re-call."""
        if not records:
            return
        plan = self.plan
        tips = plan.schedule.tips
        items: dict[str, dict[int, StepRecord]] = {}
        for (step, item), found in records.items():
            if item is not None and found.status == "finished":
                items.setdefault(step, {})[item] = found
        for position, name in enumerate(self.names):
            record = records.get((name, None))
            if name in items and (record is None or record.status != "finished"):
                self.elements[position] = {i: store.values(r)["value"]
                                        for i, r in items[name].items()}
            if record is None or not self.durable[position]:
                continue
            status = record.status
            if status in ("finished", "answered"):
                self.restore[position] = value_from(plan, position, store.values(record))
            elif status == "asked":
                key = ask_key(self.emit.scope, name)
                payload = store.payload(record)
                if key in self.journal.answers:
                    self.answered[position] = (self.journal.answers.pop(key), payload)
                else:
                    self.asked[position] = payload
            elif status == "started" and tips[position] and record.values:
                self.started_args[position] = store.values(record)

    def collect(self, released: list[int], now: float) -> list[Request]:
        """As :meth:`Run.collect`, restoring recorded steps (and re-asking or answering
        stored asks) instead of running them."""
        if self.restore or self.asked or self.answered:
            work = list(released)
            keep: list[int] = []
            i = 0
            while i < len(work):
                if self.halt.halted:
                    return []
                position = work[i]
                i += 1
                if position in self.restore:
                    work.extend(self.restore_step(position, now))
                elif not self.read_ask(position, now):
                    keep.append(position)
            released = keep
        return DurableRun.collect(self, released, now)

    def start(self, position: int) -> bool:
        """As :meth:`Run.start`; a recorded step released by a skip (so not seen by
        :meth:`collect`'s look-ahead) is restored here, in no slot."""
        if (self.restore or self.asked or self.answered) and not self.halt.halted and (
                position in self.restore or position in self.asked
                or position in self.answered):
            slots = self.slots
            slots.vacate()  # the slot it was given goes back at once, by priority
            now = self.now()
            if position in self.restore:
                released = self.restore_step(position, now)
                if released:
                    self.submit(self.collect(released, now))
                elif not self.schedule.pending:
                    self.end()
            else:
                self.read_ask(position, now)
            slots.fill()
            return True
        return Run.start(self, position)

    def restore_step(self, position: int, now: float) -> list[int]:
        """Write a recorded step's values again, without calling it; what that
        releases."""
        value = self.restore.pop(position)
        self.journal.restored_event(self, self.names[position], "finished")
        try:
            write_result(self, position, value, now)
        except ReducerError as error:
            self.fail(self.plan.graph.index[error.step], error, holds_slot=False)
            return []
        except Exception as error:
            self.fail(position, error, holds_slot=False)
            return []
        return self.schedule.done(position)

    def read_ask(self, position: int, now: float) -> bool:
        """A stored ask: park it again (still unanswered) or write the answer given to
        this resume.  False when ``position`` is no stored ask."""
        if position in self.asked:
            payload = self.asked.pop(position)
            self.journal.restored_event(self, self.names[position], "asked")
            self.park(position, payload)
            return True
        if position in self.answered:
            answer, payload = self.answered.pop(position)
            name = self.names[position]
            self.journal.restored_event(self, name, "answered")
            self.emit.step_started(time=now, step=name, in_flight=self.slots.in_flight)
            self.report_answer(position, answer, payload, now)
            return True
        return False

    def skip_reason(self, position: int) -> str | None:
        """As :meth:`Run.skip_reason`; a ``Join.ANY`` step that had started is not
        judged again (its guard held, with the arguments it will get again)."""
        if self.started_args and position in self.started_args:
            return None
        return Run.skip_reason(self, position)

