"""Flaky enrichment: retry a stand-in service that fails twice, then answers.

``enrich`` calls a company-data service that is having a bad minute: the first call
fails with ``ConnectionError``, the second hangs, the third answers.  The step says
how to cope, and the runner does the rest:

- ``timeout=0.25``: one attempt may take at most 0.25 s on trio's clock; a hung
  attempt is cancelled and counts as a failure (``StepTimeout``), retried like one;
- ``retry=Retry(attempts=4, backoff=0.125, factor=2.0, on=(ConnectionError,))``: up to
  four tries; the wait before try ``n + 1`` is ``0.125 * 2 ** (n - 1)`` seconds (0.125 s,
  then 0.25 s, then 0.5 s).  Only ``ConnectionError`` and timeouts are retried: any
  other exception fails the run at once.

The service is a stand-in object (no network): ``SERVICE.script`` lists how its next
calls go, and ``SERVICE.calls`` records when each call started.
"""

from __future__ import annotations

import attrs
import trio

from spectra_dsl import Retry, Workflow, events

#: Stand-in latencies, in seconds.
DELAYS = {"normalize": 0.03125, "service": 0.0625, "score": 0.03125}

#: The retry policy and the timeout of ``enrich``.
POLICY = Retry(attempts=4, backoff=0.125, factor=2.0, on=(ConnectionError,))
TIMEOUT = 0.25

#: What the service knows.
COMPANIES = {"example.org": {"name": "Example Org", "employees": 250, "industry": "software"}}


@attrs.define
class FlakyService:
    """A stand-in company-data service.

    Each call takes the next outcome from ``script``: ``"fail"`` raises
    ``ConnectionError``, ``"hang"`` never answers, ``"bad"`` raises ``ValueError``;
    once the script is used up every call answers.
    """

    script: list[str] = attrs.field(factory=lambda: ["fail", "hang"])
    calls: list[float] = attrs.field(factory=list)

    def reset(self, *script: str) -> None:
        """Start over with a new script (default: fail, then hang, then answer)."""
        self.script = list(script) if script else ["fail", "hang"]
        self.calls = []

    async def lookup(self, domain: str) -> dict[str, object]:
        self.calls.append(trio.current_time())
        outcome = self.script.pop(0) if self.script else "ok"
        await trio.sleep(DELAYS["service"])
        if outcome == "fail":
            raise ConnectionError(f"connection to the enrichment service reset ({domain})")
        if outcome == "hang":
            await trio.sleep_forever()
        if outcome == "bad":
            raise ValueError(f"the service has no record of {domain!r}")
        return dict(COMPANIES.get(domain, {"name": domain, "employees": 0}))


SERVICE = FlakyService()

wf = Workflow("flaky-enrichment", inputs=("email",))


@wf.step
async def normalize(email: str) -> str:
    """The company domain of a lead's e-mail address."""
    await trio.sleep(DELAYS["normalize"])
    return email.rsplit("@", 1)[-1].lower()


@wf.step(retry=POLICY, timeout=TIMEOUT)
async def enrich(normalize: str) -> dict[str, object]:
    """Ask the flaky service about the company; retried and timed out as above."""
    return await SERVICE.lookup(normalize)


@wf.step
async def score(enrich: dict[str, object]) -> int:
    """A lead score from the company data."""
    await trio.sleep(DELAYS["score"])
    employees = enrich.get("employees", 0)
    return min(100, int(employees) // 5) if isinstance(employees, int) else 0


def main() -> None:
    """Enrich one lead and show each retry."""
    SERVICE.reset()
    result = wf.compile().run_sync({"email": "Ada@Example.org"})
    print(f"score: {result['score']} ({result['enrich']['name']})")
    for event in result.events:
        if isinstance(event, events.StepTimedOut):
            print(f"  attempt {event.attempt} timed out after {event.timeout:g} s")
        elif isinstance(event, events.RetryAttempt):
            print(f"  attempt {event.attempt} in {event.delay:g} s "
                  f"(after {type(event.error).__name__})")


if __name__ == "__main__":
    main()
