"""Pass 3: the checks parallel workflows need: joins, racing writes, annotations.

"Concurrent" means neither step is an ancestor of the other (and, with guards, that
they are not mutually exclusive); "fan-in" means at least two independent upstreams.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import attrs

from . import _ir as ir
from ._diagnostics import Diagnostic
from ._map import mapped_names, produced_type
from ._reach import Reach, is_covered
from ._types import TypeExpr, fits

#: ``exclusive(a, b)``: steps ``a`` and ``b`` can never both run in one run.
Exclusive = Callable[[int, int], bool]


def never_exclusive(a: int, b: int) -> bool:
    """The exclusivity relation of a workflow without ``match`` guards."""
    return False


def _names(steps: Sequence[ir.StepSpec], indices: Sequence[int]) -> str:
    quoted = [f"'{steps[i].name}'" for i in indices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def independent_pair(
    nodes: Sequence[int], position: Sequence[int], reach: Reach,
    exclusive: Exclusive = never_exclusive,
) -> tuple[int, int] | None:
    """Two of ``nodes`` that neither precede one another nor exclude one another."""
    ordered = sorted(nodes, key=position.__getitem__)
    if exclusive is never_exclusive:
        # Precedence is transitive, so consecutive pairs settle it in linear time.
        for earlier, later in itertools.pairwise(ordered):
            if not reach.precedes(earlier, later):
                return earlier, later
        return None
    for i, later in enumerate(ordered):
        for earlier in ordered[:i]:
            if not exclusive(earlier, later) and not reach.precedes(earlier, later):
                return earlier, later
    return None


def branch_tips(upstreams: Sequence[int], reach: Reach) -> list[int]:
    """The upstreams that are no ancestor of another upstream: the branches that race."""
    covered = reach.covered(upstreams)
    return [up for up in upstreams if not is_covered(covered, up)]


@attrs.frozen
class JoinShape:
    """How a step's upstreams meet: in plan order, whether two are independent (a
    fan-in), and the branch tips, the upstreams that are no ancestor of another."""

    upstreams: tuple[int, ...]
    fan_in: bool
    tips: tuple[int, ...]


def join_shapes(
    predecessors: Sequence[set[int]], position: Sequence[int], reach: Reach
) -> list[JoinShape]:
    """Each step's :class:`JoinShape`, worked out once for every pass that needs it."""
    shapes: list[JoinShape] = []
    by_position = position.__getitem__
    bits: list[int] | None = None
    tips: tuple[int, ...]
    for preds in predecessors:
        if len(preds) < 2:  # no fan-in, one tip at most
            upstreams = tuple(preds)
            shapes.append(_NO_UPSTREAM if not upstreams
                          else JoinShape(upstreams, False, upstreams))
            continue
        upstreams = tuple(sorted(preds, key=by_position))
        if bits is None:
            bits = reach.bitsets()
        if bits is not None:
            # As independent_pair and branch_tips, read straight from the bitsets:
            # upstreams in plan order, so a fan-in is a consecutive pair not ordered.
            fan_in = False
            earlier = upstreams[0]
            for later in upstreams[1:]:
                if not (bits[later] >> earlier) & 1:
                    fan_in = True
                    break
                earlier = later
            if fan_in and len(upstreams) == 2:  # two independent upstreams: both tips
                tips = upstreams
            elif fan_in:
                covered = 0
                for up in upstreams:
                    covered |= bits[up]
                tips = tuple(up for up in upstreams if not (covered >> up) & 1)
            else:
                tips = upstreams[-1:]
            shapes.append(JoinShape(upstreams, fan_in, tips))
            continue
        fan_in = independent_pair(upstreams, position, reach) is not None
        tips = tuple(branch_tips(upstreams, reach)) if fan_in else upstreams[-1:]
        shapes.append(JoinShape(upstreams, fan_in, tips))
    return shapes


#: The shape of every step without upstreams (shared: the class is frozen).
_NO_UPSTREAM = JoinShape((), False, ())


def check_joins(
    steps: Sequence[ir.StepSpec], shapes: Sequence[JoinShape], writers: dict[str, list[int]],
    exclusive: Exclusive = never_exclusive,
) -> list[Diagnostic]:
    """SPX101 forgotten join, SPX102 ``any`` without defaults, SPX103 needless join."""
    found: list[Diagnostic] = []
    for step, shape in zip(steps, shapes, strict=True):
        upstreams, tips, join = shape.upstreams, shape.tips, step.join
        if shape.fan_in and join is None:
            hint = ""
            if all(exclusive(a, b) for a, b in itertools.combinations(tips, 2)):
                hint = (" (the branches exclude one another, so Join.ALL runs it once, after "
                        "whichever ran)")
            found.append(Diagnostic(
                "SPX101",
                f"step '{step.name}' joins the branches {_names(steps, tips)} but has no "
                "join=; add join=Join.ALL to wait for every branch, or join=Join.ANY to "
                f"run on the first to finish{hint}",
                steps=(step.name, *(steps[t].name for t in tips)), location=step.location,
            ))
        elif not shape.fan_in and join in ("all", "any"):
            if len(upstreams) > 1:
                # In plan order and on one chain: each upstream runs before the next,
                # so the step only ever waits for the last.
                if len(upstreams) == 2:
                    chain = (f"'{steps[upstreams[0]].name}' already runs before "
                             f"'{steps[upstreams[1]].name}'")
                else:
                    chain = (f"{_names(steps, upstreams)} lie on one branch, each already "
                             "running before the next")
                what = f"its upstreams are one branch ({chain})"
            elif upstreams:
                what = f"it has one upstream step ('{steps[upstreams[0]].name}')"
            else:
                what = "it has no upstream step"
            found.append(Diagnostic(
                "SPX103",
                f"step '{step.name}' has join={join!r} but is no fan-in: {what}, so "
                "there is nothing to join; remove join=",
                steps=(step.name,), location=step.location,
            ))
        elif shape.fan_in and join == "any":
            racing = set(tips)
            for param in step.params:
                fed_by = [w for w in writers.get(param.name, ()) if w in racing]
                if fed_by and not param.has_default:
                    found.append(Diagnostic(
                        "SPX102",
                        f"step '{step.name}' has join=Join.ANY, but parameter "
                        f"'{param.name}' comes from the branch {_names(steps, fed_by)}, "
                        "which may not have finished when it runs; give the parameter a "
                        "default (such as None), or use join=Join.ALL",
                        steps=(step.name, *(steps[w].name for w in fed_by)),
                        key=param.name, location=step.location,
                    ))
    return found


def check_writes(
    steps: Sequence[ir.StepSpec], writers: dict[str, list[int]],
    reducers: Sequence[ir.ReducerSpec], position: Sequence[int], reach: Reach,
    exclusive: Exclusive = never_exclusive, workflow: ir.WorkflowSpec | None = None,
) -> list[Diagnostic]:
    """SPX201 concurrent writers without a reducer, SPX202 reducer for an unwritten key."""
    found: list[Diagnostic] = []
    reduced = {r.key for r in reducers}
    for key, keyed in writers.items():
        if len(keyed) < 2 or key in reduced:
            continue
        pair = independent_pair(keyed, position, reach, exclusive)
        if pair is None:
            continue
        first, second = pair
        guards = ""
        one, other = steps[first].guard, steps[second].guard
        if one is not None and other is not None and one.matches and other.matches:
            guards = ("; both are guarded by match(...), but some value can make both "
                      "guards hold: give them value sets with no value in common, such "
                      "as match(kind={'a', 'b'}) and ~match(kind={'a', 'b'}) for the rest")
        elif one is not None and other is not None:
            guards = ("; both are guarded, but their guards cannot be proven exclusive: if "
                      "they branch on one value, guard them with match(...), such as "
                      "when=match(kind='a') and when=match(kind='b') (and "
                      "when=~match(kind={'a', 'b'}) for every other value), so the "
                      "compiler can tell they never both run")
        found.append(Diagnostic(
            "SPX201",
            f"steps '{steps[first].name}' and '{steps[second].name}' may run at the same "
            f"time and both write '{key}', which has no reducer; register one with "
            f"wf.reducer('{key}', ...) (see spectra_dsl.reducers), or use "
            f"reducers={{'{key}': last_write_wins}} if the last write may win{guards}",
            steps=(steps[second].name, steps[first].name), key=key,
            location=steps[second].location,
        ))
    for reducer in reducers:
        if reducer.key not in writers:
            location = reducer.location or (workflow.location if workflow else None)
            found.append(Diagnostic(
                "SPX202",
                f"reducer {reducer.name} is registered for key '{reducer.key}', but no step "
                "writes it; fix the key, or remove the reducer",
                key=reducer.key, location=location,
            ))
    return found


def check_types(
    steps: Sequence[ir.StepSpec], writers: dict[str, list[int]],
    reducers: Sequence[ir.ReducerSpec],
) -> list[Diagnostic]:
    """SPX301: a producer's return annotation that cannot fit a consumer's parameter.

    A mapped step writes ``list[T]``; a mapped parameter gets one element of what it
    reads, which SPX502 checks instead.
    """
    found: list[Diagnostic] = []
    reducer_of = {r.key: r for r in reducers}
    for step in steps:
        mapped = mapped_names(step) if step.map else ()
        for param in step.params:
            consumed = param.annotation
            if consumed is None:
                continue
            name = param.name
            written_by = writers.get(name)
            if written_by is None or name in mapped:
                continue
            reducer = reducer_of.get(name) if reducer_of else None
            # (source, produced); the source is described only for a finding.
            sources: list[tuple[ir.ReducerSpec | int, TypeExpr | None]]
            if reducer is not None:
                sources = [(reducer, reducer.result)]
            else:
                sources = []
                for w in written_by:
                    writer = steps[w]
                    if writer.writes is None and writer.map is None:  # the common case
                        produced = writer.returns
                        if produced is None or produced is consumed:
                            continue
                    else:
                        produced = produced_type(writer, name)
                    sources.append((w, produced))
            for source, produced in sources:
                if (produced is None or produced is consumed  # one annotation, read once
                        or fits(produced, consumed) is not False):
                    continue
                if isinstance(source, ir.ReducerSpec):
                    what = f"reducer {source.name} returns {produced}"
                elif steps[source].map is not None and steps[source].body is None:
                    what = (f"step '{steps[source].name}' is mapped, so it writes the list "
                            f"of its calls' results, {produced}")
                else:
                    what = f"step '{steps[source].name}' returns {produced}"
                found.append(Diagnostic(
                    "SPX301",
                    f"step '{step.name}' parameter '{param.name}: {consumed}' reads "
                    f"'{param.name}', but {what}; fix one of the two annotations",
                    steps=(step.name,), key=param.name, location=step.location,
                ))
    return found
