"""Fan-out enrichment: fetch one base record, enrich it from several services at once.

``load_customer`` reads the base record; ``geo``, ``credit`` and ``social`` each call a
(stand-in) service and write a fragment to the shared key ``enrichment``, folded with
the ``merge`` reducer; ``profile`` joins the three branches with ``join=Join.ALL``.
The services are rate limited, so the workflow allows two calls at a time with
``max_concurrency=2``: the third enricher waits for a free slot.
"""

from __future__ import annotations

import trio

from spectra_dsl import Join, Workflow, reducers

#: Stand-in service latencies, in seconds.
DELAYS = {"load_customer": 0.125, "geo": 0.25, "credit": 0.5, "social": 0.125,
          "profile": 0.0625}

CUSTOMERS = {
    "c-42": {"id": "c-42", "name": "Grace Hopper", "city": "Arlington",
             "email": "grace@example.org"},
}

wf = Workflow("fan-out-enrichment", max_concurrency=2, reducers={"enrichment": reducers.merge})


@wf.step
async def load_customer(customer_id: str) -> dict[str, str]:
    """The base record (a stand-in for a database read)."""
    await trio.sleep(DELAYS["load_customer"])
    return CUSTOMERS[customer_id]


@wf.step(writes="enrichment")
async def geo(load_customer: dict[str, str]) -> dict[str, object]:
    """A geocoding service."""
    await trio.sleep(DELAYS["geo"])
    return {"region": "US-VA", "city": load_customer["city"]}


@wf.step(writes="enrichment")
async def credit(load_customer: dict[str, str]) -> dict[str, object]:
    """A (slow) credit-scoring service."""
    await trio.sleep(DELAYS["credit"])
    return {"credit_score": 780}


@wf.step(writes="enrichment")
async def social(load_customer: dict[str, str]) -> dict[str, object]:
    """A social-profile lookup keyed by e-mail address."""
    await trio.sleep(DELAYS["social"])
    return {"handle": "@" + load_customer["email"].split("@")[0]}


@wf.step(join=Join.ALL)
async def profile(
    load_customer: dict[str, str], enrichment: dict[str, object]
) -> dict[str, object]:
    """The base record with every enrichment folded in (in plan order)."""
    await trio.sleep(DELAYS["profile"])
    return {**load_customer, **enrichment}


def main() -> None:
    """Enrich one customer and print the profile and how the limit was used."""
    result = wf.compile().run_sync({"customer_id": "c-42"})
    print("profile:", result["profile"])
    print(f"at most {result.peak_concurrency} steps ran at once; total {result.duration:.2f}s")


if __name__ == "__main__":
    main()
