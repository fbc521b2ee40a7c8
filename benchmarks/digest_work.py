"""µs of CPU per post of `digest` (parse + enrich, as a pool worker runs it) for another tree
and for this one with and without topics and story signatures, in one process.

    .venv/bin/python benchmarks/digest_work.py --other /tmp/before/src [--feeds 150]

Each variant digests each of the farm's first N feeds (round 0) once, in turn, feed by feed:
every post is seen once, as in a cold round, with the rest of enrich's work around the
topic and story work. That is what `story_work.py` leaves out: there the same 1,000 posts
are run through the three functions alone nine times, so their word caches, string hashes
and the CPU's caches are warm, and they cost about half as much as they do in `digest`
(on the farm, the SimHash alone: ~25 µs a post in a loop of its own, ~130 µs inside
digest). The other tree is copied to a scratch directory with its package renamed, so both
load in this process. Variants: `other`; `this`; `this, no topics` (no classifier);
`this, no story` (story_signature stubbed); `this, neither`. Writes nothing to docs.
"""

from __future__ import annotations

import argparse
import importlib
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from farm import ENTRIES_PER_FEED, build_pool, feed_url, render

import netplanet.enrich as this_enrich
from netplanet.enrich import topics
from netplanet.update import digest as this_digest
from netplanet.update.classifier import Classifier

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OTHER = "np_other"


def digest_farm_feed(
    module: Any, body: bytes, url: str, i: int, excerpt_words: int, **extra: Any
) -> Any:
    """`module.digest` of farm feed `i` (a tree's update/digest module), as a cold round
    digests it; `extra` adds the keywords a tree with topics takes (classifier, source_title)."""
    return module.digest(
        body,
        content_type="application/xml",
        url=url,
        source_id=i + 1,
        source_category="",
        now=NOW,
        excerpt_words=excerpt_words,
        **extra,
    )


def _import_other(src: Path, scratch: Path) -> Any:
    """The other tree's update/digest.py, its package copied and renamed to OTHER."""
    target = scratch / OTHER
    shutil.copytree(src / "netplanet", target)
    for path in target.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\bnetplanet\.(?=[a-z_])", f"{OTHER}.", text)
        text = text.replace("from netplanet import", f"from {OTHER} import")
        text = text.replace('files("netplanet")', f'files("{OTHER}")')
        # A codec error handler is registered by name: keep this tree's own.
        text = text.replace('"netplanet-', f'"{OTHER}-')
        path.write_text(text, encoding="utf-8")
    sys.path.insert(0, str(scratch))
    return importlib.import_module(f"{OTHER}.update.digest")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--other", required=True, help="the other tree's src directory")
    ap.add_argument("--feeds", type=int, default=150)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="netplanet-digest-work-") as scratch:
        other = _import_other(Path(args.other), Path(scratch))
        pool = build_pool(random.Random(1))
        bodies = [
            (render(pool, i, ENTRIES_PER_FEED)[0], feed_url(i, 8080)) for i in range(args.feeds)
        ]
        classifier = Classifier(topics.load_taxonomy())
        signature = this_enrich.story_signature

        def no_signature(**_: Any) -> tuple[int | None, tuple[str, ...]]:
            return None, ()

        def variant(module: Any, extra: dict[str, Any], story: bool) -> Callable[..., Any]:
            def run(body: bytes, url: str, i: int) -> Any:
                this_enrich.story_signature = signature if story else no_signature  # type: ignore[attr-defined]
                return digest_farm_feed(module, body, url, i, 60, **extra)

            return run

        with_topics = {"classifier": classifier, "source_title": "Feed"}
        variants = {
            "other": variant(other, {}, True),
            "this": variant(this_digest, with_topics, True),
            "this, no topics": variant(this_digest, {}, True),
            "this, no story": variant(this_digest, with_topics, False),
            "this, neither": variant(this_digest, {}, False),
        }
        cpu = dict.fromkeys(variants, 0)
        posts = dict.fromkeys(variants, 0)
        order = list(variants)
        for i, (body, url) in enumerate(bodies):
            order = order[1:] + order[:1]  # each variant takes each place in turn
            for name in order:
                start = time.process_time_ns()
                result = variants[name](body, url, i)
                cpu[name] += time.process_time_ns() - start
                posts[name] += len(result.entries)
        this_enrich.story_signature = signature  # type: ignore[attr-defined]
    per = {name: cpu[name] / max(posts[name], 1) / 1e3 for name in variants}
    for name in variants:
        print(f"{name:16} {per[name]:7.1f} µs a post ({posts[name]:,} posts)")
    print(
        f"topics {per['this'] - per['this, no topics']:.0f} µs, story signatures "
        f"{per['this'] - per['this, no story']:.0f} µs, the rest of this tree against other "
        f"{per['this, neither'] - per['other']:+.0f} µs a post",
        flush=True,
    )


if __name__ == "__main__":
    main()
