"""The SSRF guard: which URLs and addresses netplanet may fetch from.

Three layers, all refusing with BlockedAddressError:

* `check_url` looks at the URL itself (scheme, credentials, literal IP hosts in any spelling,
  well-known local names). The fetcher calls it before every request, redirect hops included,
  because aiohttp never asks the resolver about literal-IP hosts.
* `GuardedResolver` wraps aiohttp's resolver and checks the addresses a name resolves to, at
  connect time, so a DNS answer that changes between "check" and "connect" (DNS rebinding)
  cannot smuggle a private address past the guard.
* `check_url_resolves_public` does both ahead of time, for the CLI/admin before a URL is saved.

`allow_private_networks` (passed here as `allow_private`) turns the address checks off; the
structural URL checks (http/https only, no credentials, no obfuscated IPv4 spellings) stay on.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Final

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from netplanet.errors import BlockedAddressError, DnsError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], str | None]
"""Returns why an address is refused, or None when it may be connected to."""

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Order matters: the most specific (and most alarming) reason is reported first.
_FORBIDDEN_V4: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = (
    (_V4("169.254.169.254/32"), "cloud metadata service"),
    (_V4("100.100.100.200/32"), "cloud metadata service"),
    (_V4("0.0.0.0/8"), "unspecified address"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("10.0.0.0/8"), "private network"),
    (_V4("172.16.0.0/12"), "private network"),
    (_V4("192.168.0.0/16"), "private network"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),
    (_V4("192.0.2.0/24"), "documentation range"),
    (_V4("198.51.100.0/24"), "documentation range"),
    (_V4("203.0.113.0/24"), "documentation range"),
    (_V4("198.18.0.0/15"), "benchmarking range"),
    (_V4("192.88.99.0/24"), "6to4 relay anycast"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
)

_FORBIDDEN_V6: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = (
    (_V6("fd00:ec2::254/128"), "cloud metadata service"),
    (_V6("::/128"), "unspecified address"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "IPv4-compatible IPv6 (deprecated)"),
    (_V6("64:ff9b:1::/48"), "local-use NAT64"),
    (_V6("100::/64"), "discard-only range"),
    (_V6("2001:db8::/32"), "documentation range"),
    (_V6("3fff::/20"), "documentation range"),
    (_V6("2001:2::/48"), "benchmarking range"),
    # Teredo (2001::/32) is judged before this table; the rest of the block is ORCHID, AMT,
    # anycast service addresses: never where a feed is served.
    (_V6("2001::/23"), "IETF protocol assignments"),
    (_V6("fc00::/7"), "private network"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local (deprecated)"),
    (_V6("ff00::/8"), "multicast"),
)
# Every public IPv6 address is allocated from 2000::/3; anything else that is not an IPv4 form
# above is reserved, whatever the running Python's `is_global` thinks of it (3.11 calls
# ::ffff:0:7f00:1 and 5f00::1 global).
_GLOBAL_UNICAST: Final = _V6("2000::/3")
_IPV4_TRANSLATED: Final = _V6("::ffff:0:0:0/96")
_NAT64: Final = _V6("64:ff9b::/96")

# Names that always mean "this machine" or a metadata service, refused before any lookup.
_LOCAL_NAMES: Final = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "instance-data",
    }
)

_ALLOW_HINT: Final = "set allow_private_networks to allow it"
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def is_forbidden_address(ip: IPAddress | str) -> str | None:
    """Why `ip` must not be connected to (e.g. "private network"), or None if it is public.

    IPv6 forms that embed an IPv4 address are judged by it: IPv4-mapped (::ffff:0:0/96), NAT64
    (64:ff9b::/96) and 6to4 (2002::/16) lead to that address. IPv4-translated (::ffff:0:0:0/96)
    and Teredo (2001::/32) addresses are refused whatever they embed (no feed is served from a
    tunnel endpoint), naming the embedded address when that one is forbidden too.
    """
    if isinstance(ip, str):
        try:
            ip = ipaddress.ip_address(ip)
        except ValueError:
            return "not an IP address"
    if isinstance(ip, ipaddress.IPv4Address):
        for net4, reason in _FORBIDDEN_V4:
            if ip in net4:
                return reason
        return None if ip.is_global else "reserved"
    ip = ipaddress.IPv6Address(ip.compressed.split("%", 1)[0])  # drop any zone id
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        kind, v4, refused = embedded
        inner = is_forbidden_address(v4)
        if inner is not None:
            return f"{kind} of {v4}, {inner}"
        return refused
    for net6, reason in _FORBIDDEN_V6:
        if ip in net6:
            return reason
    if ip not in _GLOBAL_UNICAST:
        return "not a global unicast address"
    return None if ip.is_global else "reserved"


def _embedded_ipv4(
    ip: ipaddress.IPv6Address,
) -> tuple[str, ipaddress.IPv4Address, str | None] | None:
    """(kind, embedded IPv4 address, reason to refuse even when that address is public)."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped address", ip.ipv4_mapped, None
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _IPV4_TRANSLATED:
        return (
            "IPv4-translated address",
            low32,
            "IPv4-translated address (not routable on the internet)",
        )
    if ip in _NAT64:
        return "NAT64 address", low32, None
    if ip.sixtofour is not None:
        return "6to4 address", ip.sixtofour, None
    if ip.teredo is not None:
        # Teredo also names a server; the client address is where traffic ends up.
        return "Teredo address", ip.teredo[1], "Teredo tunnel address"
    return None


def _ends_in_number(host: str) -> bool:
    """WHATWG URL rule: a host whose last label is numeric is parsed as IPv4, not as a name."""
    labels = host.split(".")
    if labels[-1] == "" and len(labels) > 1:
        labels.pop()
    last = labels[-1]
    if last.isdigit() and last.isascii():
        return True
    if last[:2] in ("0x", "0X"):
        return all(c in "0123456789abcdefABCDEF" for c in last[2:])
    return False


def _parse_ipv4_number(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part[1:], 8)
    if not part.isdigit():
        raise ValueError(part)
    return int(part, 10)


def parse_ip_host(host: str) -> IPAddress | None:
    """The IP address a URL host denotes, in any spelling browsers and libc accept, else None.

    Understands dotted-quad, decimal (2130706433), octal (0177.0.0.1), hex (0x7f.0.0.1,
    0x7f000001), short forms (127.1, 10.1), a trailing dot, and IPv6 literals with or without
    brackets. Raises BlockedAddressError for a host that looks numeric but is not a valid address.
    """
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare.split("%", 1)[0])
        except ValueError:
            raise BlockedAddressError(f"host {host!r} is not a valid IPv6 address") from None
    if not bare or not _ends_in_number(bare):
        return None
    labels = bare.split(".")
    if labels[-1] == "":
        labels.pop()
    try:
        if len(labels) > 4 or "" in labels:
            raise ValueError(bare)
        numbers = [_parse_ipv4_number(label) for label in labels]
        *head, last = numbers
        if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
            raise ValueError(bare)
    except ValueError:
        raise BlockedAddressError(f"host {host!r} is not a valid IPv4 address") from None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name in _LOCAL_NAMES or name.endswith(".localhost")


def check_url(
    url: str,
    *,
    allow_private: bool = False,
    policy: AddressPolicy = is_forbidden_address,
) -> None:
    """Refuse (BlockedAddressError) a URL netplanet must not fetch; return None if it may.

    This is the static part of the guard. A hostname that is not a literal address passes here;
    where it resolves to is checked at connect time by GuardedResolver.
    """
    guard_url(url, allow_private=allow_private, policy=policy)


def guard_url(
    url: str,
    *,
    allow_private: bool = False,
    policy: AddressPolicy = is_forbidden_address,
) -> URL:
    """`check_url`, returning the parsed URL that passed, so a caller can request exactly that
    URL without parsing it again."""
    if url != url.strip() or _CONTROL.search(url):
        raise BlockedAddressError(
            f"refused URL {url!r}: it contains control characters or surrounding whitespace"
        )
    authority = url.split("//", 1)[1] if "//" in url else ""
    authority = authority.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "\\" in authority or " " in authority:
        # Parsers disagree on where such a host ends ("a.com\\@10.0.0.1"): refuse them all.
        raise BlockedAddressError(f"refused URL {url!r}: backslash or space in the host part")
    try:
        parsed = URL(url)
        port = parsed.port
    except (ValueError, TypeError) as exc:
        raise BlockedAddressError(f"refused URL {url!r}: not a valid URL ({exc})") from None
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise BlockedAddressError(f"refused URL {url}: {shown}; only http and https are fetched")
    if (
        parsed.raw_user is not None
        or parsed.raw_password is not None
        or "@" in parsed.raw_authority
    ):
        raise BlockedAddressError(
            f"refused URL {url}: URLs with credentials (user@host) are not allowed"
        )
    host = parsed.raw_host
    if not host:
        raise BlockedAddressError(f"refused URL {url}: it has no host")
    if port == 0:
        raise BlockedAddressError(f"refused URL {url}: port 0")
    try:
        address = parse_ip_host(host)
    except BlockedAddressError as exc:
        raise BlockedAddressError(f"refused URL {url}: {exc}") from None
    if isinstance(address, ipaddress.IPv4Address) and host != str(address):
        # aiohttp would refuse or libc would reinterpret these; nobody writes them by accident.
        reason = policy(address)
        extra = f" ({reason})" if reason else ""
        raise BlockedAddressError(
            f"refused URL {url}: host {host!r} is an obfuscated spelling of {address}{extra}"
        )
    if allow_private:
        return parsed
    if address is not None:
        reason = policy(address)
        if reason is not None:
            raise BlockedAddressError(f"refused to connect to {address} ({reason}); {_ALLOW_HINT}")
    elif _is_local_name(host):
        raise BlockedAddressError(f"refused to connect to host {host} (local name); {_ALLOW_HINT}")
    return parsed


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that drops forbidden addresses and refuses when none are left.

    Runs at connect time for every hostname connection (redirect hops included), after the real
    lookup, so what is checked is exactly what will be connected to.
    """

    def __init__(
        self,
        inner: AbstractResolver | None = None,
        *,
        allow_private: bool = False,
        policy: AddressPolicy = is_forbidden_address,
    ) -> None:
        self._owns_inner = inner is None
        self._inner: AbstractResolver = DefaultResolver() if inner is None else inner
        self._allow_private = allow_private
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return results
        allowed: list[ResolveResult] = []
        refused: tuple[str, str] | None = None
        for result in results:
            reason = self._policy(ipaddress.ip_address(result["host"].split("%", 1)[0]))
            if reason is None:
                allowed.append(result)
            elif refused is None:
                refused = (result["host"], reason)
        if not allowed:
            if refused is None:
                raise DnsError(f"DNS lookup failed for host {host}: no addresses")
            addr, reason = refused
            raise BlockedAddressError(
                f"refused to connect to {addr} ({reason}) for host {host}; {_ALLOW_HINT}"
            )
        return allowed

    async def close(self) -> None:
        if self._owns_inner:
            await self._inner.close()


async def check_url_resolves_public(
    url: str,
    allow_private: bool,
    *,
    resolver: AbstractResolver | None = None,
) -> None:
    """Check a URL before it is saved: the static checks, then resolve its host and check that.

    Raises BlockedAddressError when refused and DnsError when the host does not resolve, so an
    operator learns at once instead of at the first poll.
    """
    check_url(url, allow_private=allow_private)
    parsed = URL(url)
    host = parsed.raw_host or ""
    if allow_private or parse_ip_host(host) is not None:
        return
    guarded = GuardedResolver(resolver, allow_private=allow_private)
    try:
        await guarded.resolve(host, parsed.port or 0, socket.AF_UNSPEC)
    except OSError as exc:
        raise DnsError(f"DNS lookup failed for host {host}: {exc.strerror or exc}") from None
    finally:
        await guarded.close()
