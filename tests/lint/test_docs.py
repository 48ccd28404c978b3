"""docs/lint.md documents every code, option and config key; the diagnostics reference's
bad examples produce their code under spectra-lint and the fixed ones do not."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from compiler import CODES
from compiler.lint import lint_source
from compiler.lint._cli import _parser
from compiler.lint._config import KEYS

ROOT = Path(__file__).parents[2]
LINT_MD = (ROOT / "docs" / "lint.md").read_text()
DIAGNOSTICS_MD = (ROOT / "docs" / "diagnostics.md").read_text()


@pytest.mark.parametrize("code", list(CODES.values()), ids=list(CODES))
def test_every_code_is_in_the_reference_table(code: object) -> None:
    from compiler import Code

    assert isinstance(code, Code)
    assert f"| {code.code} | {code.name} | {code.severity} |" in LINT_MD
    assert f"## {code.code} {code.name}" in DIAGNOSTICS_MD


def test_every_option_is_documented() -> None:
    parser = _parser()
    options = [option for action in parser._actions
               for option in action.option_strings if option.startswith("--")]
    for action in parser._actions:
        if isinstance(action, argparse.BooleanOptionalAction):
            options.remove(action.option_strings[1])  # --no-show-source beside --show-source
    assert options
    for option in options:
        assert f"`{option}" in LINT_MD, option


def test_every_config_key_is_documented() -> None:
    table = LINT_MD.split("[tool.spectra-dsl.lint]", 2)[2].split("```", 1)[0]
    assert sorted(re.findall(r"^([a-z-]+) =", table, re.MULTILINE)) == sorted(KEYS)


def _examples() -> list[tuple[str, str, str]]:
    found = []
    sections = re.split(r"^## (SPX\d+) ", DIAGNOSTICS_MD, flags=re.MULTILINE)
    for code, body in zip(sections[1::2], sections[2::2], strict=True):
        parts = re.split(r"\*\*(Bad|Fixed)\*\*", body)
        for kind, text in zip(parts[1::2], parts[2::2], strict=True):
            block = re.search(r"```(?:python|text)\n(.*?)```", text, flags=re.DOTALL)
            assert block is not None, (code, kind)
            found.append((code, kind, block.group(1)))
    return found


EXAMPLES = _examples()


def test_every_code_has_a_bad_and_a_fixed_example() -> None:
    assert {(code, kind) for code, kind, _ in EXAMPLES} == {
        (code, kind) for code in CODES for kind in ("Bad", "Fixed")}


@pytest.mark.parametrize(("code", "kind", "source"), EXAMPLES,
                         ids=[f"{c}-{k}" for c, k, _ in EXAMPLES])
def test_reference_examples_lint_as_documented(code: str, kind: str, source: str) -> None:
    found = [d.code for d in lint_source(source, f"{code.lower()}_{kind.lower()}.py")]
    if kind == "Bad":
        assert code in found
    else:
        assert code not in found


def test_pre_commit_hook() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: spectra-lint" in hooks
    assert "entry: spectra-lint" in hooks
    assert "types: [python]" in hooks
