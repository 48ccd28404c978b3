"""spectra-lint: the static front end of the compiler and its command line.

It reads workflows from a module's source alone (never importing or running it), runs
the compiler's passes over them and reports what ``Workflow.compile()`` would.  One
pipeline serves the command line (:func:`main`), the flake8 plugin and Python callers
(:func:`lint_paths`, :func:`lint_source`).
"""

from ._cli import main as main
from ._engine import LintResult as LintResult
from ._engine import lint_paths as lint_paths
from ._engine import lint_source as lint_source

__all__ = ["LintResult", "lint_paths", "lint_source", "main"]
