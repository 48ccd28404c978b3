"""LLM branch comparison: ask several (stand-in) models at once.

``fastest`` uses ``join=Join.ANY``: it runs once, as soon as the first model answers,
and the models that have not answered yet leave their parameters at the default
(``None``).  ``best`` uses ``join=Join.ALL``: it waits for every answer and picks the
highest-scoring one.  The stand-in models only sleep: no network, no API key.
"""

from __future__ import annotations

import trio

from spectra_dsl import Join, Workflow

#: How long each stand-in model takes to answer, in seconds.
LATENCIES = {"small_model": 0.125, "medium_model": 0.25, "large_model": 0.5}

wf = Workflow("llm-branch-comparison")


async def _answer(model: str, prompt: str, detail: int) -> str:
    await trio.sleep(LATENCIES[model])
    return f"{prompt.rstrip('?')}: " + ", ".join(["because"] * detail)


@wf.step
async def small_model(prompt: str) -> str:
    """Fast and terse."""
    return await _answer("small_model", prompt, 1)


@wf.step
async def medium_model(prompt: str) -> str:
    """Slower, more detailed."""
    return await _answer("medium_model", prompt, 2)


@wf.step
async def large_model(prompt: str) -> str:
    """Slowest, most detailed."""
    return await _answer("large_model", prompt, 3)


@wf.step(join=Join.ANY)
async def fastest(
    small_model: str | None = None,
    medium_model: str | None = None,
    large_model: str | None = None,
) -> str:
    """The first answer to arrive (the others are still ``None`` when this runs)."""
    answers = [a for a in (small_model, medium_model, large_model) if a is not None]
    return answers[0]


@wf.step(join=Join.ALL)
async def best(small_model: str, medium_model: str, large_model: str) -> str:
    """The answer with the most detail, once every model has answered."""
    return max((small_model, medium_model, large_model), key=len)


def main() -> None:
    """Ask one question and print the fastest and the best answer."""
    result = wf.compile().run_sync({"prompt": "Why is the sky blue?"})
    spans = result.intervals()
    for name in ("fastest", "best"):
        start = spans[name][0] - result.started
        print(f"{name} (after {start:.2f}s): {result[name]}")


if __name__ == "__main__":
    main()
