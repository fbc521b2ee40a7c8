"""Canonical URLs: one spelling per post, so the same post linked two ways is one entry.

`canonical_url` lower-cases scheme and host, IDNA-encodes the host, drops default ports, the
fragment and tracking parameters (keeping the order and the exact bytes of the other
parameters), and spells an empty path as "/". It is idempotent and never raises: input it cannot
understand (or a non-http(s) URL) comes back stripped and otherwise untouched.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

# Parameters that identify a click, a campaign or a referrer, never the document.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url",
        "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking", "mkt_tok", "spm",
        "scm", "_ga", "_gl", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "wickedid",
        "rb_clickid", "s_cid", "cmpid", "ncid", "sr_share", "_openstat", "at_medium",
        "at_campaign", "pk_campaign", "pk_kwd", "pk_source", "pk_medium", "mtm_campaign",
        "mtm_source", "mtm_medium", "ocid", "ito",
    }
)  # fmt: skip
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "hmb_", "__s")

_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Medium appends ?source=rss-<id>------2 to every feed link; "source" elsewhere may be real.
_FEED_SOURCE_RE = re.compile(r"\Arss\b", re.IGNORECASE)


def _is_tracking(part: str) -> bool:
    name, _, value = part.partition("=")
    key = unquote(name).strip().lower()
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    return key == "source" and _FEED_SOURCE_RE.match(unquote(value)) is not None


def _host(hostname: str) -> str:
    host = hostname.lower()
    if host.startswith("[") or host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid IDN; keep the lower-cased form (still idempotent)
        return host


def _netloc(scheme: str, netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    if hostport.startswith("["):  # IPv6 literal
        close = hostport.find("]")
        if close < 0:
            raise ValueError("unterminated IPv6 literal")
        host, port = hostport[: close + 1], hostport[close + 1 :]
        if port and not port.startswith(":"):
            raise ValueError("junk after IPv6 literal")
        port = port[1:]
    else:
        host, _, port = hostport.partition(":")
    if port and not port.isdigit():
        raise ValueError("non-numeric port")
    if port:
        port = str(int(port))  # "0443" is 443
    if not host:
        raise ValueError("no host")
    out = _host(host)
    if port and port != _DEFAULT_PORTS[scheme]:
        out = f"{out}:{port}"
    return f"{userinfo}{at}{out}"


# A URL that is already canonical, and that urlsplit would take apart and put back unchanged:
# lower-case http(s) scheme, a lower-case ASCII host name without userinfo or port, a path, no
# query, no fragment, none of the tab/CR/LF urlsplit deletes. Most feed links look like this.
_CLEAN_URL_RE = re.compile(r"https?://[a-z0-9.-]+/[^?#\t\r\n]*")


def canonical_url(url: str, *, base: str = "") -> str:
    """The canonical spelling of `url` (resolved against `base` when relative)."""
    raw = url.strip()
    if not raw:
        return raw
    if _CLEAN_URL_RE.fullmatch(raw):
        return raw
    try:
        if base and not urlsplit(raw).scheme:
            raw = urljoin(base.strip(), raw).strip()
        parts = urlsplit(raw)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.netloc:
            return raw
        netloc = _netloc(scheme, parts.netloc)
        query = parts.query
        if query:
            query = "&".join(p for p in query.split("&") if p.strip() and not _is_tracking(p))
        # "#!" fragments are routes of old single-page sites, part of the document's identity
        fragment = parts.fragment if parts.fragment.startswith("!") else ""
        return urlunsplit((scheme, netloc, parts.path or "/", query, fragment)).strip()
    except ValueError:
        return url.strip()
