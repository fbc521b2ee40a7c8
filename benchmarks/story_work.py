"""µs of CPU per post of the work topics, labels and story clusters add to enrich, for this
tree against another tree's enrich modules, in one process, passes alternating.

    .venv/bin/python benchmarks/story_work.py --other /tmp/main/src [--feeds 50] [--repeat 9]

The work is `classify` (with the taxonomy, no evidence, as the update calls it),
`story_signature` and `is_podcast` of each post. This tree's code is called as enrich_entry
calls it (the opening cut into words once, `topics.opening_words`, handed to both when it
exists); the other tree's `enrich/topics.py`, `story.py` and `labels.py` are loaded from
`--other` under other names and called with the text alone. The posts are the farm's first
N feeds (round 0) and ../shared/corpus/feeds when present, enriched once by this tree.
On a machine shared with other work, alternating passes of the two in one process and
keeping the best of each is the comparison that load disturbs least (a cold round's
CPU moves by ±10% from one run to the next under heavy load). Writes nothing to docs.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from enrich_speed import NOW, corpus_items, farm_items

from netplanet.enrich import enrich_entry, labels, story, topic_source, topics

SOURCE = topic_source("Feed 1", "Networking")
Post = tuple[str, str, tuple[str, ...], str]  # title, text, tags, url


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--other", required=True, help="the other tree's src directory")
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    enrich = Path(args.other) / "netplanet" / "enrich"
    o_topics = _load("other_topics", enrich / "topics.py")
    o_story = _load("other_story", enrich / "story.py")
    o_labels = _load("other_labels", enrich / "labels.py")
    o_taxonomy, taxonomy = o_topics.load_taxonomy(), topics.load_taxonomy()
    cut_once = hasattr(topics, "opening_words")

    for label, items in (("farm", farm_items(args.feeds)), ("corpus", corpus_items())):
        if not items:
            continue
        posts = [
            (e.title, e.text, e.tags, e.url)
            for e in (
                enrich_entry(p, source_id=1, source_category="Networking", base_url=b, now=NOW)
                for p, b in items
            )
        ]

        def other(posts: list[Post]) -> None:
            for title, text, tags, url in posts:
                o_topics.classify(
                    o_taxonomy, title=title, text=text, tags=tags, source=SOURCE, evidence=False
                )
                o_story.story_signature(title=title, text=text, url=url)
                o_labels.is_podcast(title=title, text=text, url=url)

        def this(posts: list[Post]) -> None:
            for title, text, tags, url in posts:
                extra: dict[str, Any] = {"words": topics.opening_words(text)} if cut_once else {}
                topics.classify(
                    taxonomy,
                    title=title,
                    text=text,
                    tags=tags,
                    source=SOURCE,
                    evidence=False,
                    **extra,
                )
                story.story_signature(title=title, text=text, url=url, **extra)
                labels.is_podcast(title=title, text=text, url=url)

        runs: dict[str, Callable[[list[Post]], None]] = {"other": other, "this": this}
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(args.repeat):
            for name, run in runs.items():
                gc.disable()
                start = time.process_time()
                run(posts)
                best[name] = min(best[name], time.process_time() - start)
                gc.enable()
        per = {k: v / len(posts) * 1e6 for k, v in best.items()}
        print(
            f"{label} ({len(posts):,} posts): other {per['other']:.1f} µs, this "
            f"{per['this']:.1f} µs a post ({per['this'] / per['other']:.2f}x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
