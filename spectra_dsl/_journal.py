"""The journal of a durable run: what is recorded when, group commit, and restore.

A :class:`DurableRun` is a :class:`Run` that journals to a store (and answers asks).

- **Recording.**  When a step returns, it is buffered; the step's successors are
  released only after its record is committed, so the journal on disk is always a
  causal prefix of the run.  The first step to finish in an instant schedules one
  commit task, which yields (zero-time, cancel-shielded checkpoints) until the steps
  finishing in the same instant have finished too (the chain of tasks the runner hands
  a wide fan-out to included), then encodes every buffered value (one the codec cannot
  store fails its step with ``SerializationError``), commits the records in ONE
  transaction (the store gets the group in columns: one batch row on SQLite), writes
  the values to state and releases the successors, running the plain async ones itself
  as a finishing task does.  A step that finishes with nothing else in flight is
  committed at once, in its own task; the run's very last step is committed with the
  run's end status.  An element of a mapped step is handed on to the step it feeds
  elementwise only once its record is committed.  No thread hop, no sleep: on
  ``MockClock`` a run with a store takes exactly the virtual time it takes without one.
- **Restoring.**  On resume, each run (and sub-workflow pass, by scope) is given the
  records of its scope: a released step with a ``finished`` (or ``answered``) record
  is not called: its values are written again (folded in plan order as always) and its
  successors released, in the same instant.  Steps with no record (in flight, failed,
  never started) run again.  A ``Join.ANY`` step with a ``started`` record is called
  with the arguments of its first call.
- **Asking.**  An ``@step(ask=True)`` step returns ``Ask(payload)``: with ``on_ask`` the
  answer is awaited in a task of its own (holding no slot); otherwise an ``asked``
  record is committed, the step's readers wait, and once every run under way (the top
  one, and each sub-workflow run: :meth:`Journal.check_quiet`) can go on only through
  an answer, the run ends ``interrupted`` with ``pending`` holding the questions, named
  by their path (``"review/approval"``).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import trio

from ._inline import drain
from ._runner import Halt, Run
from ._step import options_of
from ._store_base import Store
from ._store_records import Finished, StepRecord, StepWrite, opened_by
from .events import StepRestored

if TYPE_CHECKING:
    from ._durable_run import DurableRun
    from ._map import MappedStep
    from ._plan import Plan

#: ``on_ask=``: an async callable ``(step_name, payload) -> answer``.
OnAsk = Callable[[str, Any], Awaitable[Any]]
#: How many times a group commit yields, at most, to let the steps finishing in its
#: instant finish first (a safety net: the chain of handed-over steps always ends).
GATHER_ROUNDS = 10_000

#: A step that returned, waiting for its record's commit: (run, position, value,
#: started, holds_slot, whether the commit makes its record).
Waiting = tuple["DurableRun", int, Any, float, bool, bool]


class Flags(NamedTuple):
    """What a durable run needs to know of each step of a plan, by position."""

    #: Journaled at all (not ``durable=False``).
    durable: tuple[bool, ...]
    #: An ask step (``ask=True``).
    asks: tuple[bool, ...]
    #: The one key its whole value is written to (None: several keys).
    single: tuple[str | None, ...]
    #: Recorded when it returns (durable, and not an ask: an ask records its question).
    recorded: tuple[bool, ...]
    #: False for every step (what a run with no store records).
    none: tuple[bool, ...]

#: :func:`plan_flags` by ``id(plan)``, while the plan lives.
_FLAGS: dict[int, tuple[weakref.ref[Plan], Flags]] = {}


def plan_flags(plan: Plan) -> Flags:
    """Which steps of ``plan`` are journaled (not ``durable=False``), which ask, and
    the one key each writes its whole value to (``None`` for several keys)."""
    durable = []
    asks = []
    single: list[str | None] = []
    for position, action in enumerate(plan.actions):
        options = options_of(action.fn) if action.fn is not None else None
        durable.append(options is None or bool(getattr(options, "durable", True)))
        asks.append(options is not None and bool(getattr(options, "ask", False)))
        keys = plan.keys[position]
        single.append(plan.simple_key[position] or (
            keys[0] if len(keys) == 1 and action.writes_mapping is None
            and not plan.multi_key[position] else None))
    recorded = tuple(d and not a for d, a in zip(durable, asks, strict=True))
    return Flags(tuple(durable), tuple(asks), tuple(single), recorded,
                 (False,) * len(durable))


def ask_steps(plan: Plan, scope: tuple[str, ...] = ()) -> list[str]:
    """The ask steps of ``plan`` and of its sub-workflows (``"sub/inner"``)."""
    found: list[str] = []
    asks = plan_flags(plan).asks
    for name, action, ask in zip(plan.names, plan.actions, asks, strict=True):
        if ask:
            found.append("/".join((*scope, name)))
        if action.body is not None:
            found.extend(ask_steps(action.body, (*scope, name)))
    return found


def values_of(plan: Plan, position: int, value: Any) -> dict[str, Any] | None:
    """What step ``position`` writes, by key, as its record holds it; ``None`` when the
    value does not fit the step's keys (writing it raises the proper error)."""
    key = plan.simple_key[position]
    if key is not None:
        return {key: value}
    keys = plan.keys[position]
    mapping = plan.actions[position].writes_mapping
    if mapping is not None:
        if not isinstance(value, Mapping):
            return None
        return {outer: value[inner] for inner, outer in mapping if inner in value}
    if len(keys) == 1 and not plan.multi_key[position]:
        return {keys[0]: value}
    if not isinstance(value, Mapping) or value.keys() != set(keys):
        return None
    return {k: value[k] for k in keys}


def value_from(plan: Plan, position: int, values: Mapping[str, Any]) -> Any:
    """The inverse of :func:`values_of`: the value the step returned."""
    key = plan.simple_key[position]
    if key is not None:
        return values[key]
    keys = plan.keys[position]
    mapping = plan.actions[position].writes_mapping
    if mapping is not None:
        return {inner: values[outer] for inner, outer in mapping if outer in values}
    if len(keys) == 1 and not plan.multi_key[position]:
        return values[keys[0]]
    return dict(values)


class DurableHalt(Halt):
    """The :class:`Halt` of a durable run tree: it also carries the journal, so that
    every run of the tree (sub-workflows, loop passes) finds it."""

    __slots__ = ("journal",)

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal


class Journal:
    """What one durable run (and all its sub-workflow runs) shares: the store, the
    records read back on resume, the buffer of records waiting for their commit, the
    answers given and the asks still pending."""

    def __init__(
        self, store: Store | None, run_id: str | None, *,
        records: Iterable[StepRecord] = (), answers: Mapping[str, Any] | None = None,
        on_ask: OnAsk | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.on_ask = on_ask
        self.answers: dict[str, Any] = dict(answers or {})
        #: Questions still waiting for an answer, by ask key (``"approval"``).
        self.pending: dict[str, Any] = {}
        self.scopes: dict[tuple[str, ...], dict[tuple[str, int | None], StepRecord]] = {}
        for record in records:
            self.scopes.setdefault(record.scope, {})[(record.step, record.item)] = record
        self.writes: list[StepWrite] = []
        #: Steps that returned, waiting for their record's commit.
        self.waiting: list[Waiting] = []
        #: Elements of mapped steps that returned, to hand on to the steps they feed
        #: elementwise once their records are committed: (run, mapped step, item, value).
        self.handing: list[tuple[DurableRun, MappedStep, int, Any]] = []
        self.scheduled = False
        #: Tasks started to run handed-over steps (see :mod:`._inline`), not yet run.
        self.continuing = 0
        self.top: DurableRun | None = None
        #: The runs under way (the top run, sub-workflow runs), by scope.
        self.active: dict[tuple[str, ...], DurableRun] = {}
        self.interrupted = False
        self.restored = 0

    def flags(self, plan: Plan) -> Flags:
        """:func:`plan_flags`, computed once per plan (not once per run)."""
        found = _FLAGS.get(id(plan))
        if found is None or found[0]() is not plan:
            key = id(plan)
            found = (weakref.ref(plan, lambda _: _FLAGS.pop(key, None)), plan_flags(plan))
            _FLAGS[key] = found
        return found[1]

    # -- asks: is every run waiting for an answer? -----------------------------------

    def enter(self, run: DurableRun) -> None:
        """``run`` is under way; a sub-workflow run counts for its outer step."""
        scope = run.emit.scope
        self.active[scope] = run
        if scope:
            outer = self.active.get(scope[:-1])
            if outer is not None:
                position = outer.plan.graph.index.get(opened_by(scope[-1]))
                if position is not None:
                    outer.live[position] = outer.live.get(position, 0) + 1
                    run.outer = (outer, position)

    def leave(self, run: DurableRun) -> None:
        """``run`` is over (finished, failed, cancelled or interrupted)."""
        if self.active.get(run.emit.scope) is run:
            del self.active[run.emit.scope]
        if run.outer is not None:
            outer, position = run.outer
            outer.live[position] -= 1
            run.outer = None
        if self.pending:  # what was left to run may now wait only for answers
            self.check_quiet()

    def check_quiet(self) -> None:
        """When every run under way can go on only through an answer (some ask is
        parked), the run ends ``interrupted``: each run stops where it is."""
        if not self.pending or self.interrupted or self.top is None or self.top.halt.halted:
            return
        runs = list(self.active.values())
        if not runs or not all(run.idle() for run in runs):
            return
        self.interrupted = True
        for run in runs:
            run.all_done.set()

    # -- group commit ---------------------------------------------------------------

    def hold(self, write: StepWrite | None, run: DurableRun, position: int, value: Any,
             started: float, holds_slot: bool) -> None:
        """Buffer a finished step's record; its value is written and its successors
        released once the record is committed."""
        if write is not None:
            self.writes.append(write)
        self.waiting.append((run, position, value, started, holds_slot, False))
        self.schedule()

    def add(self, write: StepWrite) -> None:
        """Buffer a record that releases nothing (an ask, a failure)."""
        self.writes.append(write)
        self.schedule()

    def schedule(self) -> None:
        """Make sure a commit task will run in this instant."""
        if not self.scheduled:
            self.scheduled = True
            assert self.top is not None
            self.top.spawn(functools.partial(self.committer))

    async def committer(self) -> None:
        """Commit what finished in this instant, then release what it waited for,
        running the released plain async steps in this task (see :mod:`._inline`)."""
        # Zero time: let the peers finishing in this instant finish first, the steps
        # handed to tasks of their own when a task ran out of inline budget included
        # (each such task starts the next one: wait for the chain to end).
        await trio.lowlevel.cancel_shielded_checkpoint()
        rounds = 1
        while self.continuing and rounds < GATHER_ROUNDS:
            await trio.lowlevel.cancel_shielded_checkpoint()
            rounds += 1
        assert self.top is not None
        slots = self.top.slots
        slots.handing_over = True
        try:
            self.flush()
        except BaseException:
            slots.handing_over = False
            slots.handover.clear()
            raise
        if not slots.handover:
            slots.handing_over = False
            return
        adopted = drain(slots)
        if adopted is not None:
            owner, position, call, started = adopted
            await owner.run_step(position, call, started)

    def flush(self, last: bool = False) -> None:
        """Record the steps that returned (each value encoded now: one that cannot be
        stored fails its step), commit the buffered records in one transaction, then
        release the steps that waited for them.  ``last``: the run's last step
        returned (it releases nothing): its record is committed with the run's end
        status instead (``drive`` commits what is buffered when the run ends)."""
        self.scheduled = False
        waiting, self.waiting = self.waiting, []
        writes, self.writes = self.writes, []
        handing, self.handing = self.handing, []
        store = self.store
        if store is not None:
            finished = Finished()
            if waiting:
                waiting = self.record(store, waiting, finished)
            if last:  # (after it: what failed while it was recorded)
                self.writes = [*writes, *finished.writes(), *self.writes]
            elif writes or finished:
                assert self.run_id is not None
                store._commit_group(self.run_id, writes, finished)
        for run, position, value, started, holds_slot, _ in waiting:
            run.committed(position, value, started, holds_slot)
        for run, mapped, item, value in handing:
            Run.item_ready(run, mapped, item, value, run.now())

    @staticmethod
    def record(store: Store, waiting: list[Waiting], finished: Finished) -> list[Waiting]:
        """Add to ``finished`` the records of the steps in ``waiting`` that returned;
        the steps to release once they are committed (a step whose value cannot be
        stored fails instead; one whose value does not fit its keys is released to
        fail)."""
        encode = store._encode
        steps, keys, blobs = finished.steps, finished.keys, finished.blobs
        counts = scopes = None
        owner: DurableRun | None = None
        single: tuple[str | None, ...] = ()
        names: tuple[str, ...] | list[str] = ()
        scope: tuple[str, ...] = ()
        failed: list[int] = []
        for index, (run, position, value, _, holds_slot, build) in enumerate(waiting):
            if not build:
                continue
            if run is not owner:  # (the same run's, in a row, most of the time)
                owner, single, names, scope = run, run.single, run.names, run.emit.scope
                if not steps:
                    finished.scope = scope
                elif scopes is None and scope != finished.scope:
                    scopes = finished.scopes = [finished.scope] * len(steps)
            key = single[position]
            try:
                if key is not None:
                    blobs.append(encode(value))
                    keys.append(key)
                    if counts is not None:
                        counts.append(1)
                else:
                    values = values_of(run.plan, position, value)
                    if values is None:  # not its keys: writing it raises the error
                        continue
                    encoded = [encode(v) for v in values.values()]
                    blobs += encoded
                    keys += values
                    if counts is None:
                        counts = finished.counts = [1] * len(steps)
                    counts.append(len(encoded))
            except Exception:
                try:  # again, for the error naming the step and the key
                    store.encode_values(names[position],
                                        values_of(run.plan, position, value) or {})
                except Exception as error:
                    run.fail(position, error, holds_slot)
                    failed.append(index)
                    continue
                raise  # pragma: no cover - encoding failed once, not twice
            steps.append(names[position])
            if scopes is not None:
                scopes.append(scope)
        if failed:
            dropped = set(failed)
            return [entry for index, entry in enumerate(waiting) if index not in dropped]
        return waiting

    # -- reading back ---------------------------------------------------------------

    def records(self, scope: tuple[str, ...]) -> dict[tuple[str, int | None], StepRecord]:
        """The records of one scope, by (step, item)."""
        return self.scopes.get(scope, {})

    def restored_event(self, run: Run, step: str, status: str, item: int | None = None
                       ) -> None:
        """Log :class:`StepRestored`."""
        self.restored += 1
        send(run, StepRestored(time=run.now(), step=step, status=status,
                               scope=run.emit.scope, item=item))


def send(run: Run, event: Any) -> None:
    """Log an event of a durable run (and hand it to ``on_event``)."""
    if run.emit.on_event is None:
        run.emit.log.append(event)
    else:
        run.emit.send(event)


def ask_key(scope: tuple[str, ...], step: str) -> str:
    """How an ask is named in ``result.pending`` and ``answers=``: the step's name,
    with the path of sub-workflow steps it is inside (``"review/approval"``)."""
    return "/".join((*scope, step))
