"""Turn whatever a reader types into a safe full-text query (pure; shared by the backends).

Readers type words, "quoted phrases", a trailing * for a prefix, OR between alternatives and a
leading - to exclude a word. Everything else is treated as plain words, so no input can produce
a query syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)([\w][\w\'.+#-]*\*?)', re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]
    """One word, or several for a phrase."""
    prefix: bool = False
    negated: bool = False
    or_before: bool = False
    """True when the reader typed OR between this term and the previous one."""


def parse_query(query: str, *, max_terms: int = 16) -> list[Term]:
    terms: list[Term] = []
    pending_or = False
    for match in _TOKEN.finditer(query):
        neg_phrase, phrase, neg_word, word = match.groups()
        if phrase is not None:
            words = tuple(w.lower() for w in _WORD.findall(phrase))
            negated, prefix = bool(neg_phrase), False
        else:
            if word == "OR":
                pending_or = bool(terms)
                continue
            prefix = word.endswith("*")
            words = tuple(w.lower() for w in _WORD.findall(word))
            negated = bool(neg_word)
        if not words:
            continue
        terms.append(Term(words, prefix=prefix, negated=negated, or_before=pending_or))
        pending_or = False
        if len(terms) >= max_terms:
            break
    # A query made only of exclusions matches nothing useful; treat them as plain words.
    if terms and all(t.negated for t in terms):
        terms = [Term(t.words, prefix=t.prefix) for t in terms]
    return terms


def to_fts5(terms: list[Term]) -> str:
    """SQLite FTS5 MATCH syntax: every word quoted, so reader input is never operator syntax."""
    parts: list[str] = []
    for term in terms:
        quoted = '"' + " ".join(w.replace('"', '""') for w in term.words) + '"'
        if term.prefix:
            quoted += "*"
        if term.negated:
            parts.append(f"NOT {quoted}")
        elif term.or_before and parts:
            parts.append(f"OR {quoted}")
        else:
            parts.append(quoted)
    # FTS5 rejects a leading NOT; the all-negated case is normalised in parse_query.
    while parts and parts[0].startswith("NOT "):
        parts.append(parts.pop(0))
    return " ".join(parts)


_MAX_WORD = 200  # PostgreSQL refuses lexemes over 2047 bytes; no real word is this long


def _ts_word(word: str, prefix: bool) -> str:
    # Words are \w+ runs, but quote and escape anyway so the builder is safe on its own.
    quoted = "'" + word[:_MAX_WORD].replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


def to_tsquery(terms: list[Term]) -> str:
    """PostgreSQL to_tsquery syntax with the same meaning as `to_fts5`.

    Every word is a quoted lexeme; a prefix term ends in `:*`; a phrase (or a word the
    tokenizer split, like "ipv6-only") is joined with `<->`; terms are ANDed, OR becomes `|`
    and an exclusion `!`. Like FTS5, `!` binds tightest, then `&`, then `|`.
    """
    parts: list[str] = []
    for term in terms:
        last = len(term.words) - 1
        words = [_ts_word(w, term.prefix and n == last) for n, w in enumerate(term.words)]
        expr = " <-> ".join(words)
        if len(words) > 1:
            expr = f"({expr})"
        if term.negated:
            parts.append(f"& !{expr}" if parts else f"!{expr}")
        elif term.or_before and parts:
            parts.append(f"| {expr}")
        else:
            parts.append(f"& {expr}" if parts else expr)
    return " ".join(parts)
