"""``python -m compiler``: the spectra-lint command line (as ``python -m compiler.lint``)."""

from __future__ import annotations

import sys

from compiler.lint import main

if __name__ == "__main__":
    sys.exit(main())
