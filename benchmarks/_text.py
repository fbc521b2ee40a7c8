"""Deterministic, realistic-looking text for the benchmarks: titles and paragraph pools.

Network-engineering words, a Zipf-like mix of common words and a long tail of made-up ones (so
full-text indexes see a realistic vocabulary), and paragraphs in a few HTML shapes (headings,
code blocks, links). Shared by site.py (database rows) and farm.py (feed documents).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

TECH = [
    "BGP",
    "EVPN",
    "VXLAN",
    "OSPF",
    "IS-IS",
    "MPLS",
    "SRv6",
    "segment-routing",
    "LDP",
    "RSVP-TE",
    "BFD",
    "LACP",
    "MLAG",
    "STP",
    "VRRP",
    "NAT64",
    "DNS64",
    "DHCPv6",
    "RPKI",
    "ROV",
    "BMP",
    "gNMI",
    "NETCONF",
    "RESTCONF",
    "YANG",
    "OpenConfig",
    "Ansible",
    "Nornir",
    "Terraform",
    "NetBox",
    "Batfish",
    "containerlab",
    "SONiC",
    "Junos",
    "IOS-XR",
    "NX-OS",
    "EOS",
    "Cumulus",
    "FRRouting",
    "BIRD",
    "eBPF",
    "XDP",
    "DPDK",
    "P4",
    "QUIC",
    "TCP",
    "IPv6",
    "multicast",
    "PIM",
    "IGMP",
    "QoS",
    "ECMP",
    "anycast",
    "Wi-Fi",
    "7",
    "802.1X",
    "MACsec",
    "IPsec",
    "WireGuard",
    "ZTP",
    "telemetry",
    "sFlow",
    "IPFIX",
    "Kafka",
    "Prometheus",
    "Grafana",
]
_VERBS = [
    "Debugging",
    "Deploying",
    "Automating",
    "Migrating",
    "Troubleshooting",
    "Scaling",
    "Securing",
    "Monitoring",
    "Designing",
    "Testing",
    "Understanding",
    "Rethinking",
    "Building",
    "Operating",
    "Benchmarking",
    "Replacing",
]
_PLACES = (
    "in the data center",
    "at the edge",
    "across three regions",
    "on a campus network",
    "in a service provider core",
    "with open source tools",
    "in production",
    "in the lab",
    "on white-box switches",
    "for a small ISP",
    "in a multi-cloud setup",
)
_TAILS = (
    "lessons learned",
    "part 2",
    "a field guide",
    "what the RFC does not say",
    "a war story",
    "the hard way",
    "step by step",
    "",
    "",
    "",
)
_COMMON = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "on",
    "with",
    "as",
    "was",
    "by",
    "this",
    "be",
    "are",
    "from",
    "at",
    "or",
    "an",
    "have",
    "not",
    "but",
    "which",
    "one",
    "all",
    "their",
    "can",
    "more",
    "when",
    "there",
    "will",
    "so",
    "if",
    "about",
    "into",
    "we",
    "our",
    "what",
    "up",
    "out",
    "also",
    "than",
    "then",
    "only",
    "some",
    "time",
    "other",
    "new",
    "just",
    "how",
    "after",
    "first",
    "two",
    "most",
    "over",
    "because",
    "network",
    "network",
    "network",
    "network",
    "routing",
    "router",
    "routers",
    "switch",
    "switches",
    "traffic",
    "packet",
    "packets",
    "link",
    "links",
    "path",
    "paths",
    "peer",
    "peers",
    "session",
    "sessions",
    "prefix",
    "prefixes",
    "address",
    "addresses",
    "interface",
    "interfaces",
    "config",
    "configuration",
    "vendor",
    "vendors",
    "design",
    "fabric",
    "latency",
    "throughput",
    "outage",
    "failure",
    "failover",
    "convergence",
    "policy",
    "policies",
    "route",
    "routes",
    "table",
    "tables",
    "neighbor",
    "neighbors",
    "team",
    "engineers",
    "customer",
    "customers",
    "service",
    "services",
]


def _pseudo_words(rng: random.Random, n: int) -> list[str]:
    syll = [
        "ba",
        "be",
        "bi",
        "bo",
        "bu",
        "ca",
        "co",
        "cu",
        "da",
        "de",
        "di",
        "do",
        "fa",
        "fe",
        "fi",
        "ga",
        "ge",
        "go",
        "ka",
        "ke",
        "ki",
        "ko",
        "la",
        "le",
        "li",
        "lo",
        "ma",
        "me",
        "mi",
        "mo",
        "na",
        "ne",
        "ni",
        "no",
        "pa",
        "pe",
        "pi",
        "po",
        "ra",
        "re",
        "ri",
        "ro",
        "sa",
        "se",
        "si",
        "so",
        "ta",
        "te",
        "ti",
        "to",
        "va",
        "ve",
        "vi",
        "vo",
        "za",
        "ze",
    ]
    return ["".join(rng.choices(syll, k=rng.randint(2, 4))) for _ in range(n)]


@dataclass(frozen=True, slots=True)
class TextPool:
    """Pre-built paragraphs (HTML and plain) that entries are assembled from."""

    html: list[str]
    plain: list[str]


def build_pool(rng: random.Random, size: int = 4000) -> TextPool:
    tail = _pseudo_words(rng, 6000) + [t.lower() for t in TECH]
    # Zipf-ish: common words dominate, a long tail of rarer ones keeps the FTS index realistic.
    vocab = list(_COMMON) + tail
    cum: list[float] = []
    total = 0.0
    for i in range(len(vocab)):
        total += 1.0 / (1 + i) ** 0.9
        cum.append(total)
    html_out: list[str] = []
    plain_out: list[str] = []
    for n in range(size):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            words = rng.choices(vocab, cum_weights=cum, k=rng.randint(8, 22))
            if rng.random() < 0.3:
                words.insert(rng.randrange(len(words)), rng.choice(TECH))
            sentences.append(" ".join(words).capitalize() + ".")
        plain = " ".join(sentences)
        kind = n % 10
        if kind == 0:
            html_out.append(f"<h2>{sentences[0][:-1]}</h2><p>{' '.join(sentences[1:])}</p>")
        elif kind == 1:
            html_out.append(
                f"<p>{plain}</p><pre><code>router bgp 65001\n neighbor 192.0.2.{n % 250} "
                f"remote-as 6550{n % 10}\n</code></pre>"
            )
        elif kind == 2:
            w = plain.split(" ", 3)
            html_out.append(
                f'<p>{w[0]} {w[1]} <a href="https://example.net/ref/{n}">{w[2]}</a> {w[3]}</p>'
            )
        else:
            html_out.append(f"<p>{plain}</p>")
        plain_out.append(plain)
    return TextPool(html_out, plain_out)


def title_for(rng: random.Random) -> str:
    tail = rng.choice(_TAILS)
    base = f"{rng.choice(_VERBS)} {rng.choice(TECH)} {rng.choice(_PLACES)}"
    return f"{base}: {tail}" if tail else base
