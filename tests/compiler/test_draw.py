"""plan.to_mermaid() / plan.to_dot(): what the drawings show, that they parse, golden texts."""

from __future__ import annotations

import re

import pydot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import (
    ParameterSpec,
    StepKind,
    StepSpec,
    WorkflowSpec,
    compile_workflow,
    draw_dot,
    draw_mermaid,
)
from spectra_dsl import Join, Plan, Repeat, Workflow, match, reducers, step
from tests.strategies import Recorder, build, random_dags

#: pydot's parser uses pyparsing names that pyparsing 3.3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# -- a grammar check of the Mermaid subset the drawings use -------------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
#: A quoted label: no raw quote, '#' only in entity codes, '<' only in line breaks, none
#: of the characters Mermaid reads as syntax, no control characters.
_LABEL = r'"(?:[^"#<>;|`%\\\x00-\x1f\x7f]|#\d+;|<br/>)*"'
_SHAPES = (r"\[{L}\]", r"\[\[{L}\]\]", r"\{{\{{{L}\}}\}}", r"\(\[{L}\]\)", r"\[/{L}/\]")
_NODE = re.compile(rf"(?P<id>{_ID})(?:{'|'.join(s.format(L=_LABEL) for s in _SHAPES)})")
_SUBGRAPH = re.compile(rf"subgraph (?P<id>{_ID}) \[{_LABEL}\]")
_EDGE = re.compile(rf"(?P<a>{_ID}) (?:-->|==>|-\.->)(?:\|{_LABEL}\|)? (?P<b>{_ID})")
_CLASSDEF = re.compile(rf"classDef {_ID} [a-z-]+:[^\s,]+(?: [^\s,]+)*(?:,[a-z-]+:[^\s,]+"
                       r"(?: [^\s,]+)*)*")
_CLASS = re.compile(rf"class (?P<ids>{_ID}(?:,{_ID})*) {_ID}")
#: Words Mermaid's flowchart grammar reserves: never a node id.
_RESERVED = {"end", "graph", "subgraph", "flowchart", "class", "classDef", "style",
             "click", "default", "linkStyle", "direction"}


def check_mermaid(text: str) -> dict[str, list[str]]:
    """Fail unless ``text`` is a flowchart in the subset the drawings emit; return each
    node's and subgraph's label lines, decoded, by id."""
    assert text.endswith("\n") and "\r" not in text
    lines = text.splitlines()
    assert lines[0] == "flowchart TB", lines[0]
    labels: dict[str, list[str]] = {}
    edges: list[tuple[str, str]] = []
    depth = 0
    for line in lines[1:]:
        body = line.strip()
        assert line == "    " * (depth + 1) + body or body == "end", repr(line)
        if body == "end":
            depth -= 1
            assert depth >= 0, "an 'end' with no subgraph"
            continue
        if match_ := _SUBGRAPH.fullmatch(body):
            depth += 1
        elif (match_ := _NODE.fullmatch(body)) is not None:
            pass
        elif (edge := _EDGE.fullmatch(body)) is not None:
            edges.append((edge["a"], edge["b"]))
            continue
        elif _CLASSDEF.fullmatch(body) or _CLASS.fullmatch(body):
            continue
        else:
            raise AssertionError(f"not Mermaid the drawings write: {line!r}")
        ident = match_["id"]
        assert ident not in _RESERVED and ident not in labels, ident
        raw = re.search(_LABEL, body[len(ident):])
        assert raw is not None
        labels[ident] = [_decode(part) for part in raw.group()[1:-1].split("<br/>")]
    assert depth == 0, "a subgraph is not closed"
    for a, b in edges:
        assert a in labels and b in labels, f"edge {a} -> {b} to an undeclared node"
    return labels


def _decode(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m[1])), text)


def dot_labels(text: str) -> dict[str, str]:
    """Parse ``text`` with graphviz's grammar (pydot); each node's label, unescaped."""
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1
    found: dict[str, str] = {}

    def walk(graph: pydot.Graph) -> None:
        for node in graph.get_nodes():
            label = node.get("label")
            if label is not None and node.get_name() not in ("node", "graph", "edge"):
                found[node.get_name()] = _unquote_dot(label)
        for sub in graph.get_subgraphs():
            walk(sub)

    walk(graphs[0])
    return found


def _unquote_dot(label: str) -> str:
    assert label.startswith('"') and label.endswith('"'), label
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], label[1:-1])


# -- the constructs, each in a small workflow ---------------------------------------------


def diamond() -> Plan:
    wf = Workflow("diamond")

    @wf.step
    async def fetch(url: str) -> str:
        return url

    @wf.step
    async def sentiment(fetch: str) -> float:
        return 0.5

    @wf.step
    async def entities(fetch: str) -> list[str]:
        return []

    @wf.step(join=Join.ALL)
    async def merge(sentiment: float, entities: list[str]) -> str:
        return ""

    return wf.compile()


def test_a_diamond_golden() -> None:
    assert diamond().to_mermaid() == '''\
flowchart TB
    i0(["url"])
    n0["fetch"]
    n1["sentiment"]
    n2["entities"]
    n3["merge<br/>join ALL"]
    i0 --> n0
    n0 --> n1
    n0 --> n2
    n1 --> n3
    n2 --> n3
    classDef input fill:#eef4ff,stroke:#6b8cc7
    class i0 input
    classDef joinAll stroke-width:3px
    class n3 joinAll
'''
    assert diamond().to_dot() == '''\
digraph "diamond" {
    graph [label="diamond", labelloc=t, compound=true, rankdir=TB, fontname=Helvetica];
    node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica];
    edge [fontname=Helvetica, fontsize=10];
    i0 [label="url", shape=ellipse, style=filled, fillcolor="#eef4ff"];
    n0 [label="fetch"];
    n1 [label="sentiment"];
    n2 [label="entities"];
    n3 [label="merge\\njoin ALL", penwidth=3];
    i0 -> n0;
    n0 -> n1;
    n0 -> n2;
    n1 -> n3;
    n2 -> n3;
}
'''


def test_a_race_draws_its_branch_tips_thick() -> None:
    wf = Workflow("race")

    @wf.step
    async def small(prompt: str) -> str:
        return prompt

    @wf.step
    async def large(prompt: str) -> str:
        return prompt

    @wf.step(join=Join.ANY)
    async def fastest(small: str = "", large: str = "") -> str:
        return small or large

    assert wf.compile().to_mermaid() == '''\
flowchart TB
    i0(["prompt"])
    n0["small"]
    n1["large"]
    n2["fastest<br/>join ANY: first of 2"]
    i0 --> n0
    i0 --> n1
    n0 ==> n2
    n1 ==> n2
    classDef input fill:#eef4ff,stroke:#6b8cc7
    class i0 input
    classDef joinAny stroke-width:3px,stroke-dasharray:6 3
    class n2 joinAny
'''


def test_exclusive_routes_show_their_match_values() -> None:
    wf = Workflow("routes")

    @wf.step
    async def kind(ticket: str) -> str:
        return "billing"

    @wf.step(when=match(kind="billing"), writes="reply")
    async def billing(ticket: str) -> str:
        return "b"

    @wf.step(when=match(kind={"tech", "bug"}), writes="reply")
    async def tech(ticket: str) -> str:
        return "t"

    @wf.step(when=~match(kind={"billing", "tech", "bug"}), writes="reply")
    async def otherwise(ticket: str) -> str:
        return "o"

    def urgent(kind: str) -> bool:
        return kind == "tech"

    @wf.step(when=urgent, join=Join.ALL)
    async def page(reply: str) -> str:
        return reply

    assert wf.compile().to_mermaid() == '''\
flowchart TB
    i0(["ticket"])
    n0["kind"]
    n1{{"billing<br/>when kind = 'billing'"}}
    n2{{"tech<br/>when kind in {'bug', 'tech'}"}}
    n3{{"otherwise<br/>when not (kind in {'billing', 'bug', 'tech'})"}}
    n4{{"page<br/>join ALL<br/>when urgent(kind)"}}
    i0 --> n0
    i0 --> n1
    i0 --> n2
    i0 --> n3
    n0 --> n1
    n0 --> n2
    n0 --> n3
    n0 --> n4
    n1 -->|"reply"| n4
    n2 -->|"reply"| n4
    n3 -->|"reply"| n4
    classDef input fill:#eef4ff,stroke:#6b8cc7
    class i0 input
    classDef joinAll stroke-width:3px
    class n4 joinAll
    classDef guarded fill:#f4fff0,stroke:#5a9a4a
    class n1,n2,n3,n4 guarded
'''


def test_mapped_steps_reducer_keys_and_after_edges() -> None:
    wf = Workflow("mapped", reducers={"sizes": reducers.extend})

    @wf.step
    async def urls(topic: str) -> list[str]:
        return [topic]

    @wf.step(map="urls", concurrency=4)
    async def page(urls: str) -> str:
        return urls

    @wf.step(map=("page", "urls"), writes="sizes")
    async def size(page: str, urls: str) -> int:
        return len(page)

    @wf.step(writes="sizes")
    async def header(topic: str) -> list[int]:
        return [0]

    @wf.step
    async def clean_up(topic: str) -> None:
        return None

    @wf.step(after=("clean_up",), join=Join.ALL)
    async def report(sizes: list[int]) -> int:
        return sum(sizes)

    assert wf.compile().to_mermaid() == '''\
flowchart TB
    i0(["topic"])
    n0["urls"]
    n1[["page<br/>map over urls<br/>at most 4 at once"]]
    n2[["size<br/>map over page × urls"]]
    n3["header"]
    n4["clean_up"]
    n5["report<br/>join ALL"]
    k0[/"sizes<br/>reduced with extend"/]
    i0 --> n0
    i0 --> n3
    i0 --> n4
    n2 --> k0
    n3 --> k0
    n0 --> n1
    n0 --> n2
    n1 --> n2
    n4 -.->|"after"| n5
    k0 --> n5
    classDef input fill:#eef4ff,stroke:#6b8cc7
    class i0 input
    classDef key fill:#fff6dd,stroke:#c9a13b
    class k0 key
    classDef joinAll stroke-width:3px
    class n5 joinAll
    classDef mapped fill:#f6efff,stroke:#8a63c7
    class n1,n2 mapped
'''


def _body() -> Workflow:
    body = Workflow("one-pass")

    @body.step
    async def critique(draft: str) -> str:
        return draft

    @body.step(writes="draft_out")
    async def revise(critique: str) -> str:
        return critique

    @body.step
    async def approved(draft_out: str) -> bool:
        return True

    return body


def test_sub_workflows_and_loops_are_subgraphs() -> None:
    wf = Workflow("nested")

    @wf.step(writes="draft")
    async def write(topic: str) -> str:
        return topic

    wf.add(_body(), name="refine", writes={"draft_out": "final"},
           repeat=Repeat(until=match(approved=True), max_iterations=5,
                         carry={"draft_out": "draft"}))
    per_doc = Workflow("per-doc")

    @per_doc.step
    async def summary(document: str) -> str:
        return document

    @wf.step
    async def document(topic: str) -> list[str]:
        return [topic]

    wf.add(per_doc, name="each", map="document", concurrency=2, writes={"summary": "done"})

    @wf.step(join=Join.ALL)
    async def publish(final: str, done: list[str]) -> str:
        return final

    text = wf.compile().to_mermaid()
    assert text == '''\
flowchart TB
    i0(["topic"])
    n0["write"]
    n2["document"]
    n4["publish<br/>join ALL"]
    subgraph s0 ["refine<br/>sub-workflow one-pass<br/>loop: at most 5 passes, until (approved)\
<br/>carry draft_out → draft"]
        s0_i0(["draft"])
        s0_n0["critique"]
        s0_n1["revise"]
        s0_n2["approved"]
    end
    subgraph s1 ["each<br/>sub-workflow per-doc<br/>map over document<br/>at most 2 at once"]
        s1_i0(["document"])
        s1_n0["summary"]
    end
    i0 --> n0
    i0 --> n2
    n0 -->|"draft"| s0
    n2 --> s1
    s0 -->|"final"| n4
    s1 -->|"done"| n4
    s0_i0 --> s0_n0
    s0_n0 --> s0_n1
    s0_n1 -->|"draft_out"| s0_n2
    s1_i0 --> s1_n0
    classDef input fill:#eef4ff,stroke:#6b8cc7
    class i0,s0_i0,s1_i0 input
    classDef joinAll stroke-width:3px
    class n4 joinAll
'''
    check_mermaid(text)
    dot = wf.compile().to_dot()
    assert "subgraph cluster_s0 {" in dot and 'style="dashed,rounded"' in dot
    assert "n0 -> s0 [label=\"draft\", lhead=cluster_s0];" in dot
    assert "s1 -> n4 [label=\"done\", ltail=cluster_s1];" in dot
    labels = dot_labels(dot)
    assert labels["s1_n0"] == "summary"


def test_sub_workflows_nested_deeper_than_the_recursion_limit() -> None:
    depth = 1500
    spec = WorkflowSpec("w0", (StepSpec("leaf", (ParameterSpec("x"),)),))
    for level in range(1, depth):
        spec = WorkflowSpec(f"w{level}", (StepSpec("sub", (ParameterSpec("x"),),
                                                  kind=StepKind.SUBWORKFLOW, body=spec),))
    graph = compile_workflow(spec).graph
    assert graph is not None
    text = draw_mermaid(graph)
    labels = check_mermaid(text)
    assert labels[f"s{depth - 2}_n0"] == ["leaf"]
    assert text.count("subgraph ") == depth - 1
    assert draw_dot(graph).count("subgraph cluster_") == depth - 1


# -- names that are syntax somewhere ------------------------------------------------------

#: Step names are identifiers, but these are keywords of Mermaid or DOT.
RESERVED_NAMES = ["end", "default", "graph", "subgraph", "node", "edge", "strict", "digraph",
                  "style", "click", "flowchart", "direction", "linkStyle", "classDef", "ünï"]
#: Text that is free: workflow names, match values, reducer names.
HOSTILE = ['say "hi"', "x[y]", "a{b}", "c|d", "e;f", "#1", "<b>", "back\\slash",
           "tab\there", "line\nbreak", "`tick`", "--> n0", "%% comment", "end", "&amp;",
           "%%{init: {'theme': 'dark'}}%%", "#quot;", "click n0 call alert()"]


def hostile() -> Workflow:
    made = []
    for name in RESERVED_NAMES:
        async def fn(src: str) -> str:
            return src
        made.append(step(name=name)(fn))
    wf = Workflow('wf "quoted" {braces} -> end', steps=made)

    @wf.step(when=match(src=frozenset(HOSTILE)), join=Join.ALL)
    async def end_(end: str, graph: str, subgraph: str) -> str:
        return end

    body = Workflow('sub "graph" [end]')

    @body.step
    async def inner(end_: str) -> str:
        return end_

    wf.add(body, name="class_", writes={"inner": "out"})
    return wf


def test_keywords_as_step_names_never_break_either_syntax() -> None:
    plan = hostile().compile()
    labels = check_mermaid(plan.to_mermaid())
    assert {lines[0] for lines in labels.values()} >= set(RESERVED_NAMES)
    guard = labels[f"n{len(RESERVED_NAMES)}"][2]
    assert guard.startswith("when src in {") and all(repr(h) in guard for h in HOSTILE)
    assert labels["s0"][1] == 'sub-workflow sub "graph" [end]'
    dot = dot_labels(plan.to_dot())
    assert {label.split("\n")[0] for label in dot.values()} >= set(RESERVED_NAMES)
    assert dot[f"n{len(RESERVED_NAMES)}"].split("\n")[2] == guard


@pytest.mark.parametrize("text", HOSTILE)
def test_any_text_is_quoted(text: str) -> None:
    from compiler._draw_dot import quote as dot_quote
    from compiler._draw_mermaid import quote as mermaid_quote

    line = f'    n0["{mermaid_quote(text)}"]'
    labels = check_mermaid(f"flowchart TB\n{line}\n")
    assert labels["n0"] == [text if text.isprintable() else mermaid_quote(text)
                            .replace("#92;", "\\")]
    shown = "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)
    assert dot_labels(f"digraph g {{ n0 [label={dot_quote(text)}]; }}")["n0"] == shown


@settings(max_examples=50, deadline=None)
@given(st.text())
def test_any_text_is_quoted_hypothesis(text: str) -> None:
    from compiler._draw_dot import quote as dot_quote
    from compiler._draw_mermaid import quote as mermaid_quote

    check_mermaid(f'flowchart TB\n    n0["{mermaid_quote(text)}"]\n')
    assert dot_quote(text).startswith('"') and dot_quote(text).endswith('"')
    inner = dot_quote(text)[1:-1]
    assert '"' not in re.sub(r"\\.", "", inner)  # every quote is escaped


def test_the_output_is_the_same_every_time() -> None:
    assert hostile().compile().to_mermaid() == hostile().compile().to_mermaid()
    assert hostile().compile().to_dot() == hostile().compile().to_dot()


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_a_reducer_named_like_syntax_is_quoted(fmt: str) -> None:
    def fold(acc: str, value: str) -> str:
        return acc + value
    fold.__name__ = 'fold"<end>'
    wf = Workflow("r", reducers={"log": fold})

    @wf.step(writes="log")
    async def a() -> str:
        return "a"

    @wf.step(writes="log")
    async def b() -> str:
        return "b"

    plan = wf.compile()
    if fmt == "mermaid":
        assert check_mermaid(plan.to_mermaid())["k0"] == ["log", 'reduced with fold"<end>']
    else:
        assert dot_labels(plan.to_dot())["k0"] == 'log\nreduced with fold"<end>'


# -- any graph ----------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(random_dags(max_steps=10, with_any=True))
def test_any_workflow_draws_one_node_per_step_and_an_edge_per_upstream(dag: object) -> None:
    plan = build(dag, Recorder()).compile()  # type: ignore[arg-type]
    labels = check_mermaid(plan.to_mermaid())
    steps = {i: lines[0] for i, lines in labels.items() if i.startswith("n")}
    assert sorted(steps.values()) == sorted(plan.steps)
    edges = re.findall(r"^    (n\d+) (?:-->|==>|-\.->)(?:\|\"[^\"]*\"\|)? (n\d+)$",
                       plan.to_mermaid(), re.MULTILINE)
    via_keys = re.findall(r"^    (k\d+) --> (n\d+)$", plan.to_mermaid(), re.MULTILINE)
    upstreams = sum(len(p) for p in plan.graph.predecessors)
    assert len(edges) <= upstreams and (len(edges) == upstreams or via_keys)
    dot = dot_labels(plan.to_dot())
    assert sorted(label.split("\n")[0] for n, label in dot.items()
                  if n.startswith("n")) == sorted(plan.steps)
