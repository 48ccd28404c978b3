"""Hypothesis strategies for spectra-lint's property tests of the map options: random
workflow modules using ``map=``, ``concurrency=``, ``after=``, value-set and negated
``match`` guards and mapped sub-workflows, right and wrong."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.strategies import WorkflowSource

_TYPES = ("str", "int", "list[str]", "list[int]", "object", "bytes")
_REDUCERS = ("", ", reducers={'shared': reducers.extend}")
_GUARDS = ("", "", "", "when=match(kind='a')", "when=match(kind={'a', 'b'})",
           "when=~match(kind='a')", "when=~match(kind=frozenset({'a', 'b'}))",
           "when=match(kind=KINDS)", "when=~match(kind=set(KINDS))")


@st.composite
def map_sources(draw: st.DrawFn, max_steps: int = 6) -> WorkflowSource:
    """A module building a workflow whose steps may be mapped (over a parameter, two
    zipped, a name that is no parameter, or nothing), capped, ordered by ``after=``
    (a step before or after it, itself, or no step), guarded by value sets and
    ``~match``, and share a key; sometimes with a mapped sub-workflow. Always imports."""
    n = draw(st.integers(1, max_steps))
    names = [f"s{i}" for i in range(n)]
    lines = [
        "from spectra_dsl import Join, Workflow, match, reducers",
        "",
        "KINDS = {'a', 'b'}",
        f"wf = Workflow('mapped'{draw(st.sampled_from(_REDUCERS))})",
    ]
    for i, step_name in enumerate(names):
        readable = [*names[:i], "topic", "kind"]
        params = draw(st.lists(st.sampled_from(readable), min_size=1, max_size=3, unique=True))
        options: list[str] = []
        mapped = draw(st.sampled_from(["", "", "one", "one", "one", "two", "two",
                                         "missing", "empty"]))
        if mapped == "one":
            options.append(f"map={params[0]!r}")
        elif mapped == "two" and len(params) > 1:
            options.append(f"map=({params[0]!r}, {params[1]!r})")
        elif mapped == "missing":
            options.append("map='nope'")
        elif mapped == "empty":
            options.append("map=()")
        concurrency = draw(st.sampled_from(["", "", "", "", "concurrency=2",
                                             "concurrency=0"]))
        if concurrency:
            options.append(concurrency)
        after = draw(st.sampled_from(["", "", "", "", "before", "before", "later",
                                       "self", "ghost"]))
        if after == "before" and i:
            options.append(f"after=({draw(st.sampled_from(names[:i]))!r},)")
        elif after == "later" and i + 1 < n:
            options.append(f"after={draw(st.sampled_from(names[i + 1:]))!r}")
        elif after == "self":
            options.append(f"after=({step_name!r},)")
        elif after == "ghost":
            options.append("after=('ghost',)")
        guard = draw(st.sampled_from(_GUARDS))
        if guard:
            options.append(guard)
        if draw(st.integers(0, 3)) == 0:
            options.append("writes='shared'")
        join = draw(st.sampled_from(["", "", "join=Join.ALL"]))
        if join:
            options.append(join)
        annotated = [f"{p}: {draw(st.sampled_from(_TYPES))}" for p in params]
        returns = draw(st.sampled_from(_TYPES))
        decorator = f"@wf.step({', '.join(options)})" if options else "@wf.step"
        lines += ["", "", decorator,
                  f"async def {step_name}({', '.join(annotated)}) -> {returns}:",
                  "    return None  # type: ignore"]
    if draw(st.booleans()):
        inner = draw(st.sampled_from(["doc", "topic", *names]))
        mapped = draw(st.sampled_from([inner, "nope"]))
        ordered = draw(st.sampled_from([(), (names[0],), ("ghost",)]))
        limit = draw(st.sampled_from(["", ", concurrency=1", ", concurrency=-1"]))
        lines += ["", "", "sub = Workflow('sub')", "", "",
                  "@sub.step", f"async def inner({inner}: str) -> str:",
                  "    return ''", "",
                  f"wf.add(sub, name='each', map={mapped!r}, writes='inner', "
                  f"after={ordered!r}{limit})"]
    return WorkflowSource("\n".join(lines) + "\n", True)
