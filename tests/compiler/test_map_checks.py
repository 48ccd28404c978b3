"""The compile side of map=, concurrency= and after=: what reaches the lowered graph, and
the checks SPX501, SPX502, SPX503, SPX005 and SPX301 on readers of a mapped step."""

from __future__ import annotations

from typing import Any

import pytest

from spectra_dsl import Workflow, step
from spectra_dsl.reducers import extend


def codes(wf: Workflow) -> list[str]:
    return [d.code for d in wf.check()]


def only(wf: Workflow, code: str) -> str:
    found = [d.message for d in wf.check() if d.code == code]
    assert len(found) == 1, wf.check()
    return found[0]


def mapped_pair(produced: Any, consumed: Any, **options: Any) -> Workflow:
    """``items`` returns ``produced``; ``per`` maps over it taking ``consumed``."""
    wf = Workflow("m")

    async def items(topic: str) -> Any:
        return []

    async def per(items: Any) -> str:
        return ""

    items.__annotations__["return"] = produced
    per.__annotations__["items"] = consumed
    wf.step(items)
    wf.step(map="items", **options)(per)
    return wf


# -- what reaches the graph --------------------------------------------------------------

def test_the_options_reach_the_lowered_graph() -> None:
    wf = Workflow("g")

    @wf.step
    async def urls(topic: str) -> list[str]:
        return [topic]

    @wf.step(map="urls", concurrency=3)
    async def page(urls: str, style: str = "") -> str:
        return urls

    @wf.step(after=("page",))
    async def cleanup() -> None:
        return None

    sub = Workflow("sub")

    @sub.step
    async def summary(doc: str) -> str:
        return doc

    wf.add(sub, name="per_doc", map="doc", concurrency=2, after=("cleanup",))
    graph = wf.compile().graph
    at = graph.index
    assert graph.maps[at["page"]] == ("urls",) and graph.maps[at["urls"]] == ()
    assert graph.maps[at["per_doc"]] == ("doc",)
    assert graph.concurrency[at["page"]] == 3 and graph.concurrency[at["per_doc"]] == 2
    assert graph.concurrency[at["urls"]] is None
    assert graph.predecessors[at["cleanup"]] == (at["page"],)
    assert graph.order_only[at["cleanup"]] == {at["page"]}
    assert graph.order_only[at["per_doc"]] == {at["cleanup"]}
    assert graph.order_only[at["page"]] == frozenset()  # reads 'urls': a data edge
    spec = {s.name: s for s in wf.spec().steps}
    assert spec["page"].map == ("urls",) and spec["cleanup"].after == ("page",)


def test_a_step_named_in_after_and_read_is_a_data_edge() -> None:
    wf = Workflow("both")

    @wf.step
    async def a() -> int:
        return 1

    @wf.step(after=("a",))
    async def b(a: int) -> int:
        return a

    graph = wf.compile().graph
    assert graph.predecessors[1] == (0,) and graph.order_only[1] == frozenset()


def test_step_keeps_the_function_and_records_zipped_maps() -> None:
    async def pair(a: int, b: int) -> int:
        return a + b

    assert step(map=("a", "b"), concurrency=2)(pair) is pair
    wf = Workflow("zip", steps=[pair])
    assert wf.spec().steps[0].map == ("a", "b")
    assert wf.compile().graph.maps == (("a", "b"),)


# -- SPX501 ------------------------------------------------------------------------------

def test_map_naming_no_parameter_lists_them_and_suggests_the_closest() -> None:
    wf = Workflow("m")

    @wf.step(map="url")
    async def page(urls: list[str], style: str) -> str:
        return ""

    message = only(wf, "SPX501")
    assert "'url'" in message and "'urls', 'style'" in message
    assert "did you mean 'urls'?" in message


@pytest.mark.parametrize(("given", "says"), [
    ((), "map=() naming nothing"),
    (("a", "a"), "maps over 'a' twice"),
    ((3,), "map= holding 3"),
])
def test_map_empty_repeated_or_not_a_name(given: tuple[Any, ...], says: str) -> None:
    wf = Workflow("m")

    async def f(a: int) -> int:
        return a

    wf.step(map=given)(f)
    assert says in only(wf, "SPX501")


def test_a_mapped_sub_workflow_names_an_input_of_its_body() -> None:
    sub = Workflow("per_doc")

    @sub.step
    async def summary(doc: str) -> str:
        return doc

    wf = Workflow("outer")
    wf.add(sub, name="each", map="docs")
    message = only(wf, "SPX501")
    assert "workflow 'per_doc' takes no input 'docs'" in message
    assert "did you mean 'doc'?" in message
    good = Workflow("outer")
    good.add(sub, name="each", map="doc")
    assert good.check() == ()


# -- SPX502 ------------------------------------------------------------------------------

@pytest.mark.parametrize(("produced", "consumed", "says"), [
    (int, int, "int, which is not iterable"),
    (str, str, "characters"),
    (bytes, int, "bytes"),
    (list[str] | None, str, "not iterable (when it is None)"),
    (list[str], int, "whose elements (str) do not fit 'items: int'"),
    (dict[str, int], int, "whose elements (str)"),
    (tuple[int, int], str, "whose elements (int)"),
])
def test_unmappable_values(produced: Any, consumed: Any, says: str) -> None:
    assert says in only(mapped_pair(produced, consumed), "SPX502")


@pytest.mark.parametrize(("produced", "consumed"), [
    (list[str], str), (set[int], float), (list[int], Any), (Any, int),
    (list[Any], str), (frozenset[bool], int), (tuple[int, ...], str),  # undecided: silent
    ("Page", str), (range, int), (dict[str, int], str),
])
def test_mappable_or_undecidable_values_are_silent(produced: Any, consumed: Any) -> None:
    assert "SPX502" not in codes(mapped_pair(produced, consumed))


def test_a_mapped_step_over_a_mapped_step_gets_its_elements() -> None:
    wf = Workflow("chain")

    @wf.step
    async def urls(topic: str) -> list[str]:
        return []

    @wf.step(map="urls")
    async def page(urls: str) -> bytes:
        return b""

    @wf.step(map="page")
    async def size(page: str) -> int:                   # page is one bytes value
        return len(page)

    assert "whose elements (bytes) do not fit 'page: str'" in only(wf, "SPX502")


def test_a_reducers_result_is_what_is_mapped_over() -> None:
    wf = Workflow("reduced", reducers={"items": extend})

    @wf.step(writes="items")
    async def first() -> list[str]:
        return []

    @wf.step(map="items")
    async def per(items: str) -> str:
        return items

    assert wf.check() == ()  # the reducer's result is unknown: silent


def test_a_mapped_input_is_not_checked() -> None:
    wf = Workflow("input")

    @wf.step(map="urls")
    async def page(urls: str) -> str:
        return urls

    assert wf.check() == ()


# -- SPX301 on readers of a mapped step ------------------------------------------------

def test_readers_of_a_mapped_step_get_a_list() -> None:
    wf = Workflow("readers")

    @wf.step
    async def urls(topic: str) -> list[str]:
        return []

    @wf.step(map="urls")
    async def page(urls: str) -> str:
        return urls

    @wf.step
    async def digest(page: str) -> str:
        return page

    message = only(wf, "SPX301")
    assert "'page' is mapped, so it writes the list of its calls' results, list[str]" in (
        message)
    ok = Workflow("ok")
    ok.step(urls)

    @ok.step(map="urls")
    async def page2(urls: str) -> str:
        return urls

    @ok.step
    async def digest2(page2: list[str]) -> str:
        return ""

    assert ok.check() == ()


# -- SPX503 ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "4"])
def test_concurrency_must_be_a_positive_whole_number(bad: Any) -> None:
    wf = Workflow("c")

    async def f(x: int) -> int:
        return x

    wf.step(concurrency=bad)(f)
    assert f"concurrency={bad!r}" in only(wf, "SPX503")


def test_concurrency_on_any_step_and_on_a_sub_workflow() -> None:
    sub = Workflow("sub")

    @sub.step
    async def g(doc: str) -> str:
        return doc

    wf = Workflow("c")

    @wf.step(concurrency=1)
    async def f(x: int) -> int:
        return x

    wf.add(sub, name="s", concurrency=0)
    assert codes(wf) == ["SPX503"]


# -- SPX005 and cycles through after= ----------------------------------------------------

def test_after_naming_no_step() -> None:
    wf = Workflow("a")

    @wf.step(writes="report")
    async def write(text: str) -> str:
        return text

    @wf.step(after=("report", "wrte", "nothing_like_it", 7))  # type: ignore[arg-type]
    async def clean() -> None:
        return None

    found = [d.message for d in wf.check() if d.code == "SPX005"]
    assert len(found) == 4 and codes(wf) == ["SPX005"] * 4
    text = " | ".join(found)
    assert "'report' is a key written by step 'write': name the step" in text
    assert "did you mean 'write'?" in text
    assert "no step named 'nothing_like_it'; fix the name" in text
    assert "after= holding 7" in text


def test_after_naming_itself_or_a_descendant_is_a_cycle() -> None:
    wf = Workflow("self")

    @wf.step(after=("loop",))
    async def loop() -> None:
        return None

    assert "a step cannot run after itself" in only(wf, "SPX002")

    wf = Workflow("descendant")

    @wf.step(after=("b",))
    async def a(x: int) -> int:
        return x

    @wf.step
    async def b(a: int) -> int:
        return a

    message = only(wf, "SPX002")
    assert "-> a (after=)" in message and "Remove the after=" in message


def test_after_counts_for_joins_and_races() -> None:
    wf = Workflow("j")

    @wf.step
    async def left(x: int) -> int:
        return x

    @wf.step
    async def right(x: int) -> int:
        return x

    @wf.step(after=("right",))
    async def merge(left: int) -> int:                  # a fan-in: left and right
        return left

    assert codes(wf) == ["SPX101"]

    wf = Workflow("race")

    @wf.step(writes="out")
    async def first(x: int) -> int:
        return x

    @wf.step(writes="out")
    async def second(x: int) -> int:
        return x

    assert codes(wf) == ["SPX201"]
    ordered = Workflow("ordered")
    ordered.step(writes="out")(first)
    ordered.step(writes="out", after=("first",))(second)
    assert ordered.check() == ()
