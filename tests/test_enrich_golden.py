"""Golden outputs of the enrich stage, recorded before its speed-ups, so they change nothing.

`tests/data/enrich_golden.json` holds what the implementation of 2026-01 (one lxml parse per
step, an nh3 Cleaner built per call) produced for a fixed set of inputs: hand-written snippets
for every rule, plus deterministic random documents assembled from the same pieces.

The corpus part (../shared/corpus/feeds; skipped when absent, a failure under CI) is
`tests/data/enrich_golden_corpus.json`: one line per entry with its URL, date, and for each
output (title, content, excerpt, text) its size and a short digest, so a re-recording shows in
the diff which entries changed and how. It keeps no text of the feeds (third-party content stays
out of the repository); a mismatch prints the entries' current outputs instead.

Regenerate only for an intended change, review the diff, and say why in the commit:
    NETPLANET_GOLDEN_WRITE=1 .venv/bin/python -m pytest tests/test_enrich_golden.py
Write mode records and then fails the run, so it can never pass silently (in CI or anywhere).
NETPLANET_GOLDEN_DIR points both files elsewhere (tests/test_corpus_rule.py uses it).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from netplanet.enrich import (
    enrich_entry,
    html_to_text,
    make_excerpt,
    sanitize_html,
    strip_boilerplate,
)
from netplanet.errors import ParseError
from netplanet.model import Entry, ParsedEntry
from netplanet.parse import parse_feed

GOLDEN_DIR = Path(os.environ.get("NETPLANET_GOLDEN_DIR") or Path(__file__).parent / "data")
GOLDEN = GOLDEN_DIR / "enrich_golden.json"
GOLDEN_CORPUS = GOLDEN_DIR / "enrich_golden_corpus.json"
WRITE = os.environ.get("NETPLANET_GOLDEN_WRITE") == "1"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
BASES = (
    "https://blog.example.net/2024/05/post/",
    "http://Example.ORG",
    "https://blog.example.net/sub/dir/index.html?x=1",
    "",
    "not a url",
    "https://[::1/broken",
    "ftp://files.example/",
)

# Pieces shaped like real feed bodies, one or more rules each.
PIECES: tuple[str, ...] = (
    "<p>EVPN multihoming lets a CE attach to two PEs.</p>",
    "<p>Plain words without a sentence end and more words after them</p>",
    "<p>Dr. Smith et al. compared e.g. OSPF vs. IS-IS. It went well! Did it? Yes.</p>",
    "<h1>Big title</h1><h2>Smaller</h2><h6>tiny</h6>",
    '<p>See <a href="/relative/path">a relative link</a> and <a href="../up">up</a>.</p>',
    '<p><a href="//cdn.example.com/x.js">protocol-relative</a> <a href="?q=1">query</a></p>',
    '<p><a href="https://abs.example/a" target="_blank" class="x">absolute</a></p>',
    '<p><a href="mailto:me@example.com">mail</a> <a href="javascript:alert(1)">js</a></p>',
    '<p><img src="/img/fig1.png" alt="fig" width="600" height="400" style="border:0"></p>',
    '<img src="https://stats.wordpress.com/b.gif?x=1" width="1" height="1" alt="">',
    '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4'
    '2mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" alt="dot">',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" alt="svg">',
    '<p>The post <a href="https://netblog.example/evpn/">EVPN</a> appeared first on '
    '<a href="https://netblog.example">Net Blog</a>.</p>',
    '<p>We upgraded the core. <a href="https://x.example/core">Read more »</a></p>',
    '<p><a class="more-link" href="https://x.example/p#more">Continue reading <span>Title'
    "</span></a></p>",
    "<p>The text ends with a marker [&hellip;]</p>",
    "<p>The text ends with another marker [...] Read more »</p>",
    '<div class="sharedaddy sd-sharing-enabled"><h3>Share this:</h3><ul><li>'
    '<a href="https://twitter.com/intent/tweet?u=x">Twitter</a></li></ul></div>',
    '<div class="feedflare"><a href="http://feeds.feedburner.com/~ff/blog?a=1">'
    '<img src="http://feeds.feedburner.com/~ff/blog?d=2" border="0"></a></div>',
    '<p><a href="http://feeds.feedburner.com/~r/blog/~3/abc/">a proxied link</a></p>',
    "<p>&nbsp;</p><div> <br/> </div><p></p>",
    "<ul><li>faster BGP</li><li>fixed OSPF.</li><li><p>nested</p><p>paras</p></li></ul>",
    "<ol><li>one<ul><li>inner a</li><li>inner b</li></ul></li><li>two</li></ol>",
    "<dl><dt>Term</dt><dd>Definition, with words.</dd></dl>",
    "<pre><code>router bgp 65001\n neighbor 192.0.2.1 remote-as 65002\n</code></pre>",
    "<table><caption>Cap</caption><tr><th>a</th><td>b</td></tr><tr><td>c</td></tr></table>",
    "<figure><img src='https://x.example/a.png'><figcaption>A caption.</figcaption></figure>",
    "<blockquote cite='/quote-source'>Quoted <q cite='https://q.example/'>inner</q>.</blockquote>",
    "<p>Emphasis <em>here</em>, <strong>bold <i>nested italic</i></strong> and <code>x</code>.</p>",
    "<p>Foot<sup>1</sup> H<sub>2</sub>O <mark>marked</mark> <del>old</del> <ins>new</ins></p>",
    "<script>alert(1)</script><style>p{}</style><noscript>ns</noscript><p>after scripts</p>",
    "<iframe src='https://video.example/embed'></iframe><video src='v.mp4'>fallback</video>",
    "<svg><a xlink:href='javascript:alert(1)'>x</a></svg><math><mi>x</mi></math>",
    "<form action='/post'><input value='v'><button>Go</button><select><option>o</option>"
    "</select><textarea>t</textarea></form>",
    "<!-- a comment --><p>after a comment</p><![CDATA[ cdata ]]>",
    "<p>Entities: &amp; &lt;tag&gt; &quot;q&quot; &#8217; &#x2014; &hellip; &copy; &bogus;</p>",
    "<p>Control\x00chars\x07 and\x0b lone \ud800 surrogate</p>",
    "Plain text with no markup at all, and   irregular\n\twhitespace.",
    "Plain text with an ampersand & and a &lt; entity.",
    "<p>Unclosed <b>bold <i>italic</p><p>next</b> para",
    "<div><div><span>deeply <a href='https://x.example'>nested <em>link</em></a></span></div>"
    "</div>",
    "<P CLASS='x'>UPPER CASE TAGS <A HREF='/Rel'>Link</A></P>",
    "<p>Tab\tinside <a href='java\tscript:alert(1)'>scheme</a> and "
    "<a href='&#106;avascript:alert(1)'>entity</a></p>",
    "<p>Share on: <a href='https://www.facebook.com/sharer/sharer.php?u=x'>fb</a></p>",
    "<p>Like this:</p><p>Like Loading...</p>",
    "<p>A sentence with a closing quote.” Then more text follows here</p>",
    "<center>centered</center><address>addr</address><details><summary>S</summary>D</details>",
    "<hr><br><p>after rules</p><br/>",
    "<p>Image in text <img src='https://x.example/a.png'>between words</p>",
    "<nav><a href='/'>home</a></nav><aside>side note</aside><footer>foot words</footer>",
    "<p>Trailing punctuation before a cut, (parenthesis; colon: dash —</p>",
    "<a href='https://x.example/'>a link</a>text directly after<a href='/b'>another</a>",
    "<p><span style='width:1px;height:1px'><img style='width: 1px; height: 1px' "
    "src='https://x.example/p.gif'></span>hidden pixel</p>",
    "<p>Vergüenza ñandú — Ελληνικά 日本語のテキスト 中文 🙂 emoji</p>",
    "<html><head><title>T</title></head><body><p>whole document</p></body></html>",
    "",
    "   \n  ",
)

WORDS = [
    "bgp",
    "ospf",
    "route",
    "reflector",
    "vlan",
    "vxlan",
    "evpn",
    "mpls",
    "segment",
    "routing",
    "netconf",
    "yang",
    "ansible",
    "spine",
    "leaf",
    "fabric",
    "latency",
    "jitter",
    "packet",
    "loss",
    "mtu",
    "ipv6",
    "anycast",
    "peering",
    "transit",
    "firewall",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "for",
    "on",
    "with",
    "as",
    "was",
    "e.g.",
    "i.e.",
    "etc.",
    "Mr.",
    "Dr.",
    "No.",
    "vs.",
    "end.",
    "done!",
    "really?",
    "«quote»",
    "(paren)",
    "[bracket]",
    "word,",
    "word;",
    "word:",
    "—",
    "-",
    "&",
    "<",
    ">",
]


def _prose(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(w.capitalize() if rng.random() < 0.1 else w for w in words)


def _random_doc(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, 10)):
        roll = rng.random()
        if roll < 0.4:
            parts.append(f"<p>{_prose(rng, rng.randint(1, 60))}</p>")
        elif roll < 0.5:
            items = "".join(
                f"<li>{_prose(rng, rng.randint(1, 12))}</li>" for _ in range(rng.randint(1, 5))
            )
            parts.append(f"<ul>{items}</ul>")
        elif roll < 0.6:
            parts.append(
                f"<p>{_prose(rng, 5)} <a href='{rng.choice(('/r', 'https://e.example/p'))}'>"
                f"{_prose(rng, 3)}</a> <em>{_prose(rng, 4)}</em> {_prose(rng, 8)}</p>"
            )
        else:
            parts.append(rng.choice(PIECES))
    return rng.choice(("", "\n")).join(parts)


def _inputs() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for i, piece in enumerate(PIECES):
        cases.append({"content": piece, "summary": "", "base": BASES[i % len(BASES)]})
    rng = random.Random(20260101)
    for i in range(120):
        summary = ""
        if rng.random() < 0.35:
            summary = rng.choice(
                (_random_doc(rng), f"{_prose(rng, rng.randint(2, 20))} […]", "Episode 12")
            )
        cases.append(
            {
                "content": _random_doc(rng) if rng.random() < 0.9 else "",
                "summary": summary,
                "base": BASES[i % len(BASES)] if rng.random() < 0.3 else BASES[0],
                "link": rng.choice((None, "", "https://blog.example.net/p/?utm_source=x", "/rel")),
            }
        )
    return cases


def _outputs(case: dict[str, Any]) -> dict[str, Any]:
    content, summary, base = case["content"], case["summary"], case["base"]
    parsed = ParsedEntry(
        guid=None,
        link=case.get("link", "https://blog.example.net/2024/05/post/"),
        title="" if len(content) % 3 == 0 else "A &amp;amp; title",
        content_html=content,
        summary_html=summary,
        published=datetime(2024, 5, 30, tzinfo=UTC),
    )
    entry = enrich_entry(parsed, source_id=1, source_category="Net", base_url=base, now=NOW)
    stripped = strip_boilerplate(content)
    clean = sanitize_html(stripped, base_url=base)
    return {
        "strip_boilerplate": stripped,
        "sanitize_html": clean,
        "sanitize_raw": sanitize_html(content, base_url=base),
        "html_to_text": html_to_text(clean),
        "text_raw": html_to_text(content),
        "excerpt_75": make_excerpt(clean),
        "excerpt_12": make_excerpt(clean, words=12),
        "excerpt_raw_5": make_excerpt(content, words=5),
        "entry": {
            "title": entry.title,
            "url": entry.url,
            "key": entry.key,
            "content_html": entry.content_html,
            "excerpt_html": entry.excerpt_html,
            "text": entry.text,
            "fingerprint": entry.fingerprint,
        },
    }


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]


def _corpus_entry(e: Entry) -> dict[str, str]:
    """What the golden corpus file keeps of one enriched entry: readable facts, no feed text."""
    excerpt = html_to_text(e.excerpt_html)
    words = len(excerpt.split())
    cut = "…" if excerpt.endswith("…") else ""
    return {
        "url": e.url,
        "published": e.published.isoformat().replace("+00:00", "Z"),
        # Sizes in characters (words for the excerpt, "…" when it is cut), then a digest.
        "title": f"{len(e.title)} #{_digest(e.title)}",
        "content": f"{len(e.content_html)} #{_digest(e.content_html)}",
        "excerpt": f"{words} words{cut} #{_digest(e.excerpt_html)}",
        "text": f"{len(e.text)} #{_digest(e.text)}",
    }


def _corpus_outputs(corpus: Path) -> dict[str, list[tuple[dict[str, str], Entry]]]:
    out: dict[str, list[tuple[dict[str, str], Entry]]] = {}
    for path in sorted(corpus.iterdir()):
        if path.name == "MANIFEST.tsv":
            continue
        url = f"https://feeds.example.org/{path.name}"
        try:
            feed = parse_feed(path.read_bytes(), url=url)
        except ParseError:
            continue
        entries = []
        for parsed in feed.entries:
            e = enrich_entry(
                parsed, source_id=1, source_category="Net", base_url=feed.link or url, now=NOW
            )
            entries.append((_corpus_entry(e), e))
        out[path.name] = entries
    return out


def _dump_corpus(recorded: dict[str, list[dict[str, str]]]) -> str:
    """JSON with one entry per line, so that a diff names the entries that changed."""
    feeds = []
    for name, entries in recorded.items():
        lines = ",\n".join("  " + json.dumps(e, ensure_ascii=False) for e in entries)
        body = f"[\n{lines}\n ]" if entries else "[]"
        feeds.append(f"{json.dumps(name)}: {body}")
    return "{\n" + ",\n".join(feeds) + "\n}\n"


def _golden() -> dict[str, Any]:
    return dict(json.loads(GOLDEN.read_text(encoding="utf-8")))


def _written(path: Path) -> None:
    pytest.fail(
        f"NETPLANET_GOLDEN_WRITE=1: recorded {path}; review its diff, commit it with the reason, "
        "and run again without NETPLANET_GOLDEN_WRITE",
        pytrace=False,
    )


def test_outputs_match_the_recorded_ones() -> None:
    cases = _inputs()
    got = [_outputs(case) for case in cases]
    if WRITE:
        data = {"cases": [{"input": c, "output": o} for c, o in zip(cases, got, strict=True)]}
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(data, indent=1) + "\n", "utf-8")
        _written(GOLDEN)
    recorded = _golden()["cases"]
    assert [r["input"] for r in recorded] == cases
    for case, want, have in zip(cases, (r["output"] for r in recorded), got, strict=True):
        assert have == want, case


@pytest.mark.corpus
def test_corpus_outputs_match_the_recorded_ones(corpus_dir: Path) -> None:
    outputs = _corpus_outputs(corpus_dir)
    got = {name: [row for row, _ in entries] for name, entries in outputs.items()}
    if WRITE:
        GOLDEN_CORPUS.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN_CORPUS.write_text(_dump_corpus(got), "utf-8")
        _written(GOLDEN_CORPUS)
    assert GOLDEN_CORPUS.is_file(), f"no {GOLDEN_CORPUS}: record it with NETPLANET_GOLDEN_WRITE=1"
    recorded: dict[str, list[dict[str, str]]] = json.loads(GOLDEN_CORPUS.read_text("utf-8"))
    shared = sorted(set(got) & set(recorded))
    # Feeds may be added to the corpus; most recorded ones must still be there to compare.
    assert len(shared) >= 0.9 * len(recorded), "most recorded corpus feeds are missing"
    changed: list[str] = []
    for name in shared:
        if got[name] == recorded[name]:
            continue
        changed.append(f"{name}: {len(recorded[name])} entries recorded, {len(got[name])} now")
        for n, (row, entry) in enumerate(outputs[name]):
            want = recorded[name][n] if n < len(recorded[name]) else {}
            if row != want:
                fields = sorted(k for k in row if row.get(k) != want.get(k))
                changed.append(f"  entry {n} {row['url']} changed: {', '.join(fields)}")
                changed.extend(f"    {k}: {getattr(entry, _FIELDS[k])!r:.300}" for k in fields)
    assert not changed, "\n".join(changed[:60])


_FIELDS = {
    "url": "url",
    "published": "published",
    "title": "title",
    "content": "content_html",
    "excerpt": "excerpt_html",
    "text": "text",
}
