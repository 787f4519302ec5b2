"""One parser for the integers clients send in query strings: a number in bounds, or 400 naming the parameter
(never a value PostgreSQL cannot hold: its integer is 32 bits, its bigint 64)."""

from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError

# PostgreSQL's integer: the largest offset, count or size a query parameter may carry.
MAX_OFFSET = 2**31 - 1
# Python refuses to parse longer strings of digits (sys.int_info.str_digits_check_threshold); so do we.
_MAX_DIGITS = 20
_INTEGER = re.compile(r"[+-]?[0-9]+")


def query_integer(raw: str | None, *, name: str, default: int, minimum: int, maximum: int) -> int:
    """`raw` (a query parameter, None when absent) as an int in [minimum, maximum]; 400 `{name: [...]}`."""
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not _INTEGER.fullmatch(text):  # one sign at most: "+-5" is no integer (int() would raise)
        raise ValidationError({name: ["A valid integer is required."]})
    if len(text.lstrip("+-")) > _MAX_DIGITS:
        value = maximum + 1 if not text.startswith("-") else minimum - 1
    else:
        value = int(text)
    if value < minimum:
        raise ValidationError({name: [f"Ensure this value is greater than or equal to {minimum}."]})
    if value > maximum:
        raise ValidationError({name: [f"Ensure this value is less than or equal to {maximum}."]})
    return value
