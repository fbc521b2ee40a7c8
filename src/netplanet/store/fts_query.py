"""Turn whatever a reader types into a safe full-text query (pure; shared by the backends).

The meaning, the same on SQLite (FTS5) and PostgreSQL (tsquery):

- words and "quoted phrases" are ANDed; a trailing * makes a prefix (`tele*`);
- OR joins the two terms beside it (`evpn vxlan OR geneve` is evpn AND (vxlan OR geneve));
- -word, -"phrase" or NOT word excludes every post containing it, whatever the rest of the
  query says; a query of only exclusions means "recent posts without these words";
- AND is accepted and changes nothing; anything else (NEAR, column:, parentheses, ^, an
  unbalanced quote) is plain words or ignored, so no input is ever a syntax error;
- a query with no words at all (`-`, `"`, `()`) is empty: the callers say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(r'(-*)"([^"]*)"|(-*)([\w][\w\'.+#-]*\*?)', re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]
    """One word, or several for a phrase (or a word the tokenizer splits, like "ipv6-only")."""
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    groups: tuple[tuple[Term, ...], ...] = ()
    """Every group must match; the terms of a group are alternatives (joined by OR)."""
    excluded: tuple[Term, ...] = ()
    """No matching post contains any of these."""

    @property
    def empty(self) -> bool:
        """No words at all: nothing to search for."""
        return not self.groups and not self.excluded

    @property
    def only_exclusions(self) -> bool:
        """Only -words: the newest posts without them."""
        return not self.groups and bool(self.excluded)

    def positive(self) -> Query:
        """The query without its exclusions: what highlighting may mark."""
        return Query(self.groups)

    def any_excluded(self) -> Query:
        """One group of the excluded terms: the posts an exclusion-only query leaves out."""
        return Query((self.excluded,)) if self.excluded else Query()


def parse_query(query: str, *, max_terms: int = 16) -> Query:
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = negate_next = False
    count = 0
    for match in _TOKEN.finditer(query):
        neg_phrase, phrase, neg_word, word = match.groups()
        if phrase is not None:
            words = tuple(w.lower() for w in _WORD.findall(phrase))
            negated, prefix = bool(neg_phrase), False
        else:
            if word in ("OR", "AND", "NOT") and not neg_word:
                # Operators only in capitals, as in web search engines; lower case is a word.
                pending_or = word == "OR"
                negate_next = word == "NOT"
                continue
            prefix = word.endswith("*")
            words = tuple(w.lower() for w in _WORD.findall(word))
            negated = bool(neg_word)
        if not words:
            continue
        term = Term(words, prefix=prefix)
        if negated or negate_next:
            excluded.append(term)
        elif pending_or and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        # OR joins two positive terms that stand side by side; an exclusion between them
        # ends the alternative.
        pending_or = negate_next = False
        count += 1
        if count >= max_terms:
            break
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


# --------------------------------------------------------------------------- SQLite FTS5


def _fts5_term(term: Term) -> str:
    # Every word is quoted, so reader input is never operator syntax (NEAR, AND, col:).
    quoted = '"' + " ".join(w.replace('"', '""') for w in term.words) + '"'
    return quoted + "*" if term.prefix else quoted


def _fts5_any(terms: tuple[Term, ...]) -> str:
    inner = " OR ".join(_fts5_term(t) for t in terms)
    return f"({inner})" if len(terms) > 1 else inner


def to_fts5(query: Query) -> str:
    """An FTS5 MATCH expression for the posts `query` matches, or "" when it has no positive
    part (FTS5 cannot say "not x" alone: an exclusion-only query is run as NOT IN the
    matches of `to_fts5(query.any_excluded())`).

    FTS5 binds NOT tighter than AND and AND tighter than OR, hence the parentheses.
    """
    if not query.groups:
        return ""
    positive = " AND ".join(_fts5_any(g) for g in query.groups)
    if not query.excluded:
        return positive
    if len(query.groups) > 1:
        positive = f"({positive})"
    return f"{positive} NOT {_fts5_any(query.excluded)}"


# --------------------------------------------------------------------------- PostgreSQL

_MAX_WORD = 200  # PostgreSQL refuses lexemes over 2047 bytes; no real word is this long


def _ts_word(word: str, prefix: bool) -> str:
    # Words are \w+ runs, but quote and escape anyway so the builder is safe on its own.
    quoted = "'" + word[:_MAX_WORD].replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + ":*" if prefix else quoted


def _ts_term(term: Term) -> str:
    last = len(term.words) - 1
    words = [_ts_word(w, term.prefix and n == last) for n, w in enumerate(term.words)]
    expr = " <-> ".join(words)
    return f"({expr})" if len(words) > 1 else expr


def to_tsquery(query: Query) -> str:
    """PostgreSQL to_tsquery syntax with the same meaning as `to_fts5`.

    Every word is a quoted lexeme; a prefix term ends in `:*`; a phrase is joined with `<->`;
    groups are ANDed, a group's alternatives joined by `|` (in parentheses, as `|` binds
    loosest), and each exclusion is a `& !term`. An exclusion-only query is `!a & !b`.
    """
    parts: list[str] = []
    for group in query.groups:
        inner = " | ".join(_ts_term(t) for t in group)
        parts.append(f"({inner})" if len(group) > 1 else inner)
    parts += [f"!{_ts_term(t)}" for t in query.excluded]
    return " & ".join(parts)
