"""Parity for the map options, code by code: for each new finding a bad module that has
it and a fixed one that does not, and spectra-lint (source text) finds exactly what
``Workflow.check()`` (live functions) finds in both, message for message."""

from __future__ import annotations

from pathlib import Path

import pytest

from .parity import assert_parity, codes

HEAD = "from spectra_dsl import Join, Workflow, match, reducers\n\nwf = Workflow('flow')\n"

URLS = '''
@wf.step
async def urls(topic: str) -> list[str]:
    return [topic]
'''

#: code -> (bad module, fixed module); the bad one has the code, the fixed one not.
CASES: dict[str, tuple[str, str]] = {
    "SPX501-parameter": (URLS + '''
@wf.step(map="url")
async def page(url_: str) -> str:
    return url_
''', URLS + '''
@wf.step(map="urls")
async def page(urls: str) -> str:
    return urls
'''),
    "SPX501-empty": (URLS + '''
@wf.step(map=())
async def page(urls: list[str]) -> str:
    return urls[0]
''', URLS + '''
@wf.step
async def page(urls: list[str]) -> str:
    return urls[0]
'''),
    "SPX501-sub-workflow": ('''
sub = Workflow("per-doc")


@sub.step
async def summary(document: str) -> str:
    return document


wf.add(sub, name="each", map="documents", writes="summary")
''', '''
sub = Workflow("per-doc")


@sub.step
async def summary(document: str) -> str:
    return document


wf.add(sub, name="each", map="document", writes="summary")
'''),
    "SPX502-characters": ('''
@wf.step
async def title(topic: str) -> str:
    return topic


@wf.step(map="title")
async def letter(title: str) -> str:
    return title
''', '''
@wf.step
async def title(topic: str) -> list[str]:
    return topic.split()


@wf.step(map="title")
async def letter(title: str) -> str:
    return title
'''),
    "SPX502-element": (URLS + '''
@wf.step(map="urls")
async def size(urls: int) -> int:
    return urls
''', URLS + '''
@wf.step(map="urls")
async def size(urls: str) -> int:
    return len(urls)
'''),
    "SPX502-not-iterable": ('''
@wf.step
async def count(topic: str) -> int:
    return 3


@wf.step(map="count")
async def each(count: int) -> int:
    return count
''', '''
@wf.step
async def count(topic: str) -> list[int]:
    return [3]


@wf.step(map="count")
async def each(count: int) -> int:
    return count
'''),
    "SPX503": (URLS + '''
@wf.step(map="urls", concurrency=0)
async def page(urls: str) -> str:
    return urls
''', URLS + '''
@wf.step(map="urls", concurrency=8)
async def page(urls: str) -> str:
    return urls
'''),
    "SPX005": (URLS + '''
@wf.step(after=("clean_up",))
async def publish(urls: list[str]) -> str:
    return urls[0]
''', URLS + '''
@wf.step
async def clean_up(topic: str) -> None:
    return None


@wf.step(after=("clean_up",), join=Join.ALL)
async def publish(urls: list[str]) -> str:
    return urls[0]
'''),
    "SPX301-reader-of-a-mapped-step": (URLS + '''
@wf.step(map="urls")
async def page(urls: str) -> str:
    return urls


@wf.step
async def digest(page: str) -> str:
    return page
''', URLS + '''
@wf.step(map="urls")
async def page(urls: str) -> str:
    return urls


@wf.step
async def digest(page: list[str]) -> str:
    return " ".join(page)
'''),
    "SPX201-routes-with-a-fallback": ('''
@wf.step
async def kind(ticket: str) -> str:
    return ticket


@wf.step(when=match(kind={"billing", "refund"}), writes="reply")
async def billing(ticket: str) -> str:
    return "billing"


@wf.step(when=~match(kind="billing"), writes="reply")
async def otherwise(ticket: str) -> str:
    return "desk"
''', '''
@wf.step
async def kind(ticket: str) -> str:
    return ticket


@wf.step(when=match(kind={"billing", "refund"}), writes="reply")
async def billing(ticket: str) -> str:
    return "billing"


@wf.step(when=~match(kind=frozenset({"billing", "refund"})), writes="reply")
async def otherwise(ticket: str) -> str:
    return "desk"
'''),
    "SPX201-order-without-data": ('''
@wf.step(writes="log")
async def opened(ticket: str) -> str:
    return "opened"


@wf.step(writes="log")
async def closed(ticket: str) -> str:
    return "closed"
''', '''
@wf.step(writes="log")
async def opened(ticket: str) -> str:
    return "opened"


@wf.step(writes="log", after="opened")
async def closed(ticket: str) -> str:
    return "closed"
'''),
    "SPX002-after-closes-a-loop": ('''
@wf.step(after=("audit",))
async def review(ticket: str) -> str:
    return ticket


@wf.step
async def audit(review: str) -> str:
    return review
''', '''
@wf.step
async def review(ticket: str) -> str:
    return ticket


@wf.step(after=("review",))
async def audit(ticket: str) -> str:
    return ticket
'''),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_and_fixed_agree(tmp_path: Path, case: str) -> None:
    code = case.split("-")[0]
    bad, fixed = CASES[case]
    assert code in codes(assert_parity(tmp_path / "bad", "bad_flow", HEAD + bad))
    found = assert_parity(tmp_path / "fixed", "fixed_flow", HEAD + fixed)
    assert found == [], found


def test_the_mapped_value_and_its_readers_together(tmp_path: Path) -> None:
    """One module with every map finding at once: each is reported by both, once."""
    module = HEAD + URLS + '''
@wf.step
async def title(topic: str) -> str:
    return topic


@wf.step(map=("urls", "title"), concurrency=-1, after="ghost", join=Join.ALL)
async def pair(urls: int, title: str) -> str:
    return title


@wf.step
async def digest(pair: str) -> str:
    return pair
'''
    found = assert_parity(tmp_path, "together", module)
    assert sorted(f[0] for f in found) == [
        "SPX005", "SPX301", "SPX502", "SPX502", "SPX503"]


def test_match_values_that_are_lists_compare_as_at_run_time(tmp_path: Path) -> None:
    """A list value stays a list (compared with ==, in no set): both front ends judge
    the same pairs exclusive."""
    module = HEAD + '''
LISTED = ["a"]


@wf.step
async def kind(ticket: str) -> str:
    return ticket


@wf.step(when=match(kind=["a"]), writes="reply")
async def one(ticket: str) -> str:
    return ticket


@wf.step(when=match(kind={("a",)}), writes="reply")
async def two(ticket: str) -> str:
    return ticket


@wf.step(when=~match(kind=LISTED), writes="other")
async def three(ticket: str) -> str:
    return ticket


@wf.step(when=match(kind=["a"]), writes="other")
async def four(ticket: str) -> str:
    return ticket
'''
    found = assert_parity(tmp_path, "listed", module)
    assert sorted(f[1] for f in found) == [("four", "three"), ("two", "one")]
