"""Fingerprints see an edited step body, a renamed step and a changed plan, and nothing
else: not a move, not a comment, not another process."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from spectra_dsl.store import (
    CodeChanges,
    ResumeError,
    code_fingerprint,
    compare_fingerprints,
    plan_fingerprint,
    step_fingerprints,
)


def define(source: str, name: str = "fetch") -> Callable[..., Any]:
    """Compile ``source`` (indented freely) as a fresh module and return ``name``."""
    namespace: dict[str, Any] = {}
    exec(compile(textwrap.dedent(source), "<step>", "exec"), namespace)
    fn: Callable[..., Any] = namespace[name]
    return fn


BODY = """
    async def fetch(url: str, retries: int = 3) -> dict:
        tags = {"a", "b", "c"}
        parse = lambda text: text.split()
        return {"url": url, "tags": sorted(tags), "words": parse(url), "n": retries}
"""


def test_the_same_code_has_the_same_fingerprint_wherever_it_is_written() -> None:
    moved = "\n\n    # a comment\n\n" + BODY.replace("tags = {", "# note\n        tags = {")
    assert code_fingerprint(define(BODY)) == code_fingerprint(define(moved))
    renamed = define(BODY.replace("def fetch", "def download"), "download")
    assert code_fingerprint(renamed) == code_fingerprint(define(BODY))


def test_an_edit_anywhere_in_the_body_changes_it() -> None:
    base = code_fingerprint(define(BODY))
    for old, new in [('"b"', '"B"'), ("retries: int = 3", "retries: int = 4"),
                     ("text.split()", "text.split(',')"), ("sorted(tags)", "list(tags)"),
                     ('"n": retries', '"n": retries + 1')]:
        assert BODY.count(old) == 1
        assert code_fingerprint(define(BODY.replace(old, new))) != base, old


def test_fingerprints_are_the_same_in_another_process() -> None:
    # str hashing (set order) differs between processes; the fingerprint must not.
    code = ("import textwrap, sys; from spectra_dsl.store import code_fingerprint; "
            "ns = {}; exec(textwrap.dedent(sys.argv[1]), ns); "
            "print(code_fingerprint(ns['fetch']))")
    here = code_fingerprint(define(BODY))
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code, BODY], capture_output=True,
                              text=True, check=True, env={"PYTHONHASHSEED": seed})
        assert done.stdout.strip() == here


def test_closures_partials_methods_and_wrappers_are_followed() -> None:
    def make(limit: int) -> Callable[[int], int]:
        def step(x: int) -> int:
            return min(x, limit)
        return step

    assert code_fingerprint(make(3)) == code_fingerprint(make(3))
    assert code_fingerprint(make(3)) != code_fingerprint(make(4))

    def add(a: int, b: int) -> int:
        return a + b

    assert code_fingerprint(functools.partial(add, 1)) != code_fingerprint(
        functools.partial(add, 2))

    def logged(fn: Callable[[int], int]) -> Callable[[int], int]:
        @functools.wraps(fn)
        def wrapper(x: int) -> int:
            return fn(x)
        return wrapper

    assert code_fingerprint(logged(make(3))) != code_fingerprint(logged(make(4)))

    class Scaler:
        def __call__(self, x: int) -> int:
            return x * 2

        def half(self, x: int) -> int:
            return x // 2

    assert code_fingerprint(Scaler()) == code_fingerprint(Scaler())
    assert code_fingerprint(Scaler().half) != code_fingerprint(Scaler())
    assert len(code_fingerprint(len)) == 32


def test_an_object_in_a_closure_counts_by_type_not_by_address() -> None:
    def make(box: object) -> Callable[[], object]:
        def step() -> object:
            return box
        return step

    assert code_fingerprint(make(object())) == code_fingerprint(make(object()))


def test_step_fingerprints_list_a_sub_workflows_steps_under_its_name() -> None:
    fetch, parse = define(BODY), define(BODY.replace("retries + 0", ""), "fetch")
    prints = step_fingerprints({"fetch": fetch, "sub": {"inner": parse, "deep": {"x": "f"}},
                                "given": "abc"})
    assert set(prints) == {"fetch", "sub", "sub/inner", "sub/deep", "sub/deep/x", "given"}
    assert prints["given"] == "abc" and prints["sub/deep/x"] == "f"
    edited = step_fingerprints({"fetch": fetch, "sub": {"inner": define(
        BODY.replace('"b"', '"z"')), "deep": {"x": "f"}}, "given": "abc"})
    assert compare_fingerprints(prints, edited).edited == ("sub", "sub/inner")


def test_compare_names_added_removed_renamed_and_edited_steps() -> None:
    stored = {"fetch": "f1", "parse": "p1", "old": "o1", "gone": "g1", "same": "s1"}
    current = {"fetch": "f2", "parse": "p1", "new": "o1", "extra": "e1", "same": "s1"}
    changes = compare_fingerprints(stored, current)
    assert changes == CodeChanges(added=("extra",), removed=("gone",),
                                  renamed=(("old", "new"),), edited=("fetch",))
    assert changes.steps == ("extra", "fetch", "new")
    assert str(changes) == ("step 'old' was renamed to 'new'; step 'fetch' was edited; "
                            "step 'extra' was added; step 'gone' was removed")
    error = ResumeError.changed("o-42", changes)
    assert error.reason == "changed" and error.changes is changes
    assert "step 'old' was renamed to 'new'" in str(error)
    assert "on_code_change='rerun'" in str(error)


def test_two_removed_steps_with_one_body_are_not_guessed_as_a_rename() -> None:
    changes = compare_fingerprints({"a": "x", "b": "x"}, {"c": "x"})
    assert changes.renamed == () and changes.removed == ("a", "b")
    assert changes.added == ("c",)


def test_nothing_changed_is_false_and_a_shape_change_alone_is_reported() -> None:
    prints = {"a": "1", "b": "2"}
    assert not compare_fingerprints(prints, dict(prints))
    old = plan_fingerprint(prints, shape=(("b", ("a",), "all"),))
    new = plan_fingerprint(prints, shape=(("b", ("a",), "any"),))
    assert old != new and old == plan_fingerprint(dict(reversed(prints.items())),
                                                  shape=(("b", ("a",), "all"),))
    changes = compare_fingerprints(prints, prints, stored_plan=old, current_plan=new)
    assert changes and changes.lines() == [
        "the graph's shape (dependencies, joins, writes) changed"]
