"""Support-ticket router: classify a ticket, then take the urgent or the normal path.

``classify`` writes the key ``route``.  The two paths are guarded by ``match`` on that
key, so exactly one of them runs and the other is **skipped**:

- urgent: ``page_on_call`` (guarded) then ``escalate`` (not guarded: when
  ``page_on_call`` is skipped, ``escalate`` loses its required input and is skipped
  too; that is dead-path elimination);
- normal: ``draft_answer`` (guarded).

``escalate`` and ``draft_answer`` both write ``response`` with no reducer: the compiler
knows they are mutually exclusive (they depend on different values of ``route``), so
they can never race.  ``notify`` is a ``Join.ALL`` fan-in over both paths: it runs once,
when one path has finished and the other has been skipped.  The stand-in steps only
sleep: no network.
"""

from __future__ import annotations

import trio

from spectra_dsl import Join, Workflow, events, match

#: Stand-in latencies of the steps, in seconds.
DELAYS = {
    "classify": 0.0625, "page_on_call": 0.125, "escalate": 0.0625,
    "draft_answer": 0.25, "notify": 0.03125,
}

#: Words that make a ticket urgent.
URGENT_WORDS = ("outage", "down", "data loss", "security")

#: Who is on call, by product.
ON_CALL = {"billing": "Grace", "api": "Ada"}

Ticket = dict[str, str]

wf = Workflow("support-ticket-router", inputs=("ticket",))


@wf.step(writes="route")
async def classify(ticket: Ticket) -> str:
    """A stand-in classifier: ``"urgent"`` if the text mentions an urgent word."""
    await trio.sleep(DELAYS["classify"])
    text = ticket["text"].lower()
    return "urgent" if any(word in text for word in URGENT_WORDS) else "normal"


@wf.step(when=match(route="urgent"))
async def page_on_call(ticket: Ticket) -> str:
    """Page the engineer on call for the ticket's product; return their name."""
    await trio.sleep(DELAYS["page_on_call"])
    return ON_CALL.get(ticket["product"], "the duty manager")


@wf.step(writes="response")
async def escalate(ticket: Ticket, page_on_call: str) -> str:
    """No guard of its own: it is skipped when ``page_on_call`` is."""
    await trio.sleep(DELAYS["escalate"])
    return f"{page_on_call} is on it: we will update you within the hour"


@wf.step(when=match(route="normal"), writes="response")
async def draft_answer(ticket: Ticket) -> str:
    """Answer an ordinary ticket from the help centre."""
    await trio.sleep(DELAYS["draft_answer"])
    return f"thanks, see the help centre page on {ticket['product']}"


@wf.step(join=Join.ALL)
async def notify(ticket: Ticket, route: str, response: str) -> str:
    """Tell the customer; runs once, whichever path was taken."""
    await trio.sleep(DELAYS["notify"])
    return f"to {ticket['customer']} [{route}]: {response}"


TICKETS: list[Ticket] = [
    {"customer": "ada@example.org", "product": "api", "text": "The API is down!"},
    {"customer": "alan@example.org", "product": "billing", "text": "How do I get a receipt?"},
]


def main() -> None:
    """Route an urgent ticket and a normal one; show what ran and what was skipped."""
    plan = wf.compile()
    for ticket in TICKETS:
        result = plan.run_sync({"ticket": ticket})
        print(result["notify"])
        for skipped in result.events_of(events.StepSkipped):
            print(f"  skipped {skipped.step}: {skipped.reason}")


if __name__ == "__main__":
    main()
