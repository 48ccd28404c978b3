"""The public surface: decorated functions stay themselves, typed; the layering holds."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import trio
from typing_extensions import assert_type

import compiler
import spectra_dsl
from spectra_dsl import Join, Workflow, step

wf = Workflow("typed")


@step
async def fetch(url: str) -> str:
    return url.upper()


@wf.step(join=Join.ALL, writes="score")
def score(fetch: str, weight: float = 1.0) -> float:
    return len(fetch) * weight


def test_a_decorated_function_is_the_same_callable_with_its_signature() -> None:
    # assert_type is checked by mypy --strict over tests/: the signature survives.
    as_callable: Callable[[str], Coroutine[Any, Any, str]] = fetch
    result = trio.run(as_callable, "abc")
    assert_type(result, str)
    assert result == "ABC"
    value = score("abcd", weight=2.0)
    assert_type(value, float)
    assert value == 8.0
    assert fetch.__name__ == "fetch" and score.__name__ == "score"


def test_public_names_are_reexported_from_private_modules() -> None:
    for name in spectra_dsl.__all__:
        assert hasattr(spectra_dsl, name), name
    for name in compiler.__all__:
        assert hasattr(compiler, name), name


def test_importing_the_compiler_does_not_import_trio_or_the_dsl() -> None:
    code = (
        "import sys, compiler, compiler._lower; "
        "bad = [m for m in ('trio', 'spectra_dsl') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
