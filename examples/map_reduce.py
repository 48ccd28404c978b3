"""Map-reduce over a list known only at run time, and a sub-workflow per document.

``subjects`` turns a topic into a list of subjects while the run goes on; ``joke`` is
mapped over it (``@wf.step(map="subjects", concurrency=2)``): one call per subject, at
most two at once, the value the list of jokes in subject order; ``best`` reads that
list.  The timeline printed shows the calls overlapping, two by two.

The second workflow runs a sub-workflow once per document (``wf.add(per_document,
map="docs", ...)``): fetch -> summarise -> score for each, concurrently; ``score`` and
``summary`` are lists, one value per document, and ``pick`` takes the best.  Every step
is a stand-in (no network): ``trio.sleep`` plays the latency.
"""

from __future__ import annotations

import trio

from spectra_dsl import RunResult, Workflow

#: Stand-in latencies, in seconds.
DELAYS = {"subjects": 0.125, "joke": 0.25, "best": 0.0625, "fetch": 0.125,
          "summarise": 0.25}

jokes = Workflow("jokes")


@jokes.step
async def subjects(topic: str) -> list[str]:
    """The subjects of a topic: a list known only once this step ran."""
    await trio.sleep(DELAYS["subjects"])
    return [f"{topic} {kind}" for kind in ("cats", "dogs", "birds", "fish", "ants")]


@jokes.step(map="subjects", concurrency=2)
async def joke(subjects: str) -> str:
    """One joke per subject (here ``subjects`` is ONE subject); two at a time."""
    await trio.sleep(DELAYS["joke"])
    return f"Why did the {subjects} cross the road? To get to the other {subjects}."


@jokes.step
async def best(joke: list[str]) -> str:
    """The funniest joke (here: the longest)."""
    await trio.sleep(DELAYS["best"])
    return max(joke, key=len)


per_document = Workflow("per_document")


@per_document.step
async def fetch(docs: str) -> str:
    """The document's text (a stand-in for an HTTP fetch)."""
    await trio.sleep(DELAYS["fetch"])
    return f"the text of {docs}, " * int(docs.split("-")[-1].split(".")[0])


@per_document.step
async def summary(fetch: str) -> str:
    """A one-line summary."""
    await trio.sleep(DELAYS["summarise"])
    return fetch.split(",")[0]


@per_document.step
async def score(fetch: str, summary: str) -> float:
    """How much of the text the summary keeps."""
    return round(len(summary) / len(fetch), 3)


documents = Workflow("documents")


@documents.step
async def docs(query: str) -> list[str]:
    """The documents matching a query."""
    return [f"{query}-{n}.txt" for n in range(1, 4)]


documents.add(per_document, name="each", map="docs", writes=("summary", "score"))


@documents.step
async def pick(summary: list[str], score: list[float]) -> str:
    """The summary that scored highest."""
    return summary[score.index(max(score))]


def timeline(result: RunResult) -> list[str]:
    """One line per call: when it ran and which calls ran together."""
    spans = result.intervals()
    lines = []
    for name, (start, end) in sorted(spans.items(), key=lambda kv: (kv[1][0], kv[0])):
        if name == "joke":  # the mapped step's own span: its calls follow
            continue
        together = [n for n in result.ran_together(name) if "[" in n]
        also = f"  ran together with: {', '.join(together)}" if together else ""
        lines.append(f"  {name:9} {start - result.started:5.2f}s -> "
                     f"{end - result.started:5.2f}s{also}")
    return lines


def main() -> None:
    """Run both workflows and print what they did."""
    result = jokes.compile().run_sync({"topic": "farm"})
    print(f"best joke: {result['best']}")
    print("\n".join(timeline(result)))
    found = documents.compile().run_sync({"query": "trio"}, max_concurrency=4)
    print(f"scores: {found['score']}")
    print(f"best summary: {found['pick']}")


if __name__ == "__main__":
    main()
