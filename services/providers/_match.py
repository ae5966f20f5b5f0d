"""Artist-name matching, the same rules as legacy's `name_similarity` (MVidarr's
`_calculate_name_similarity`), so both sides pick the same search hit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from typing import TypeVar

T = TypeVar("T")

_NON_WORD = re.compile(r"[^\w\s]")
_LEADING_THE = re.compile(r"^the\s+")


def normalize_name(name: str) -> str:
    name = _LEADING_THE.sub("", name.lower().strip())
    return _NON_WORD.sub("", name.replace("&", "and")).strip()


def name_similarity(a: str, b: str) -> float:
    left, right = normalize_name(a), normalize_name(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    return SequenceMatcher(None, left, right).ratio()


def best_match(name: str, candidates: Sequence[T], key: Callable[[T], str], threshold: float) -> T | None:
    """The most similar candidate at or above `threshold`; the first one wins a tie."""
    scored = [(name_similarity(name, key(c)), i) for i, c in enumerate(candidates)]
    scored = [s for s in scored if s[0] >= threshold]
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1]))
    return candidates[scored[0][1]]
