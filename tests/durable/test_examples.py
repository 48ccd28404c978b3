"""The durable examples do what their docstrings say."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from examples import approval, durable_order
from spectra_dsl.store import MemoryStore
from tests.helpers import virtual

ROOT = Path(__file__).resolve().parents[2]



def test_durable_order_killed_in_ship_charges_once_when_run_again(tmp_path: Path) -> None:
    path = str(tmp_path / "orders.sqlite")
    script = str(ROOT / "examples" / "durable_order.py")
    env = {k: v for k, v in os.environ.items() if k != "SPECTRA_CRASH_IN_SHIP"}
    killed = subprocess.run([sys.executable, script, path, "--crash"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert killed.returncode == -signal.SIGKILL
    again = subprocess.run([sys.executable, script, path], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=True)
    assert again.stdout.splitlines() == [
        "shipped shelf-7/o-42 (receipt-o-42/charge)",
        "charged 4200 to 4242 (idempotency key o-42/charge)",  # once
    ]


def test_durable_order_in_one_process_takes_the_longer_branch_plus_ship(
        tmp_path: Path) -> None:
    plan = durable_order.wf.compile()
    inputs = {"order_id": "o-1", "card": "4242", "ledger": str(tmp_path / "ledger")}
    result = virtual(lambda: plan.run(inputs, store=MemoryStore(), run_id="o-1"))
    assert result["ship"] == "shipped shelf-7/o-1 (receipt-o-1/charge)"
    assert result.duration == 0.0625 + 0.25 + 0.125


def test_approval_stops_for_the_person_and_publishes_on_resume() -> None:
    plan = approval.wf.compile()
    store = MemoryStore()
    first = virtual(lambda: plan.run({"topic": "owls"}, store=store, run_id="post-1"))
    assert first.status == "interrupted"
    assert first.pending["approval"]["question"] == "Publish this post?"
    assert first["tags"] == ["owls", "listicle"]
    done = virtual(lambda: plan.resume("post-1", store=store, answers={"approval": True}))
    assert done["publish"] == ("published: 'Ten things nobody tells you about owls.' "
                               "tagged owls, listicle")


def test_approval_answered_in_process() -> None:
    async def no(step: str, payload: Any) -> bool:
        return False

    result = virtual(lambda: approval.wf.compile().run({"topic": "owls"}, on_ask=no))
    assert result["publish"] == "filed away: 'Ten things nobody tells you about owls.'"
