"""Ticket router with an "otherwise" route (a port of Spectra's branching sample).

In Spectra (a .NET workflow engine), ``classify`` has three outgoing edges: one when
the severity is ``critical``, one when it is ``normal``, and one with no condition, the
fallback taken when no other edge matches.  Here each route is a step guarded by a
``match`` on the key ``severity``:

- ``escalate``: ``match(severity={"critical", "blocker"})`` (a set: either value);
- ``process``: ``match(severity="normal")``;
- ``backlog``: ``~match(severity={"critical", "blocker", "normal"})``, the catch-all:
  it holds for every other severity (and, like every guard, not when ``severity`` was
  never written).

The compiler proves the three guards exclusive (no value of ``severity`` makes two of
them hold), so all three write ``queue`` with no reducer, and ``notify`` (a
``Join.ALL`` over the three routes) runs once, after whichever ran.
``release_claim`` runs ``after=("notify",)``: an ordering-only edge, it reads no value
of ``notify`` but must not release the ticket before the customer has been told.  The
stand-in steps only sleep: no network.
"""

from __future__ import annotations

import sys

import trio

from spectra_dsl import Join, Workflow, events, match

#: Stand-in latencies of the steps, in seconds.
DELAYS = {
    "classify": 0.0625, "escalate": 0.125, "process": 0.25, "backlog": 0.03125,
    "notify": 0.0625, "release_claim": 0.03125,
}

#: Severities that page someone.
URGENT = frozenset({"critical", "blocker"})

wf = Workflow("ticket-router", inputs=("severity_given", "title"))


@wf.step(writes="severity")
async def classify(severity_given: str, title: str) -> str:
    """Normalise the severity given with the ticket (Spectra's ``ClassifyStep``)."""
    await trio.sleep(DELAYS["classify"])
    return severity_given.strip().lower() or "unknown"


@wf.step(when=match(severity=URGENT), writes="queue")
async def escalate(title: str) -> str:
    """Page the engineer on call."""
    await trio.sleep(DELAYS["escalate"])
    return "URGENT: page on-call"


@wf.step(when=match(severity="normal"), writes="queue")
async def process(title: str) -> str:
    """The standard queue."""
    await trio.sleep(DELAYS["process"])
    return "NORMAL: standard queue"


@wf.step(when=~match(severity={"critical", "blocker", "normal"}), writes="queue")
async def backlog(title: str) -> str:
    """Every other severity: the "otherwise" route."""
    await trio.sleep(DELAYS["backlog"])
    return "BACKLOG: low priority"


@wf.step(join=Join.ALL)
async def notify(title: str, queue: str) -> str:
    """Tell the customer where the ticket went; runs once, whichever route ran."""
    await trio.sleep(DELAYS["notify"])
    return f"routed to [{queue}]: {title!r}"


@wf.step(after=("notify",))
async def release_claim(title: str) -> str:
    """Release the ticket's claim, only once the customer has been told."""
    await trio.sleep(DELAYS["release_claim"])
    return f"released {title!r}"


def main(argv: list[str] | None = None) -> None:
    """Route a ticket of each kind (or the severity and title given on the command
    line); show which route ran and which were skipped."""
    args = sys.argv[1:] if argv is None else argv
    tickets = ([(args[0], args[1] if len(args) > 1 else "Untitled")] if args else [
        ("critical", "Database connection pool exhausted"),
        ("normal", "User cannot reset password"),
        ("low", "Update footer copyright"),
    ])
    plan = wf.compile()
    for severity, title in tickets:
        result = plan.run_sync({"severity_given": severity, "title": title})
        print(f"{severity}: {result['notify']}")
        skipped = [e.step for e in result.events_of(events.StepSkipped)]
        print(f"  skipped: {', '.join(skipped)}")


if __name__ == "__main__":
    main()
