"""Numbers in URLs: what a valid id, page number or date part is, decided in one place.

An id (a post, a source, `?added=`) or a page number is a positive integer within the 64-bit
signed range the store uses (store.base.ID_MAX), written in ASCII digits without a leading
zero: exactly the form the site itself writes. Anything else is not one of our pages: a path
parameter `{name:id}` simply does not match (404), and `parse_id` gives None for an optional
query parameter, which is then ignored. So an out-of-range number never reaches the database,
where SQLite's bind overflows and PostgreSQL's 32-bit columns refuse it ("500 with a
traceback" before).

Date parts in archive URLs (`{year:num}/{month:num}`) may carry leading zeros ("2026/01");
they are at most 18 digits, so their int() is cheap and always fits the 64-bit range
(Starlette's own `int` convertor takes any length, and int() of a 5,000-digit string raises).
"""

from __future__ import annotations

import re

from starlette.convertors import Convertor, register_url_convertor

from netplanet.store.base import ID_MAX


def _up_to(limit: int) -> str:
    """A regex matching the decimal numbers 1..limit, without leading zeros."""
    digits = str(limit)
    n = len(digits)
    parts = [f"[1-9][0-9]{{0,{n - 2}}}"] if n > 1 else []
    for i, d in enumerate(digits):
        low, high = (1 if i == 0 else 0), int(d) - 1
        if high >= low:
            parts.append(f"{digits[:i]}[{low}-{high}][0-9]{{{n - i - 1}}}")
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


ID_PATTERN = _up_to(ID_MAX)
_ID = re.compile(ID_PATTERN)
NUMBER_PATTERN = "[0-9]{1,18}"


def parse_id(raw: str | None) -> int | None:
    """The id in an optional query parameter, None when absent or not a valid id."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    return int(raw)


class IdConvertor(Convertor[int]):
    """`{name:id}`: a positive id or page number (1..ID_MAX, no leading zero)."""

    regex = ID_PATTERN

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        text = str(int(value))
        assert _ID.fullmatch(text), f"not an id: {value}"
        return text


class NumberConvertor(Convertor[int]):
    """`{name:num}`: up to 18 ASCII digits, leading zeros allowed (years, months)."""

    regex = NUMBER_PATTERN

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())
register_url_convertor("num", NumberConvertor())
