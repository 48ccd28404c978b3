"""How a fan-in step joins its branches."""

from __future__ import annotations

import enum


class Join(str, enum.Enum):
    """The join rule of a fan-in step.

    ``Join.ALL`` runs the step once, after every upstream has finished.  ``Join.ANY``
    runs it once, as soon as the first of its racing branches finishes; parameters fed
    by branches that have not arrived take their defaults.  A fan-in step must say
    which it wants: the compiler reports a forgotten join as SPX101.
    """

    ALL = "all"
    ANY = "any"

    def __str__(self) -> str:
        return self.value
