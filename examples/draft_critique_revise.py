"""Draft, critique, revise: a bounded loop that refines a draft until it is good.

``write_draft`` writes a first draft.  The loop ``refine`` runs the body workflow
``one_pass`` pass after pass: ``critique`` lists what the draft still lacks,
``revise`` fixes the first item, ``review`` approves the revision when nothing is left.
``Repeat`` says how the passes connect:

- ``carry={"revised": "draft"}``: a pass's ``revised`` is the next pass's ``draft``
  (the first pass takes ``draft`` from the outer workflow, from ``write_draft``);
- ``until=match(approved=True)``: checked after each pass; the body runs at least once;
- ``max_iterations=5``: the bound every loop needs (reaching it without ``until``
  holding raises ``LoopLimitExceeded``).

``writes={"revised": "final"}`` copies the last pass's ``revised`` to the outer key
``final``.  The stand-in "model" only edits strings: no network, no API key.
"""

from __future__ import annotations

import trio

from spectra_dsl import Repeat, Workflow, events, match

#: Stand-in latencies of the steps, in seconds.
DELAYS = {"write_draft": 0.0625, "critique": 0.0625, "revise": 0.0625, "review": 0.03125}

#: The sections a finished draft has, in order.
SECTIONS = ("summary", "evidence", "conclusion")

one_pass = Workflow("one-pass")


@one_pass.step
async def critique(draft: str) -> list[str]:
    """What the draft still lacks."""
    await trio.sleep(DELAYS["critique"])
    return [f"add a {section}" for section in SECTIONS if f"[{section}]" not in draft]


@one_pass.step(writes="revised")
async def revise(draft: str, critique: list[str]) -> str:
    """Fix the first thing the critique asks for."""
    await trio.sleep(DELAYS["revise"])
    if not critique:
        return draft
    section = critique[0].removeprefix("add a ")
    return f"{draft} [{section}]"


@one_pass.step(writes="approved")
async def review(revised: str) -> bool:
    """Approve a revision that has every section."""
    await trio.sleep(DELAYS["review"])
    return all(f"[{section}]" in revised for section in SECTIONS)


wf = Workflow("draft-critique-revise", inputs=("topic",))


@wf.step(writes="draft")
async def write_draft(topic: str) -> str:
    """The first draft: just a title."""
    await trio.sleep(DELAYS["write_draft"])
    return f"# {topic}"


wf.add(
    one_pass,
    name="refine",
    writes={"revised": "final", "approved": "approved"},
    repeat=Repeat(until=match(approved=True), max_iterations=5,
                  carry={"revised": "draft"}),
)


def main() -> None:
    """Refine a draft and say which pass approved it."""
    result = wf.compile().run_sync({"topic": "Why trio"})
    passes = result.events_of(events.LoopIteration)
    print(f"final: {result['final']}")
    print(f"approved after pass {passes[-1].iteration} of at most 5")


if __name__ == "__main__":
    main()
