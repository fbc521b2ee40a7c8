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
    TopicInfo("routing", "Routing", "BGP, OSPF, IS-IS, MPLS, segment routing and route policy."),
    TopicInfo("datacenter", "Data center", "Fabrics, EVPN/VXLAN, switching and DC design."),
    TopicInfo("security", "Security", "Vulnerabilities, firewalls, VPNs and network defence."),
    TopicInfo("cloud-native", "Cloud native", "Kubernetes networking, service meshes, cloud VPCs."),
    TopicInfo("automation", "Automation", "Network automation, APIs, IaC, testing and tooling."),
    TopicInfo(
        "observability", "Observability", "Telemetry, monitoring, flows and troubleshooting."
    ),
    TopicInfo("internet", "Internet", "Peering, IXPs, DNS, RPKI, outages and Internet policy."),
    TopicInfo("wireless", "Wireless", "Wi-Fi, 5G, mobile and radio networks."),
    TopicInfo("wan", "WAN", "SD-WAN, enterprise WAN, transport and optical networks."),
    TopicInfo("industry", "Industry", "Vendors, products, careers, events and the business."),
)
"""The default taxonomy's topics in display order (used when create_app is given none)."""


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
