"""The check character of an 18-character unified social credit code (GB 32100-2015).

Position 18 is computed from positions 1-17: each character's value is its index in
`CHARSET` (digits, then capital letters without I, O, S, V, Z), multiplied by the
weight of its position; the check character is CHARSET[(31 - sum % 31) % 31].
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str | None:
    """The check character for the first 17 characters, or None if they are not 17 valid ones."""
    if len(first17) != len(WEIGHTS) or any(c not in CHARSET for c in first17):
        return None
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True if `code` is 18 valid characters whose last one is the right check character."""
    return len(code) == 18 and check_character(code[:17]) == code[17]
