"""The topics the site shows (chips, /topic/<slug>/ archives, navigation, search filter) and
the label filters of lists and output feeds (`?podcasts=0`, `?sponsored=0`). Pure.

Topics answer "what is this post about" (the classifier's taxonomy, enrich/topics.py, handed to
`create_app`), categories "what kind of source" (the operator's list). `DEFAULT_TOPICS` is the
one place the default taxonomy's display names live for the site when nothing is passed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DEFAULT_TOPICS",
    "LABEL_PARAMS",
    "TopicInfo",
    "label_query",
    "topic_href",
    "topic_map",
]


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """One topic as the site shows it (a taxonomy Topic's slug, name and description)."""

    slug: str
    name: str
    description: str = ""


DEFAULT_TOPICS: tuple[TopicInfo, ...] = (
    TopicInfo(
        "routing",
        "Routing",
        "BGP, OSPF, IS-IS, MPLS and segment routing, RPKI, peering and IXPs, routing incidents.",
    ),
    TopicInfo(
        "datacenter",
        "Data Center",
        "Data center switching and fabrics, EVPN/VXLAN, Ethernet, RDMA and AI/HPC "
        "networking, ASICs and optics.",
    ),
    TopicInfo(
        "security",
        "Security",
        "Firewalls, zero trust, DDoS, TLS, vulnerabilities and CVEs, threat research.",
    ),
    TopicInfo(
        "cloud-native",
        "Cloud Native",
        "Kubernetes and CNIs, Calico and Cilium, service mesh, eBPF, public-cloud networking.",
    ),
    TopicInfo(
        "automation",
        "Automation",
        "NetBox, Ansible, Python and APIs, infrastructure as code, CI/CD, network labs, "
        "AI for operations.",
    ),
    TopicInfo(
        "observability",
        "Observability",
        "Monitoring and telemetry, sFlow/NetFlow/IPFIX, troubleshooting tools, packet "
        "capture and Wireshark.",
    ),
    TopicInfo(
        "internet",
        "Internet",
        "DNS, IPv6 and addressing, RIR policy, internet measurement, outages, ISPs and "
        "submarine cables.",
    ),
    TopicInfo(
        "wireless",
        "Wireless",
        "Wi-Fi, 5G and mobile networks, satellite links, RF.",
    ),
    TopicInfo(
        "wan",
        "WAN",
        "SD-WAN, SASE, enterprise WAN and branch networks, VPN connectivity.",
    ),
    TopicInfo(
        "industry",
        "Industry",
        "Business news, launches and acquisitions, events and conferences, opinion, "
        "careers, certifications, books and podcasts.",
    ),
)
"""The bundled taxonomy's topics (data/topics.toml) in display order, for lists that are
given none and as the site's fallback; tests/test_web_topics.py keeps the two the same."""


def topic_map(topics: Sequence[TopicInfo]) -> dict[str, TopicInfo]:
    return {t.slug: t for t in topics}


def topic_href(slug: str) -> str:
    return f"/topic/{slug}/"


LABEL_PARAMS = ("podcasts", "sponsored")
"""Query parameters that leave labelled posts out of a list or feed when set to 0."""


def label_query(params: Mapping[str, str]) -> dict[str, str]:
    """The label filters a reader set (`{"podcasts": "0"}`), to carry on every link of the list.
    Only "0" means anything: other values are the default (everything shown) and dropped."""
    return {name: "0" for name in LABEL_PARAMS if params.get(name) == "0"}
