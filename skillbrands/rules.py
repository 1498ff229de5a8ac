"""Consistency rules of seed 000 across rows and tables (placeholder: filled in by the rules work)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from .issues import Issue

if TYPE_CHECKING:
    from .validate import Loaded


def check_rules(loaded: "Loaded", today: date) -> list[Issue]:
    return []
