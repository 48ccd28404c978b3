"""spectra-lint reads ``map=``, ``concurrency=``, ``after=`` and ``match`` value sets /
``~match`` from source into the same IR the runtime front end builds from live
functions; what it cannot read is one SPX902, and the findings it could change are not
reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import StepSpec
from compiler.lint import lint_source
from compiler.lint._engine import analyse_file
from compiler.lint._loader import Loader

from .parity import live_workflows, write_modules

#: The StepSpec fields the new options fill.
FIELDS = ("name", "map", "concurrency", "after", "guard")

OPTION_FORMS = '''
from spectra_dsl import Workflow, match, step

KINDS = {"billing", "refund"}
MAPPED = ("pages", "styles")
LIMIT = 4
NOT_BILLING = ~match(kind="billing")

wf = Workflow("forms")


@wf.step
async def pages(topic: str) -> list[str]:
    return [topic]


@wf.step
async def styles(topic: str) -> list[str]:
    return [topic]


@wf.step(map="pages", concurrency=2)
async def one(pages: str) -> str:
    return pages


@wf.step(map=MAPPED, concurrency=LIMIT * 2)
async def zipped(pages: str, styles: str) -> str:
    return pages + styles


@wf.step(map=["pages"], after="one")
async def listed(pages: str) -> str:
    return pages


@wf.step(after=("one", "zipped"), when=match(kind=KINDS))
async def routed(kind: str) -> str:
    return kind


@wf.step(when=~match(kind=frozenset({"billing", "tech"})), writes="other")
async def fallback(kind: str) -> str:
    return kind


@wf.step(when=NOT_BILLING, writes="not_billing")
async def not_billing(kind: str) -> str:
    return kind


@wf.step(when=~~match(kind=set(("a", "b"))), writes="twice")
async def twice(kind: str) -> str:
    return kind


@wf.step(writes="never", map=())
async def never(kind: str) -> str:
    return kind


@step(map="docs", concurrency=0, after=())
async def marked(docs: str) -> str:
    return docs


async def called(pages: str) -> str:
    return pages


wf.step(called, map="pages", after=("one",))


async def recorded(pages: str) -> str:
    return pages


step(map="pages", concurrency=3)(recorded)
wf.step(recorded)

sub = Workflow("per-doc", steps=[marked])
wf.add(sub, name="each", map="pages", concurrency=3, after=("routed",),
       when=~match(kind="x"))
wf.add(sub, name="zipped_sub", map=("docs",), after="each", writes=("marked",))
'''


def _pairs(tmp_path: Path, source: str) -> list[tuple[StepSpec, StepSpec]]:
    """(live step, static step) for every step of every workflow in ``source``."""
    write_modules(tmp_path, {"forms.py": source})
    live = {wf.name: wf.spec() for wf in live_workflows(tmp_path, "forms")}
    static = {w.spec.name: w.spec for w in
              analyse_file(str(tmp_path / "forms.py"), Loader()).workflows}
    assert set(live) == set(static)
    return [pair for name in live
            for pair in zip(live[name].steps, static[name].steps, strict=True)]


def test_the_new_options_read_as_the_runtime_reads_them(tmp_path: Path) -> None:
    pairs = _pairs(tmp_path, OPTION_FORMS)
    assert len(pairs) == 15  # 12 steps and 2 sub-workflows in "forms", 1 in "per-doc"
    for live, static in pairs:
        for field in FIELDS:
            assert getattr(static, field) == getattr(live, field), (live.name, field)
    by_name = {static.name: static for _, static in pairs}
    assert by_name["zipped"].map == ("pages", "styles")
    assert by_name["zipped"].concurrency == 8
    assert by_name["listed"].after == ("one",)
    assert by_name["fallback"].guard is not None
    assert by_name["fallback"].guard.negated
    assert by_name["fallback"].guard.matches == (("kind", frozenset({"billing", "tech"})),)
    assert by_name["twice"].guard is not None and not by_name["twice"].guard.negated
    assert by_name["not_billing"].guard is not None and by_name["not_billing"].guard.negated
    assert by_name["never"].map == ()
    assert by_name["each"].map == ("pages",) and by_name["each"].after == ("routed",)
    assert by_name["called"].after == ("one",)
    assert (by_name["recorded"].map, by_name["recorded"].concurrency) == (("pages",), 3)


def test_the_new_options_raise_no_reading_finding() -> None:
    found = [d for d in lint_source(OPTION_FORMS, "forms.py") if d.code == "SPX902"]
    assert found == []


UNREAD = '''
import os

from spectra_dsl import Workflow, match

wf = Workflow("unread")


@wf.step
async def urls(topic: str) -> list[str]:
    return [topic]


@wf.step(map=os.environ["MAPPED"])
async def page(urls: str) -> str:
    return urls


@wf.step
async def digest(page: list[str]) -> str:
    return page[0]


@wf.step(map="page")
async def word(page: str) -> str:
    return page


@wf.step(writes="log")
async def left(topic: str) -> str:
    return topic


@wf.step(writes="log", after=tuple(os.environ["AFTER"]))
async def right(topic: str) -> str:
    return topic


@wf.step(concurrency=int(os.environ["LIMIT"]), when=match(kind=set(os.environ)))
async def limited(topic: str) -> str:
    return topic
'''


def test_options_that_cannot_be_read_are_one_spx902_each() -> None:
    found = lint_source(UNREAD, "unread.py")
    messages = {d.message for d in found if d.code == "SPX902"}
    assert len(messages) == 4, messages
    assert any("map=os.environ['MAPPED'] is not followed" in m for m in messages)
    assert any("after=tuple(os.environ['AFTER']) is not followed" in m for m in messages)
    assert any("concurrency=int(os.environ['LIMIT']) is not followed" in m
               for m in messages)
    assert any("when=match(kind=set(os.environ)) is not followed" in m for m in messages)


def test_what_an_unread_option_could_change_is_not_reported() -> None:
    """An unread map= may make 'page' mapped (its 'urls: str' fits then, and so do
    'digest' reading a list and 'word' mapping over it); an unread after= may order the
    two writers of 'log'."""
    found = lint_source(UNREAD, "unread.py")
    assert {d.code for d in found} == {"SPX902"}
    # the same workflow checked as read (no map, no after), to show what was left out
    known = (UNREAD.replace('os.environ["MAPPED"]', "None")
             .replace('tuple(os.environ["AFTER"])', "()"))
    codes = [d.code for d in lint_source(known, "known.py")]
    assert sorted(codes) == ["SPX201", "SPX301", "SPX301", "SPX502", "SPX902", "SPX902"]


@pytest.mark.parametrize("option", ["map", "concurrency", "after"])
def test_add_reads_the_options_too(option: str) -> None:
    source = f'''
import os

from spectra_dsl import Workflow

sub = Workflow("sub")


@sub.step
async def inner(doc: str) -> str:
    return doc


wf = Workflow("outer")
wf.add(sub, name="each", {option}=os.environ["X"])
'''
    (finding,) = lint_source(source, "added.py")
    assert finding.code == "SPX902"
    assert finding.message.startswith(f"step 'each': {option}=os.environ['X'] is not")
    assert finding.location is not None and finding.location.line == 15


PARTLY_READ = '''
import os

from spectra_dsl import Workflow

wf = Workflow("partly", steps=os.environ["STEPS"])


@wf.step(after=("clean_up",), map="urls")
async def publish(urls: str) -> str:
    return urls


@wf.step(map="nope")
async def wrong(urls: str) -> str:
    return urls


sub = Workflow("sub", steps=os.environ["SUB_STEPS"])
wf.add(sub, name="each", map="document")
'''


def test_a_workflow_read_in_part_names_no_missing_step() -> None:
    """after= and a mapped sub-workflow's map= may name steps left out (SPX902): no
    SPX005 and no SPX501 for them; a step's own map= is still checked."""
    found = lint_source(PARTLY_READ, "partly.py")
    assert sorted(d.code for d in found) == ["SPX501", "SPX902", "SPX902"]
    (wrong,) = [d for d in found if d.code == "SPX501"]
    assert wrong.steps == ("wrong",)
