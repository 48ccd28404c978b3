"""Multi-check validation: independent checks run at once, then one decision.

Each check writes the problems it found to the shared key ``problems``; the ``extend``
reducer concatenates them **in plan order** (the order the checks are declared), not
in the order they finish, so the decision and its reasons are the same on every run.
``check_address`` is a plain ``def``: it runs in a worker thread, so blocking code never
stalls the other checks.
"""

from __future__ import annotations

import trio

from spectra_dsl import Join, Workflow, reducers

#: Stand-in latencies of the async checks, in seconds.
DELAYS = {"check_payment": 0.25, "check_fraud": 0.125, "check_stock": 0.5}

STOCK = {"keyboard": 3, "mouse": 0}

wf = Workflow("multi-check-validation", inputs=("order",))
wf.reducer("problems", reducers.extend)


@wf.step(writes="problems")
def check_address(order: dict[str, object]) -> list[str]:
    """A synchronous check (it runs in a worker thread)."""
    address = str(order.get("address", ""))
    return [] if address.strip() else ["no shipping address"]


@wf.step(writes="problems")
async def check_payment(order: dict[str, object]) -> list[str]:
    """Is the card accepted?"""
    await trio.sleep(DELAYS["check_payment"])
    return [] if order.get("card") == "valid" else ["card declined"]


@wf.step(writes="problems")
async def check_fraud(order: dict[str, object]) -> list[str]:
    """A stand-in fraud score: large orders are suspicious."""
    await trio.sleep(DELAYS["check_fraud"])
    total = order.get("total", 0)
    return ["total over the fraud limit"] if isinstance(total, int) and total > 10_000 else []


@wf.step(writes="problems")
async def check_stock(order: dict[str, object]) -> list[str]:
    """Is every item in stock?"""
    await trio.sleep(DELAYS["check_stock"])
    items = order.get("items", [])
    assert isinstance(items, list)
    return [f"'{item}' is out of stock" for item in items if STOCK.get(str(item), 0) == 0]


@wf.step(join=Join.ALL)
def decision(problems: list[str]) -> dict[str, object]:
    """Accept the order only if no check found a problem."""
    return {"accepted": not problems, "reasons": problems}


def main() -> None:
    """Validate a good order and a bad one."""
    plan = wf.compile()
    good = {"address": "1 Main St", "card": "valid", "total": 120, "items": ["keyboard"]}
    bad = {"address": "", "card": "expired", "total": 20_000, "items": ["keyboard", "mouse"]}
    for order in (good, bad):
        print(plan.run_sync({"order": order})["decision"])


if __name__ == "__main__":
    main()
