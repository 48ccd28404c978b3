"""Durable order: charge the card and reserve the stock in parallel, ship after; a
process killed halfway is run again and nothing is charged twice.

```sh
python examples/durable_order.py orders.sqlite --crash   # killed (SIGKILL) in ship
python examples/durable_order.py orders.sqlite           # resumes: ships, no new charge
```

Every step is journaled to an SQLite file: ``charge`` and ``reserve`` finish and their
records are committed before ``ship`` starts, so when the process dies in ``ship`` the
second run restores them (it never calls them again) and only ships.  The payment
service is a stand-in that appends to ``<store>.ledger``; it is given
``current_step().key`` (``"o-42/charge"``) as its idempotency key, the same on every
attempt and every resume, so even a charge that was in flight at the kill (and so runs
again) could be recognised by a real payment service.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import trio

from spectra_dsl import Join, Workflow, current_step
from spectra_dsl.store import SqliteStore

#: Stand-in latencies, in seconds.
DELAYS = {"price": 0.0625, "charge": 0.25, "reserve": 0.125, "ship": 0.125}

wf = Workflow("durable-order", inputs=("order_id", "card", "ledger"))


@wf.step
async def price(order_id: str) -> int:
    """The order's price in cents."""
    await trio.sleep(DELAYS["price"])
    return 4200


@wf.step
async def charge(price: int, card: str, ledger: str) -> str:
    """Charge the card (a stand-in payment service writing to a ledger file)."""
    key = current_step().key  # the same for every attempt and every resume
    await trio.sleep(DELAYS["charge"])
    with open(ledger, "a", encoding="utf-8") as book:
        book.write(f"charged {price} to {card} (idempotency key {key})\n")
    return f"receipt-{key}"


@wf.step
async def reserve(order_id: str) -> str:
    """Reserve the stock."""
    await trio.sleep(DELAYS["reserve"])
    return f"shelf-7/{order_id}"


@wf.step(join=Join.ALL)
async def ship(charge: str, reserve: str) -> str:
    """Ship once paid and reserved; with ``SPECTRA_CRASH_IN_SHIP`` set, the process
    dies here instead (as a kill -9 or a power cut would)."""
    await trio.sleep(DELAYS["ship"])
    if os.environ.get("SPECTRA_CRASH_IN_SHIP"):
        os.kill(os.getpid(), signal.SIGKILL)
    return f"shipped {reserve} ({charge})"


async def place(path: str, order_id: str = "o-42") -> str:
    """Run the order, or resume it if a run of it is in the store already."""
    plan = wf.compile()
    async with SqliteStore.open(path) as store:
        if any(r.run_id == order_id for r in store.runs()):
            result = await plan.resume(order_id, store=store)
        else:
            inputs = {"order_id": order_id, "card": "4242", "ledger": f"{path}.ledger"}
            result = await plan.run(inputs, store=store, run_id=order_id)
    shipped: str = result["ship"]
    return shipped


def main(argv: list[str]) -> None:
    path = argv[0] if argv else "orders.sqlite"
    if "--crash" in argv:
        os.environ["SPECTRA_CRASH_IN_SHIP"] = "1"
    print(trio.run(place, path))
    ledger = Path(f"{path}.ledger")
    print(ledger.read_text(encoding="utf-8"), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
