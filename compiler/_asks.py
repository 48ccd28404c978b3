"""The checks of ask steps (``@step(ask=True)``): SPX601 and SPX602."""

from __future__ import annotations

from collections.abc import Sequence

from . import _ir as ir
from ._checks import JoinShape
from ._diagnostics import Diagnostic


def check_asks(steps: Sequence[ir.StepSpec], shapes: Sequence[JoinShape]) -> list[Diagnostic]:
    """SPX601 an ask step that is a branch tip of a ``Join.ANY`` step; SPX602 ``ask=True``
    with ``retry=`` or ``timeout=``."""
    found: list[Diagnostic] = []
    asks = [i for i, step in enumerate(steps) if step.ask is True]
    if not asks:
        return found
    for i in asks:
        step = steps[i]
        given = [name for name, value in (("retry=", step.retry), ("timeout=", step.timeout))
                 if value is not None]
        if given:
            found.append(Diagnostic(
                "SPX602",
                f"step '{step.name}' asks a person (ask=True) and also has "
                f"{' and '.join(given)}; a person's answer is not retried or timed out: "
                "remove " + " and ".join(given) + " (put them on the steps around it)",
                steps=(step.name,), location=step.location,
            ))
    racing = set(asks)
    for step, shape in zip(steps, shapes, strict=True):
        if step.join != "any" or not shape.fan_in:
            continue
        for tip in shape.tips:
            if tip in racing:
                found.append(Diagnostic(
                    "SPX601",
                    f"step '{steps[tip].name}' asks a person (ask=True) and is a branch of "
                    f"the Join.ANY step '{step.name}', which may run without its answer "
                    "and never wait for it; use join=Join.ALL, or move the ask before the "
                    "race",
                    steps=(steps[tip].name, step.name), location=steps[tip].location,
                ))
    return found
