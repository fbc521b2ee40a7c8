"""The SSRF guard on its own: URL table, address table, IPv4 spellings, resolver, pre-save check."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from loopback import FakeResolver
from netplanet.errors import BlockedAddressError, DnsError
from netplanet.fetch import (
    GuardedResolver,
    check_url,
    check_url_resolves_public,
    guard,
    is_forbidden_address,
    parse_ip_host,
)
from netplanet.fetch.guard import guard_url

REFUSED = [
    # loopback and every spelling of it
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/feed",
    "http://127.255.255.254/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://0x7F.1/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.0.0.1./",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    # unspecified
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    # private, CGNAT, link-local, metadata
    "http://10.0.0.5/",
    "http://10.1/",
    "http://167772161/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://100.64.0.1/",
    "http://169.254.1.1/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
    "http://100.100.100.200/",
    # multicast, broadcast, reserved, documentation, benchmarking
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://198.18.0.1/",
    "http://[2001:db8::1]/",
    # IPv4 embedded in IPv6 transition forms
    "http://[64:ff9b::a00:1]/",
    "http://[2002:a00:1::1]/",
    "http://[2002:7f00:1::]/",
    "http://[::ffff:0:7f00:1]/",  # IPv4-translated (SIIT) of 127.0.0.1
    "http://[::ffff:0:127.0.0.1]/",
    "http://[::ffff:0:a9fe:a9fe]/",
    "http://[::ffff:0:808:808]/",  # IPv4-translated: never a route on the internet
    "http://[64:ff9b:1::a00:1]/",
    "http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/",  # Teredo, client 8.8.8.8
    "http://[100::1]/",
    "http://[fec0::1]/",
    "http://[ff0e::1]/",
    "http://[::1:0:0:0]/",  # reserved ::/8, outside global unicast
    "http://[5f00::1]/",  # SRv6 SIDs: outside 2000::/3
    # local names
    "http://localhost/",
    "http://LOCALHOST/",
    "http://localhost./",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    # schemes
    "file:///etc/passwd",
    "gopher://example.com/_GET",
    "ftp://example.com/feed.xml",
    "javascript:alert(1)",
    "data:text/xml,<rss/>",
    "example.com/feed",
    "//example.com/feed",
    # credentials and parser confusion
    "http://user@example.com/",
    "http://user:secret@example.com/",
    "http://example.com@127.0.0.1/",
    "http://example.com\\@127.0.0.1/",
    "http://exa mple.com/",
    " http://example.com/",
    "http://example.com/\r\nHost: evil",
    # malformed hosts
    "http:///feed",
    "http://",
    "http://1.2.3.4.5/",
    "http://256.1.1.1/",
    "http://08.1.1.1/",
    "http://[::1/",
    "http://example.com:0/",
    "http://10./",  # a trailing dot after a number is still an IPv4 address (0.0.0.10)
    "http://1.2.3.4.0/",
]

ALLOWED = [
    "http://example.com/feed",
    "https://example.com/feed.xml?format=rss&x=a b",
    "https://EXAMPLE.COM/Feed",
    "http://example.com./",
    "http://example.com:8080/rss",
    "http://93.184.216.34/",
    "http://8.8.8.8/feed",
    "http://[2606:4700:4700::1111]/",
    "http://[64:ff9b::808:808]/",  # NAT64 of a public address
    "http://1.example.com/",
    "http://0x.example/",
    "http://xn--bcher-kva.example/",
    "http://bücher.example/",
    "HTTP://example.com/",
    # spaces after the host are the path's, query's or fragment's business
    "http://example.com/a b",
    "http://example.com/a b/c",
    "http://example.com//a b/",
    "http://example.com?a b",
    "http://example.com?a b?c",
    "http://example.com#a b",
    "http://example.com#a b#c",
    "http://@example.com/",  # an empty userinfo is dropped
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_url(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url)


@pytest.mark.parametrize("url", ALLOWED)
def test_allowed_url(url: str) -> None:
    check_url(url)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "http://[::1]/", "http://10.0.0.5/", "http://localhost:8080/"],
)
def test_allow_private_networks_allows_private_addresses(url: str) -> None:
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://user@127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://127.1/",
    ],
)
def test_allow_private_networks_still_refuses_schemes_credentials_and_obfuscation(
    url: str,
) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_private=True)


def test_refusal_message_names_address_reason_and_setting() -> None:
    with pytest.raises(BlockedAddressError) as info:
        check_url("http://10.0.0.5/feed")
    assert str(info.value) == (
        "refused to connect to 10.0.0.5 (private network); set allow_private_networks to allow it"
    )
    assert info.value.kind == "blocked"


def test_obfuscated_spelling_message_names_the_real_address() -> None:
    with pytest.raises(
        BlockedAddressError, match=r"obfuscated spelling of 127\.0\.0\.1 \(loopback\)"
    ):
        check_url("http://0x7f000001/")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7F000001", "127.0.0.1"),
        ("0X7f000001", "127.0.0.1"),
        ("10.", "0.0.0.10"),
        ("255.255.1.1", "255.255.1.1"),
        ("fe80::1%a%b", "fe80::1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_parse_ip_host_understands_every_spelling(host: str, address: str) -> None:
    assert parse_ip_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host", ["example.com", "1.example.com", "0x.example", "a.b.c.d.e", "", "a.0xX", "a.0xg1"]
)
def test_parse_ip_host_leaves_names_alone(host: str) -> None:
    assert parse_ip_host(host) is None


@pytest.mark.parametrize(
    "host", ["1.2.3.4.5", "1.2.3.4.0", "256.0.0.1", "1.2.3.256", "4294967296", "09", "1..1", "[::1"]
)
def test_parse_ip_host_refuses_invalid_numeric_hosts(host: str) -> None:
    with pytest.raises(BlockedAddressError):
        parse_ip_host(host)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.5", "private network"),
        ("172.20.0.1", "private network"),
        ("192.168.0.1", "private network"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("169.254.0.1", "link-local"),
        ("169.254.169.254", "cloud metadata service"),
        ("100.100.100.200", "cloud metadata service"),
        ("0.0.0.0", "unspecified address"),
        ("224.0.0.251", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "documentation range"),
        ("198.18.5.5", "benchmarking range"),
        ("::1", "loopback"),
        ("::", "unspecified address"),
        ("fc00::1", "private network"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("fd00:ec2::254", "cloud metadata service"),
        ("2001:db8::1", "documentation range"),
        ("::ffff:127.0.0.1", "IPv4-mapped address of 127.0.0.1, loopback"),
        (
            "::ffff:169.254.169.254",
            "IPv4-mapped address of 169.254.169.254, cloud metadata service",
        ),
        ("64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254, cloud metadata service"),
        ("2002:c0a8:1::1", "6to4 address of 192.168.0.1, private network"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo address of 127.0.0.1, loopback"),
        ("::7f00:1", "IPv4-compatible IPv6 (deprecated)"),
        ("::ffff:0:7f00:1", "IPv4-translated address of 127.0.0.1, loopback"),
        ("::ffff:0:a00:1", "IPv4-translated address of 10.0.0.1, private network"),
        ("::ffff:0:808:808", "IPv4-translated address (not routable on the internet)"),
        ("::ffff:0:0:0", "IPv4-translated address of 0.0.0.0, unspecified address"),
        ("::ffff:0.0.0.0", "IPv4-mapped address of 0.0.0.0, unspecified address"),
        ("::ffff:10.0.0.1", "IPv4-mapped address of 10.0.0.1, private network"),
        ("64:ff9b::a00:1", "NAT64 address of 10.0.0.1, private network"),
        ("64:ff9b::7f00:1", "NAT64 address of 127.0.0.1, loopback"),
        ("64:ff9b:1::a00:1", "local-use NAT64"),
        ("64:ff9b:1::808:808", "local-use NAT64"),
        ("2002:a00:1::1", "6to4 address of 10.0.0.1, private network"),
        ("2002:a9fe:a9fe::", "6to4 address of 169.254.169.254, cloud metadata service"),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "Teredo tunnel address"),  # client 8.8.8.8
        ("2001::1", "Teredo address of 255.255.255.254, reserved"),
        ("2001:10::1", "IETF protocol assignments"),
        ("2001:20::1", "IETF protocol assignments"),
        ("100::1", "discard-only range"),
        ("100::ffff:ffff:ffff:ffff", "discard-only range"),
        ("fec0::1", "site-local (deprecated)"),
        ("feff::1", "site-local (deprecated)"),
        ("ff0e::1", "multicast"),
        ("ff05::2", "multicast"),
        ("::2", "IPv4-compatible IPv6 (deprecated)"),
        ("::1:0:0:0", "not a global unicast address"),
        ("5f00::1", "not a global unicast address"),
        ("4000::1", "not a global unicast address"),
        ("e000::1", "not a global unicast address"),
        ("not-an-ip", "not an IP address"),
    ],
)
def test_forbidden_address_reason(address: str, reason: str) -> None:
    assert is_forbidden_address(address) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",  # 6to4 of a public address
        "2001:200::1",  # just past the IETF 2001::/23 block
        "2a00:1450:4001:80b::200e",
    ],
)
def test_public_address_is_allowed(address: str) -> None:
    assert is_forbidden_address(address) is None
    assert is_forbidden_address(ipaddress.ip_address(address)) is None


# ---------------------------------------------------------------- resolver


def resolve(names: dict[str, str | list[str]], host: str, allow_private: bool = False) -> list[str]:
    async def main() -> list[str]:
        guarded = GuardedResolver(FakeResolver(names), allow_private=allow_private)
        try:
            return [r["host"] for r in await guarded.resolve(host, 443)]
        finally:
            await guarded.close()

    return asyncio.run(main())


def test_resolver_passes_public_addresses() -> None:
    assert resolve({"a.example": "93.184.216.34"}, "a.example") == ["93.184.216.34"]


def test_resolver_drops_private_addresses_among_public_ones() -> None:
    names: dict[str, str | list[str]] = {"a.example": ["10.0.0.1", "93.184.216.34", "::1"]}
    assert resolve(names, "a.example") == ["93.184.216.34"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private network"),
        ("169.254.169.254", "cloud metadata service"),
        ("127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped address of 10.0.0.1, private network"),
        ("::ffff:0:a00:1", "IPv4-translated address of 10.0.0.1, private network"),
        ("64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254, cloud metadata service"),
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", "Teredo tunnel address"),
    ],
)
def test_resolver_refuses_when_only_forbidden_addresses_remain(address: str, reason: str) -> None:
    with pytest.raises(BlockedAddressError) as info:
        resolve({"evil.example": address}, "evil.example")
    assert str(info.value) == (
        f"refused to connect to {address} ({reason}) for host evil.example; "
        "set allow_private_networks to allow it"
    )


def test_resolver_allows_everything_when_private_networks_are_allowed() -> None:
    assert resolve({"lan.example": "10.0.0.1"}, "lan.example", allow_private=True) == ["10.0.0.1"]


def test_resolver_lets_dns_failures_through_as_os_errors() -> None:
    with pytest.raises(OSError):
        resolve({}, "nx.example")


# ---------------------------------------------------------------- pre-save check


def presave(url: str, names: dict[str, str | list[str]], allow_private: bool = False) -> None:
    asyncio.run(check_url_resolves_public(url, allow_private, resolver=FakeResolver(names)))


def test_presave_accepts_public_host() -> None:
    presave("https://blog.example/feed", {"blog.example": "93.184.216.34"})


def test_presave_refuses_host_resolving_to_private_address() -> None:
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.7 \(private network\) for host"):
        presave("https://blog.example/feed", {"blog.example": "10.0.0.7"})


def test_presave_refuses_literal_and_scheme_without_lookup() -> None:
    with pytest.raises(BlockedAddressError):
        presave("http://169.254.169.254/", {})
    with pytest.raises(BlockedAddressError):
        presave("file:///etc/passwd", {})


def test_presave_reports_unknown_host_as_dns_error() -> None:
    with pytest.raises(DnsError, match=r"DNS lookup failed for host nx\.example"):
        presave("https://nx.example/feed", {})


def test_presave_with_private_networks_allowed_accepts_lan_host() -> None:
    presave("http://nas.lan/feed", {"nas.lan": "192.168.1.10"}, allow_private=True)


# ---------------------------------------------------------------- what the resolver is asked


class RecordingResolver(AbstractResolver):
    """Answers every name with fixed addresses and records each call and close()."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.calls: list[tuple[str, int, socket.AddressFamily]] = []
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append((host, port, family))
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


def test_resolver_asks_the_inner_resolver_the_same_question_and_does_not_close_it() -> None:
    inner = RecordingResolver("93.184.216.34")

    async def main() -> list[ResolveResult]:
        guarded = GuardedResolver(inner)
        try:
            return await guarded.resolve("a.example", 8443, socket.AF_INET6)
        finally:
            await guarded.close()

    results = asyncio.run(main())
    assert inner.calls == [("a.example", 8443, socket.AF_INET6)]
    assert [(r["host"], r["port"]) for r in results] == [("93.184.216.34", 8443)]
    assert inner.closed is False  # the caller's resolver is the caller's to close


def test_resolver_with_no_addresses_is_a_dns_error() -> None:
    async def main() -> None:
        await GuardedResolver(RecordingResolver()).resolve("empty.example", 80)

    with pytest.raises(DnsError) as info:
        asyncio.run(main())
    assert str(info.value) == "DNS lookup failed for host empty.example: no addresses"


def test_resolver_names_the_first_forbidden_address() -> None:
    async def main() -> None:
        await GuardedResolver(RecordingResolver("10.0.0.1", "127.0.0.1")).resolve("x.example")

    with pytest.raises(BlockedAddressError, match=r"^refused to connect to 10\.0\.0\.1 \(private"):
        asyncio.run(main())


@pytest.mark.parametrize(
    ("address", "allowed"), [("fe80::1%eth0", False), ("2606:4700:4700::1111%eth0", True)]
)
def test_resolver_judges_scoped_addresses_without_their_zone(address: str, allowed: bool) -> None:
    async def main() -> list[ResolveResult]:
        return await GuardedResolver(RecordingResolver(address)).resolve("z.example")

    if allowed:
        assert [r["host"] for r in asyncio.run(main())] == [address]
    else:
        with pytest.raises(BlockedAddressError, match="link-local"):
            asyncio.run(main())


def test_resolver_applies_the_given_policy() -> None:
    async def main() -> list[ResolveResult]:
        guarded = GuardedResolver(RecordingResolver("10.0.0.1"), policy=lambda ip: None)
        return await guarded.resolve("lan.example")

    assert [r["host"] for r in asyncio.run(main())] == ["10.0.0.1"]


def test_resolver_without_an_inner_one_uses_the_system_resolver() -> None:
    async def main() -> None:
        guarded = GuardedResolver()
        try:
            await guarded.resolve("localhost", 80, socket.AF_INET)
        finally:
            await guarded.close()

    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 \(loopback\) for host localhost"):
        asyncio.run(main())


@pytest.mark.parametrize(
    ("url", "question"),
    [
        ("https://blog.example:8443/feed", ("blog.example", 8443, socket.AF_UNSPEC)),
        ("https://blog.example/feed", ("blog.example", 443, socket.AF_UNSPEC)),
        ("http://blog.example/feed", ("blog.example", 80, socket.AF_UNSPEC)),
    ],
)
def test_presave_asks_for_every_address_family_on_the_url_port(
    url: str, question: tuple[str, int, socket.AddressFamily]
) -> None:
    inner = RecordingResolver("93.184.216.34")
    asyncio.run(check_url_resolves_public(url, False, resolver=inner))
    assert inner.calls == [question]


@pytest.mark.parametrize(
    ("url", "allow_private"),
    [
        ("http://93.184.216.34/feed", False),
        ("http://[2606:4700::1111]/", False),
        ("http://nas.lan/feed", True),
    ],
)
def test_presave_looks_nothing_up_for_a_literal_address_or_when_private_is_allowed(
    url: str, allow_private: bool
) -> None:
    inner = RecordingResolver("10.0.0.1")
    asyncio.run(check_url_resolves_public(url, allow_private, resolver=inner))
    assert inner.calls == []


def test_presave_dns_error_is_one_line_with_the_reason() -> None:
    with pytest.raises(DnsError) as info:
        presave("https://nx.example/feed", {})
    assert str(info.value) == "DNS lookup failed for host nx.example: Name or service not known"


def test_presave_refuses_with_the_resolver_reason() -> None:
    with pytest.raises(BlockedAddressError) as info:
        asyncio.run(
            check_url_resolves_public(
                "https://blog.example/", False, resolver=RecordingResolver("127.0.0.1")
            )
        )
    assert str(info.value) == (
        "refused to connect to 127.0.0.1 (loopback) for host blog.example; "
        "set allow_private_networks to allow it"
    )


# ---------------------------------------------------------------- what each refusal says


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            " http://example.com/",
            "refused URL ' http://example.com/': it contains control characters or surrounding "
            "whitespace",
        ),
        (
            "http://exa mple.com/",
            "refused URL 'http://exa mple.com/': backslash or space in the host part",
        ),
        (
            "http://example.com\\.evil.com/",
            "refused URL 'http://example.com\\\\.evil.com/': backslash or space in the host part",
        ),
        (
            "http://a:99999/",
            "refused URL 'http://a:99999/': not a valid URL (Port out of range 0-65535)",
        ),
        (
            "example.com/feed",
            "refused URL example.com/feed: no scheme; only http and https are fetched",
        ),
        (
            "ftp://example.com/",
            "refused URL ftp://example.com/: scheme 'ftp'; only http and https are fetched",
        ),
        (
            "http://user@example.com/",
            "refused URL http://user@example.com/: URLs with credentials (user@host) are not "
            "allowed",
        ),
        ("http:///feed", "refused URL http:///feed: it has no host"),
        ("http://example.com:0/", "refused URL http://example.com:0/: port 0"),
        (
            "http://08.1.1.1/",
            "refused URL http://08.1.1.1/: host '08.1.1.1' is not a valid IPv4 address",
        ),
        (
            "http://0x08080808/",
            "refused URL http://0x08080808/: host '0x08080808' is an obfuscated spelling of "
            "8.8.8.8",
        ),
        (
            "http://localhost/",
            "refused to connect to host localhost (local name); set allow_private_networks to "
            "allow it",
        ),
    ],
)
def test_each_refusal_is_one_line_saying_why(url: str, message: str) -> None:
    with pytest.raises(BlockedAddressError) as info:
        check_url(url)
    assert str(info.value) == message


def test_parse_ip_host_names_the_bad_host() -> None:
    with pytest.raises(BlockedAddressError, match=r"^host '1::x::1' is not a valid IPv6 address$"):
        parse_ip_host("1::x::1")
    with pytest.raises(BlockedAddressError, match=r"^host '1\.2\.3\.999' is not a valid IPv4"):
        parse_ip_host("1.2.3.999")


def test_guard_url_refuses_private_addresses_unless_told_otherwise() -> None:
    with pytest.raises(BlockedAddressError, match="loopback"):
        guard_url("http://127.0.0.1/")
    assert guard_url("http://127.0.0.1/", allow_private=True).raw_host == "127.0.0.1"


def test_check_url_applies_the_given_policy() -> None:
    check_url("http://10.0.0.1/", policy=lambda ip: None)
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1 \(no\)"):
        check_url("http://10.0.0.1/", policy=lambda ip: "no")


def test_resolver_default_port_is_zero() -> None:
    inner = RecordingResolver("93.184.216.34")
    asyncio.run(GuardedResolver(inner).resolve("a.example"))
    assert inner.calls == [("a.example", 0, socket.AF_INET)]


def test_resolver_closes_the_system_resolver_it_made(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[RecordingResolver] = []

    def system_resolver() -> RecordingResolver:
        made.append(RecordingResolver())
        return made[-1]

    monkeypatch.setattr(guard, "DefaultResolver", system_resolver)
    asyncio.run(GuardedResolver().close())
    assert [r.closed for r in made] == [True]


def test_presave_with_private_networks_allowed_accepts_a_private_literal() -> None:
    presave("http://10.0.0.1/feed", {}, allow_private=True)
