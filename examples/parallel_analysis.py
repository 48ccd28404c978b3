"""Parallel analysis: a fan-out / fan-in, as four decorated functions.

The example of the "Parallel Execution" page of Spectra (https://github.com/alicank/Spectra,
a .NET workflow library), in Python.

``fetch`` downloads an article (a stand-in here: no network), then ``sentiment`` and
``entities`` analyse it at the same time, and ``merge`` joins the two branches with
``join=Join.ALL``.  No edge says "parallel": the parameter names are the graph.

Run it with ``python examples/parallel_analysis.py``; it prints the merged result and
the run's timeline (``result.timeline()``: a bar per step, which steps ran together,
which branches the join waited for), about 0.7 s in all.
"""

from __future__ import annotations

import itertools

import trio

from spectra_dsl import Join, Workflow

#: How long each stand-in step takes, in seconds (binary fractions, so virtual-time
#: tests can compare times exactly).
DELAYS = {"fetch": 0.125, "sentiment": 0.25, "entities": 0.5, "merge": 0.0625}

ARTICLE = (
    "Ada Lovelace and Charles Babbage met in London. "
    "Their work on the Analytical Engine was brilliant and remains an inspiring story."
)
POSITIVE = {"brilliant", "inspiring", "great", "good"}
NEGATIVE = {"bad", "poor", "broken", "sad"}

wf = Workflow("parallel-analysis", max_concurrency=8)


@wf.step
async def fetch(url: str) -> str:
    """Download the article (a stand-in: every URL returns the same text)."""
    await trio.sleep(DELAYS["fetch"])
    return ARTICLE


@wf.step
async def sentiment(fetch: str) -> float:
    """A score in [-1, 1]: positive minus negative words, over the words that count."""
    await trio.sleep(DELAYS["sentiment"])
    words = [w.strip(".,").lower() for w in fetch.split()]
    pos = sum(w in POSITIVE for w in words)
    neg = sum(w in NEGATIVE for w in words)
    return 0.0 if pos + neg == 0 else (pos - neg) / (pos + neg)


@wf.step
async def entities(fetch: str) -> list[str]:
    """Capitalised word pairs, as a stand-in for named-entity recognition."""
    await trio.sleep(DELAYS["entities"])
    words = fetch.split()
    return [
        f"{a} {b.strip('.,')}" for a, b in itertools.pairwise(words)
        if a[:1].isupper() and b[:1].isupper() and not a.endswith(".")
    ]


@wf.step(join=Join.ALL)
async def merge(sentiment: float, entities: list[str]) -> dict[str, object]:
    """Join both branches into one report; runs once, after both have finished."""
    await trio.sleep(DELAYS["merge"])
    return {"sentiment": sentiment, "entities": entities}


def main() -> None:
    """Compile, run and print the result with its timeline."""
    plan = wf.compile()
    result = plan.run_sync({"url": "https://example.org/article"})
    print("merge:", result["merge"])
    print("timeline:")
    print(result.timeline())
    print(f"total: {result.duration:.2f}s")


if __name__ == "__main__":
    main()
