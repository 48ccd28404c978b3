"""The flake8 plugin: the same findings, as flake8 wants them (0-based columns)."""

from __future__ import annotations

import ast
from pathlib import Path

from compiler.lint._flake8 import Plugin

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lint"


def run(path: Path) -> list[tuple[int, int, str]]:
    text = path.read_text()
    plugin = Plugin(ast.parse(text), str(path), text.splitlines(keepends=True))
    return [(line, column, message.split()[0]) for line, column, message, kind in plugin.run()
            if kind is Plugin]


def test_findings_on_the_def_line() -> None:
    assert run(FIXTURES / "forgotten_join.py") == [(24, 0, "SPX101")]


def test_clean_and_file_noqa() -> None:
    assert run(FIXTURES / "clean_parallel.py") == []
    assert run(FIXTURES / "file_noqa.py") == []


def test_a_step_defined_in_another_module_is_reported_on_the_workflow() -> None:
    path = FIXTURES / "lint_pkg" / "flow.py"
    text = path.read_text()
    plugin = Plugin(ast.parse(text), str(path), text.splitlines(keepends=True))
    ((line, column, message, _),) = list(plugin.run())
    assert (line, column) == (8, 0)
    assert message.startswith("SPX101 step 'combine'")
    assert "(defined at " in message and "steps.py:22:1" in message


def test_plugin_metadata_and_entry_point() -> None:
    assert Plugin.name == "spectra-lint"
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '[project.entry-points."flake8.extension"]\nSPX = "compiler.lint._flake8:Plugin"' \
        in pyproject
