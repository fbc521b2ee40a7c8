"""What the front page says while it has no posts: is anything polled, is everything failing?

Pure: the counts /healthz reports and the commonest error kinds -> a few sentences. Anyone can
read the front page, so it tells no more than /healthz does (counts) plus the *kind* of the
commonest error in words; the error messages themselves (which can name internal hosts and
addresses) stay on the admin health page, which the notes point the operator to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Source.last_error_class -> what it means, as the end of "The commonest problem: ...".
_KINDS = {
    "dns": "their host names do not resolve (DNS); is this machine offline?",
    "connect": "connections to their servers fail; is this machine offline?",
    "timeout": "their servers do not answer in time",
    "tls": "the secure (TLS) connection to their servers fails",
    "http": "their servers answer with an HTTP error",
    "blocked": "the address guard refuses them (private or local addresses)",
    "not_a_feed": "they answer with a web page instead of a feed",
    "parse": "their feeds cannot be read",
    "too_large": "their feeds are larger than the size limit",
    "redirects": "they redirect too many times",
    "protocol": "their servers break the HTTP protocol",
    "gone": "their feeds are gone (HTTP 410)",
}
_OTHER = "an error while polling them"


@dataclass(frozen=True, slots=True)
class EmptySite:
    """The front page's explanation of why it is empty."""

    headline: str
    details: tuple[str, ...]
    operator_hint: bool
    """Whether to add the pointers for whoever runs the planet (health page, demo)."""


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def empty_site(
    *,
    sources: int,
    enabled: int,
    polled: int,
    failing: int,
    kinds: Sequence[tuple[str, int]] = (),
) -> EmptySite:
    """The notes for an empty river, from HealthCounts-like numbers and
    PlanetStore.failure_kinds()."""
    if sources == 0:
        add = "Feeds are added in the admin area (/admin/) or with `netplanet sources add URL`."
        return EmptySite("This planet has no sources yet.", (add,), True)
    if enabled == 0:
        return EmptySite(f"All {_n(sources, 'source')} of this planet are disabled.", (), True)
    if polled == 0:
        return EmptySite(
            f"No posts yet: the {_n(enabled, 'source')} have not been polled yet.",
            ("The first posts appear a few minutes after the first update.",),
            False,
        )
    them = "it" if enabled == 1 else "them"
    details: list[str] = []
    if failing:
        every = "all " if failing == enabled and enabled > 1 else ""
        headline = (
            f"No posts yet: this planet follows {_n(enabled, 'source')}, and {every}{failing} "
            f"of {them} failed at their last poll."
        )
        if kinds:
            kind, count = kinds[0]
            problem = _KINDS.get(kind, _OTHER)
            details.append(f"The commonest problem ({_n(count, 'source')}): {problem}")
        waiting = enabled - polled
        if waiting > 0:
            details.append(f"{_n(waiting, 'source')} not polled yet.")
    else:
        headline = (
            f"No posts yet: this planet follows {_n(enabled, 'source')}; {polled} of {them} "
            "answered, with no posts so far."
        )
    return EmptySite(headline, tuple(details), failing > 0)
