"""Approval: draft a post, ask a person whether to publish it, then publish.

```sh
python examples/approval.py posts.sqlite              # stops: the question is pending
python examples/approval.py posts.sqlite --answer yes # resumes with the answer
python examples/approval.py --terminal                # asks on this terminal instead
```

``approval`` is an ask step (``@step(ask=True)``): it returns ``Ask(payload)`` and its
readers get the person's answer, never the ``Ask``.  With a store and no ``on_ask`` the
run ends ``interrupted``, ``result.pending`` holding the question, and every step
that does not need the answer (here ``tags``) has run; ``plan.resume(run_id,
store=store, answers={"approval": ...})`` goes on from there, the draft not written
again.  With ``on_ask=`` the question is answered in the same process.
"""

from __future__ import annotations

import sys
from typing import Any

import trio

from spectra_dsl import Ask, Join, Workflow
from spectra_dsl.store import SqliteStore

wf = Workflow("approval", inputs=("topic",))


@wf.step
async def draft(topic: str) -> str:
    """Write the post (a stand-in for an LLM call)."""
    await trio.sleep(0.25)
    return f"Ten things nobody tells you about {topic}."


@wf.step
async def tags(topic: str) -> list[str]:
    """Tag the post: needs no approval, so it runs while the question waits."""
    await trio.sleep(0.125)
    return [topic, "listicle"]


@wf.step(ask=True)
async def approval(draft: str) -> Ask[bool]:
    """Ask a person whether to publish the draft."""
    return Ask({"draft": draft, "question": "Publish this post?"})


@wf.step(join=Join.ALL)
async def publish(draft: str, tags: list[str], approval: bool) -> str:
    """Publish (or file away) the post, as the person decided."""
    if not approval:
        return f"filed away: {draft!r}"
    return f"published: {draft!r} tagged {', '.join(tags)}"


async def from_terminal(step: str, payload: Any) -> bool:
    """``on_ask``: ask on this terminal (in a worker thread: input() blocks)."""
    print(payload["draft"])
    reply = await trio.to_thread.run_sync(input, f"{payload['question']} [y/n] ")
    return reply.strip().lower().startswith("y")


async def main(argv: list[str]) -> None:
    plan = wf.compile()
    if "--terminal" in argv:
        result = await plan.run({"topic": "owls"}, on_ask=from_terminal)
        print(result["publish"])
        return
    path = argv[0] if argv and not argv[0].startswith("--") else "posts.sqlite"
    async with SqliteStore.open(path) as store:
        if "--answer" in argv:
            answer = argv[argv.index("--answer") + 1].lower().startswith("y")
            result = await plan.resume("post-1", store=store, answers={"approval": answer})
        else:
            result = await plan.run({"topic": "owls"}, store=store, run_id="post-1")
    if result.status == "interrupted":
        question = result.pending["approval"]
        print(f"waiting for a person: {question['question']} {question['draft']!r}")
        print(f"answer with: python examples/approval.py {path} --answer yes")
    else:
        print(result["publish"])


if __name__ == "__main__":
    trio.run(main, sys.argv[1:])
