"""The docs cannot drift from the code: every ```python block of docs/*.md and README.md
runs here, local links and their anchors resolve, and the newcomer's pages keep their
promises (the README's two commands, Spectra introduced with a link, one name for the
findings of a ``CompileError``).

Convention for code blocks: a ```python block is a complete program and runs, in a
fresh namespace, with tracebacks and step locations pointing into the .md file.  A
block that cannot run (a file shown only for spectra-lint, another library's code shown
for comparison) starts with the line ``# not runnable`` and must still parse.  Anything
that is not Python gets another language (```text, ```sh, ```toml, ...).  No block is
skipped silently.  The diagnostics reference has checks of its own in
tests/compiler/test_diagnostics.py and tests/lint/test_docs.py.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [*DOCS, README]
NOT_RUNNABLE = "# not runnable"
LANGUAGES = ("python", "text", "sh", "console", "toml", "json", "yaml", "mermaid")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.S | re.M)

#: The pages this suite holds to the newcomer rules (the other pages have owners and
#: checks of their own).
NEWCOMER_PAGES = [README] + [
    ROOT / "docs" / f"{name}.md"
    for name in ("index", "install", "tour", "coming-from", "steps", "joins", "state",
                 "conditions", "subworkflows", "loops", "retries")
]
SPECTRA_LINK = "https://github.com/alicank/Spectra"


@attrs.frozen
class Block:
    """One fenced code block of a page."""

    path: Path
    line: int  # the line of the block's first code line
    language: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a page whose fences start at the margin."""
    text = path.read_text(encoding="utf-8")
    return [
        Block(path, text.count("\n", 0, m.start()) + 2, m.group(1), m.group(2))
        for m in FENCE.finditer(text)
    ]


PYTHON_BLOCKS = [b for path in PAGES for b in blocks(path) if b.language == "python"]


def prose(path: Path) -> str:
    """A page without its code blocks."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


# -- code blocks ------------------------------------------------------------------------


def test_the_docs_have_runnable_blocks() -> None:
    runnable = [b for b in PYTHON_BLOCKS if not b.source.startswith(NOT_RUNNABLE)]
    assert len(runnable) >= 30
    for path in PAGES:
        for block in blocks(path):
            assert block.language in LANGUAGES, f"{block.id}: give the code block a language"


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[b.id for b in PYTHON_BLOCKS])
def test_python_block_runs(block: Block) -> None:
    # Pad with blank lines so tracebacks and step locations point into the .md file.
    code = compile("\n" * (block.line - 1) + block.source, str(block.path), "exec")
    if block.source.startswith(NOT_RUNNABLE):
        return  # compiled above: it parses
    exec(code, {"__name__": "__docs__"})


# -- links ------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.*)$", prose(path), flags=re.M)}


def test_local_links_resolve() -> None:
    for path in PAGES:
        for target, anchor in re.findall(r"\]\(([^)#:]*)(?:#([^)]*))?\)", prose(path)):
            linked = (path.parent / target) if target else path
            assert linked.exists(), f"{path.name}: broken link {target}"
            if anchor and linked.suffix == ".md":
                assert anchor in anchors(linked), f"{path.name}: no #{anchor} in {linked.name}"


# -- the README -------------------------------------------------------------------------


def test_readme_opens_with_the_name_what_it_is_then_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "# spectra-dsl"
    intro = text.split("\n## ", 1)[0]
    assert "@step" in intro and "parallel" in intro.lower()
    first_section = text.split("\n## ", 2)[1]
    assert first_section.startswith("Try it\n")
    steps = re.findall(r"^(\d)\. (.*?)\n\n\s*```sh\n\s*(.*?)\n\s*```", first_section,
                       flags=re.M | re.S)
    assert [number for number, _, _ in steps] == ["1", "2"]
    (_, says_first, first), (_, says_second, second) = steps
    # The first installs only what the example needs; the test extras come second.
    assert "pip install -e . " in first and "[test]" not in first
    assert first.endswith("python examples/parallel_analysis.py")
    assert "example" in says_first and "venv" in first
    assert "pip install -e '.[test]'" in second and second.endswith("python -m pytest")
    assert "test" in says_second


def test_the_main_example_needs_nothing_beyond_the_library() -> None:
    """`pip install -e .` is enough for the README's first command: the example imports
    only the standard library, trio and spectra_dsl."""
    tree = ast.parse((ROOT / "examples" / "parallel_analysis.py").read_text("utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    assert modules - set(sys.stdlib_module_names) <= {"trio", "spectra_dsl"}


# -- the newcomer's pages ---------------------------------------------------------------


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", NEWCOMER_PAGES + EXAMPLES,
                         ids=[p.name for p in NEWCOMER_PAGES + EXAMPLES])
def test_no_internal_jargon(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bseed\b", text, flags=re.I), (
        f"{path.name}: 'seed' means nothing to a reader; name the Spectra page instead"
    )


@pytest.mark.parametrize("path", NEWCOMER_PAGES, ids=[p.name for p in NEWCOMER_PAGES])
def test_a_page_comparing_with_spectra_says_what_it_is(path: Path) -> None:
    text = prose(path)
    if not re.search(r"\bSpectra\b(?![-_\w])", text):
        return
    assert f"[Spectra]({SPECTRA_LINK})" in text, f"{path.name}: link Spectra where it is named"
    assert ".NET workflow" in text, f"{path.name}: say once what Spectra is"


@pytest.mark.parametrize("path", NEWCOMER_PAGES, ids=[p.name for p in NEWCOMER_PAGES])
def test_compile_error_findings_have_one_name(path: Path) -> None:
    assert "error.errors" not in path.read_text(encoding="utf-8"), (
        f"{path.name}: a CompileError's findings are `.diagnostics`"
    )


def test_the_tour_explains_a_single_parameter_fan_in() -> None:
    tour = prose(ROOT / "docs" / "tour.md")
    assert "single parameter" in tour and "two writers" in tour


def _exists() -> dict[str, bool]:
    """Whether each feature the 'coming from' page may list as "not yet" exists now."""
    from spectra_dsl import Plan, match, step

    step_options = inspect.signature(step).parameters
    run_options = inspect.signature(Plan.run).parameters
    return {
        "map": "map" in step_options,
        "asking for only some outputs": "outputs" in run_options,
        "streaming": hasattr(Plan, "stream"),
        "durable runs": "store" in run_options or hasattr(Plan, "resume"),
        "interrupts": "ask" in step_options,
        "drawings": hasattr(Plan, "to_mermaid"),
        "executors": "executor" in step_options,
        "routes with a fallback": hasattr(type(match(k=1)), "__invert__"),
        "ordering-only edges": "after" in step_options,
    }


def test_the_coming_from_page_maps_their_concepts() -> None:
    page = prose(ROOT / "docs" / "coming-from.md")
    for concept in ("StateGraph", "add_node", "add_edge", "add_conditional_edges",
                    "Annotated", "Send", "interrupt", "checkpointer", "stream",
                    "Parallelizable", "Collect", "config.when", "execute(",
                    "WaitForAll", "MaxConcurrency", "reducer", "events", "first match"):
        assert concept in page, concept


def test_the_coming_from_page_lists_no_feature_as_missing_that_exists() -> None:
    not_yet = prose(ROOT / "docs" / "coming-from.md").split("\n## Not yet\n", 1)[1]
    listed = set(re.findall(r"^- \*\*(.+?)\*\*", not_yet, flags=re.M))
    for feature, exists in _exists().items():
        if exists:
            assert feature not in listed, f"{feature} exists now: take it out of 'Not yet'"
        else:
            assert feature in listed, f"say that {feature} does not exist yet"


def test_the_loop_variable_trap_is_documented_where_steps_are_made_in_loops() -> None:
    steps = (ROOT / "docs" / "steps.md").read_text(encoding="utf-8")
    section = steps.split("## Steps made in a loop", 1)[1].split("\n## ", 1)[0]
    assert "def make_check(" in section and "functools.partial" in section
