"""Feed date parsing: every date string a feed may carry -> aware UTC datetime, or None.

Owns the one function `parse_date`. It never raises: feeds are full of broken dates and a bad date
must cost the entry its date, never the feed. Handled, fastest first:

* ISO 8601 / RFC 3339 (Atom, JSON Feed, dc:date), including "2018-12-13 00:00:00";
* strict RFC 822 ("Sun, 17 Aug 2008 16:51:14 +0000") through one anchored regex;
* everything else through a tokenizer that looks for a month name (English, German, French,
  Spanish, Italian, Portuguese, Dutch, Swedish), a day, a year, a time and a zone in any order:
  "Fri 3 Dec 2010 04:30:00 GMT", "03 Apr 02 1500 GMT", "Sun Aug 17 16:51:14 UTC 2008",
  "Sat Oct 03 2015 00:00:00 GMT+0200 (CEST)", localized day and month names;
* bare unix timestamps.

Naive times are taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("jan", "january", "januar", "janvier", "janv", "enero", "ene", "gennaio", "gen",
        "janeiro", "januari"),
    2: ("feb", "february", "februar", "février", "fevrier", "févr", "fevr", "febrero",
        "febbraio", "fevereiro", "fev", "februari"),
    3: ("mar", "march", "märz", "maerz", "mär", "mrz", "mars", "marzo", "março", "marco",
        "maart", "mrt"),
    4: ("apr", "april", "avril", "avr", "abril", "abr", "aprile"),
    5: ("may", "mai", "mayo", "maggio", "mag", "maio", "mei", "maj"),
    6: ("jun", "june", "juni", "juin", "junio", "giugno", "giu", "junho"),
    7: ("jul", "july", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho"),
    8: ("aug", "august", "août", "aout", "agosto", "ago", "augustus", "augusti"),
    9: ("sep", "sept", "september", "septembre", "septiembre", "setiembre", "settembre",
        "set", "setembro"),
    10: ("oct", "october", "oktober", "okt", "octobre", "octubre", "ottobre", "ott",
         "outubro", "out"),
    11: ("nov", "november", "novembre", "noviembre", "novembro"),
    12: ("dec", "december", "dezember", "dez", "décembre", "decembre", "déc", "diciembre",
          "dic", "dicembre", "dezembro"),
}  # fmt: skip
_MONTHS = {name: num for num, names in _MONTH_NAMES.items() for name in names}
# Three-letter ASCII month names as _RFC822 reads them, in every letter case -> "01".."12".
_MONTHS3 = {
    "".join(c.upper() if (mask >> i) & 1 else c for i, c in enumerate(name)): f"{num:02d}"
    for name, num in _MONTHS.items()
    if len(name) == 3 and name.isascii() and name.isalpha()
    for mask in range(8)
}
# The zones _RFC822 takes by name, and "+0000", as ISO 8601 suffixes.
_ZONE_SUFFIX = {"GMT": "+00:00", "UTC": "+00:00", "UT": "+00:00", "Z": "+00:00", "+0000": "+00:00"}

# Named zones seen in real feeds, in minutes east of UTC. Numeric offsets always win over names
# ("GMT+0200 (CEST)").
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600,
    "cet": 60, "cest": 120, "met": 60, "mest": 120, "mez": 60, "mesz": 120, "west": 60,
    "bst": 60, "eet": 120, "eest": 180, "msk": 180, "ist": 330, "jst": 540, "kst": 540,
    "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
}  # fmt: skip

_NAMED_ZONE_SUFFIX = {
    name: "{}{:02d}:{:02d}".format("-" if minutes < 0 else "+", *divmod(abs(minutes), 60))
    for name, minutes in _ZONES.items()
}
_NOT_A_WEEKDAY = frozenset(_MONTHS) | frozenset(_ZONES) | {"am", "pm"}

_RFC822 = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*(?:([+-])(\d{2})(\d{2})|GMT|UTC|UT|Z)"
)
_ISO = re.compile(
    r"(\d{4})-?(\d{2})-?(\d{2})(?:[Tt\s]+(\d{1,2}):?(\d{2})(?::?(\d{2}))?(?:[.,]\d+)?)?"
    r"\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2}):?(\d{2})?)?\s*$"
)
_TOKEN = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?"  # time
    r"|([+-])(\d{2}):?(\d{2})(?!\d)"  # numeric offset
    r"|(\d+)"  # number
    r"|([^\W\d_]+)"  # word: month, zone, day name, am/pm
)


def parse_date(value: str | None) -> datetime | None:
    """Parse a feed date into an aware UTC datetime; None when it cannot be understood."""
    if not value:
        return None
    s = value.strip()
    if not s or len(s) > 100:
        return None
    try:
        # The two spellings nearly every feed uses are tried first, inline: this runs for every
        # entry, and a Python call costs as much as the C parse behind fromisoformat.
        if s[:4].isdigit():
            if s.isdigit() and 9 <= len(s) <= 11:
                return datetime.fromtimestamp(int(s), UTC)
            if len(s) >= 8:
                try:
                    dt = datetime.fromisoformat(s)
                except ValueError:
                    m = _ISO.match(s)
                    if m:
                        return _from_iso_match(m)
                else:
                    return dt if dt.tzinfo is UTC else _to_utc(dt)
        elif s[-1:].isalpha() or s[-5:-4] in ("+", "-"):
            fast = _rfc822_fast(s)
            if fast is not None:
                return fast
        return _parse(s)
    except (ValueError, OverflowError, OSError):
        return None


def _parse(s: str) -> datetime | None:
    """What the fast paths in parse_date left: strict RFC 822, then the free-order tokenizer."""
    m = _RFC822.fullmatch(s)
    if m and (month := _MONTHS.get(m[2].lower())):
        offset = 0
        if m[7]:
            offset = (int(m[8]) * 60 + int(m[9])) * (1 if m[7] == "+" else -1)
        dt = datetime(int(m[3]), month, int(m[1]), int(m[4]), int(m[5]), int(m[6] or 0))
        return _apply_offset(dt, offset)
    return _parse_tokens(s)


def _rfc822_fast(s: str) -> datetime | None:
    """Common RFC 822 spellings, single spaces, by datetime.fromisoformat; None for the rest.

    "Sun, 17 Aug 2008 16:51:14 +0000" (also GMT, UT, Z or no weekday) is read as the _RFC822
    regex reads it; "... 16:51:14 PDT" and JavaScript's "Sun Aug 17 2008 16:51:14 GMT" as the
    tokenizer reads them (so never when the weekday is itself a month or zone name). Rewriting
    to ISO 8601 for the C parser is several times cheaper than converting six numbers in Python.
    Anything it does not take whole (an odd zone, hour 24, a one-digit hour) gets None and goes
    down the general path.
    """
    parts = s.split(" ")
    weekday = ""
    if len(parts) == 6:
        first = parts[0]
        if len(first) == 4 and first[3] == ",":
            weekday = first[:3]
            _, day, mon, year, hms, zone = parts
            tokens_only = False
        elif len(first) == 3:
            weekday, mon, day, year, hms, zone = parts
            tokens_only = True
        else:
            return None
        if not (weekday.isascii() and weekday.isalpha()):
            return None
    elif len(parts) == 5:
        day, mon, year, hms, zone = parts
        tokens_only = False
    else:
        return None
    month = _MONTHS3.get(mon)
    if month is None or len(year) != 4 or hms[2:3] != ":":
        return None
    if not (len(hms) == 5 or (len(hms) == 8 and hms[5] == ":")):
        return None
    if len(day) == 1:
        day = "0" + day
    offset = None if tokens_only else _ZONE_SUFFIX.get(zone)
    if offset is None:
        if not tokens_only and len(zone) == 5 and zone[0] in "+-":
            if not (zone.isascii() and zone[1:].isdigit()):
                return None
            offset = zone
        else:
            # Read as the tokenizer would: the first month word and the first zone word win.
            offset = _NAMED_ZONE_SUFFIX.get(zone.lower())
            if offset is None or weekday.lower() in _NOT_A_WEEKDAY:
                return None
    try:
        dt = datetime.fromisoformat(f"{year}-{month}-{day}T{hms}{offset}")
    except ValueError:
        return None
    if offset == "+00:00":
        return dt
    return dt.astimezone(UTC)


def _from_iso_match(m: re.Match[str]) -> datetime:
    dt = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0), int(m[6] or 0))
    offset = 0
    if m[8]:
        offset = (int(m[9]) * 60 + int(m[10] or 0)) * (1 if m[8] == "+" else -1)
    return _apply_offset(dt, offset)


def _parse_tokens(s: str) -> datetime | None:
    """Free-order parse: find a month name, day, year, time and zone among the tokens."""
    month = 0
    numbers: list[str] = []
    hms: tuple[int, int, int] | None = None
    offset: int | None = None
    zone: int | None = None
    ampm = ""
    for m in _TOKEN.finditer(s):
        if m[1] is not None:
            if hms is None:
                hms = (int(m[1]), int(m[2]), int(m[3] or 0))
        elif m[4] is not None:
            if hms is None:  # "-2003" in "10-Jun-2003" is a year, not an offset
                numbers.append(m[5] + m[6])
            elif offset is None:
                offset = (int(m[5]) * 60 + int(m[6])) * (1 if m[4] == "+" else -1)
        elif m[7] is not None:
            numbers.append(m[7])
        else:
            word = m[8].lower()
            if not month and (num := _MONTHS.get(word.rstrip("."))):
                month = num
            elif word in _ZONES and zone is None:
                zone = _ZONES[word]
            elif word in ("am", "pm"):
                ampm = word
    if not month:
        return None
    if hms is None and len(numbers) >= 3 and len(numbers[-1]) == 4:
        raw = numbers.pop()  # "03 Apr 02 1500 GMT": a time without a colon
        hms = (int(raw[:2]), int(raw[2:]), 0)
    year = day = 0
    for n in numbers:
        if len(n) == 4 and not year:
            year = int(n)
        elif len(n) <= 2 and not day:
            day = int(n)
        elif len(n) <= 2 and not year:
            year = int(n) + (2000 if int(n) < 50 else 1900)
    if not (year and day):
        return None
    hour, minute, second = hms or (0, 0, 0)
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    dt = datetime(year, month, day, hour, minute, second)
    return _apply_offset(dt, offset if offset is not None else (zone or 0))


def _apply_offset(dt: datetime, offset_minutes: int) -> datetime:
    if offset_minutes:
        return (dt - timedelta(minutes=offset_minutes)).replace(tzinfo=UTC)
    return dt.replace(tzinfo=UTC)


def _to_utc(dt: datetime) -> datetime:
    # astimezone rather than checking the offset first: datetime.replace() and utcoffset() each
    # cost more than the conversion.
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


__all__ = ["parse_date"]
