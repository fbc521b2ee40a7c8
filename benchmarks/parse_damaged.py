"""Parse cost of ill-formed feeds: netplanet's parse_feed against feedparser (and fastfeedparser).

    .venv/bin/python benchmarks/parse_damaged.py [--feeds N] [--seed S]

Builds N deterministic RSS 2.0 and Atom feeds of 40 entries (~100-150 KB, CDATA and escaped
HTML bodies) and damages each once, at a random entry, the way real feeds break: an unclosed
inline tag in a title, a stray end tag, an entry without its end tag, a bare `<` in a
description. Reports the median CPU milliseconds per file for each parser, how many files
parse_feed handed to feedparser, and how many files agree with feedparser on the number of
entries. Prints a Markdown table; record it in docs/benchmarks.md by hand with the command.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import feedparser

from netplanet.parse import fallback, parse_feed

_WORDS = (
    *("bgp", "ospf", "route", "reflector", "vxlan", "evpn", "mpls", "segment", "routing"),
    *("netconf", "ansible", "spine", "leaf", "fabric", "latency", "jitter", "peering"),
    *("transit", "firewall", "telemetry", "packet", "capture", "ipv6", "prefix", "anycast"),
)
_DAMAGE = ("unclosed-title-tag", "stray-end-tag", "missing-entry-end", "bare-lt")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def _damaged(rng: random.Random, i: int) -> bytes:
    atom = i % 2 == 1
    damage = _DAMAGE[i % len(_DAMAGE)]
    where = rng.randrange(40)
    parts = []
    for n in range(40):
        title = _text(rng, 6)
        body = "".join(f"<p>{_text(rng, 40)}</p>" for _ in range(rng.randint(3, 6)))
        end = "</entry>" if atom else "</item>"
        if n == where:
            if damage == "unclosed-title-tag":
                title += " <b>new"
            elif damage == "stray-end-tag":
                title += "</em>"
            elif damage == "missing-entry-end":
                end = ""
        if atom:
            desc = body.replace("&", "&amp;").replace("<", "&lt;")
            parts.append(
                f"<entry><id>urn:x:{i}:{n}</id><title>{title}</title>"
                f'<link href="https://blog{i}.example.net/{n}"/>'
                f"<updated>2026-11-{n % 28 + 1:02d}T10:00:00Z</updated>"
                f'<content type="html">{desc}</content>{end}'
            )
        else:
            desc = f"<![CDATA[{body}]]>"
            if n == where and damage == "bare-lt":
                desc = f"latency < 5 ms and {_text(rng, 10)}"
            parts.append(
                f"<item><guid>urn:x:{i}:{n}</guid><title>{title}</title>"
                f"<link>https://blog{i}.example.net/{n}</link>"
                f"<description>{desc}</description>{end}"
            )
    if atom:
        head = '<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><id>urn:f</id>'
        doc = '<?xml version="1.0" encoding="utf-8"?>' + head + "".join(parts) + "</feed>"
        return doc.encode()
    head = '<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.net/</link>'
    doc = '<?xml version="1.0" encoding="utf-8"?>' + head + "".join(parts) + "</channel></rss>"
    return doc.encode()


def _fastfeedparser() -> Callable[[bytes], Any] | None:
    try:
        import fastfeedparser  # type: ignore[import-not-found]
    except ImportError:
        return None
    return lambda body: fastfeedparser.parse(body)


def _cpu_ms(fn: Callable[[bytes], Any], body: bytes, repeat: int) -> float:
    start = time.process_time()
    for _ in range(repeat):
        fn(body)
    return (time.process_time() - start) * 1000 / repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    docs = [_damaged(rng, i) for i in range(args.feeds)]
    handed: list[int] = []
    original = fallback.parse

    def counting(repaired: bytes, url: str, warns: list[str]) -> Any:
        handed.append(1)
        return original(repaired, url, warns)

    fallback.parse = counting  # type: ignore[assignment]
    ours = [_cpu_ms(parse_feed, d, 5) for d in docs]
    calls = len(handed) // 5
    fallback.parse = original  # type: ignore[assignment]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [_cpu_ms(feedparser.parse, d, 1) for d in docs]
        agree = sum(len(parse_feed(d).entries) == len(feedparser.parse(d).entries) for d in docs)
    fast = _fastfeedparser()
    fast_ms = [_cpu_ms(fast, d, 5) for d in docs] if fast else []
    fast_agree = (
        sum(len(fast(d).entries) == len(feedparser.parse(d).entries) for d in docs) if fast else 0
    )
    size = statistics.median(len(d) for d in docs) / 1024
    print(f"{len(docs)} damaged feeds, median {size:.0f} KB, 40 entries each, seed {args.seed}\n")
    print("| parser | median ms/file | total ms |")
    print("|---|---:|---:|")
    print(f"| netplanet parse_feed | {statistics.median(ours):.2f} | {sum(ours):.0f} |")
    print(f"| feedparser | {statistics.median(theirs):.2f} | {sum(theirs):.0f} |")
    if fast_ms:
        print(f"| fastfeedparser | {statistics.median(fast_ms):.2f} | {sum(fast_ms):.0f} |")
        print(f"\nfastfeedparser's entry counts equal feedparser's on {fast_agree} of {len(docs)}")
    print(
        f"parse_feed handed {calls} of {len(docs)} files to feedparser; "
        f"entry counts equal to feedparser's on {agree} of {len(docs)}"
    )


if __name__ == "__main__":
    main()
