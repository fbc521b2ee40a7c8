"""µs of CPU per post of the whole `digest` (parse, enrich, topics, story signatures, as a
pool worker runs it) for another tree against this one, feeds alternating, in one process.

    .venv/bin/python benchmarks/digest_cpu.py --other /tmp/main/src [--feeds 300] [--seed 1]
        [--excerpt-words 60]

Both trees digest each of the farm's first N feeds (round 0) once with their own bundled
taxonomy, the order of the two swapped at every feed, so load and the CPU's caches treat
them alike (`digest_work.py` splits this tree's figure by stage instead; there the other tree
runs without topics). Each result is then pickled and unpickled, as the pool sends it back to
the update process: that hand-off is timed apart. Writes nothing to docs.
"""

from __future__ import annotations

import argparse
import importlib
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from digest_work import OTHER, _import_other, digest_farm_feed
from farm import ENTRIES_PER_FEED, build_pool, feed_url, render

from netplanet.enrich import topics
from netplanet.update import digest as this_digest
from netplanet.update.classifier import Classifier


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--other", required=True, help="the other tree's src directory")
    ap.add_argument("--feeds", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1, help="the farm's pool of posts")
    ap.add_argument(
        "--excerpt-words", type=int, default=60, help="60 as digest_work.py; the setting's is 150"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="netplanet-digest-cpu-") as scratch:
        other = _import_other(Path(args.other), Path(scratch))
        other_topics = importlib.import_module(f"{OTHER}.enrich.topics")
        other_classifier = importlib.import_module(f"{OTHER}.update.classifier").Classifier(
            other_topics.load_taxonomy()
        )
        pool = build_pool(random.Random(args.seed))
        bodies = [
            (render(pool, i, ENTRIES_PER_FEED)[0], feed_url(i, 8080)) for i in range(args.feeds)
        ]
        variants: dict[str, tuple[Any, Any]] = {
            "other": (other, other_classifier),
            "this": (this_digest, Classifier(topics.load_taxonomy())),
        }
        cpu = dict.fromkeys(variants, 0)
        dumps = dict.fromkeys(variants, 0)
        loads = dict.fromkeys(variants, 0)
        posts = dict.fromkeys(variants, 0)
        order = list(variants)
        for i, (body, url) in enumerate(bodies):
            order.reverse()
            for name in order:
                module, classifier = variants[name]
                start = time.process_time_ns()
                result = digest_farm_feed(
                    module,
                    body,
                    url,
                    i,
                    args.excerpt_words,
                    classifier=classifier,
                    source_title="Feed",
                )
                cpu[name] += time.process_time_ns() - start
                posts[name] += len(result.entries)
                start = time.process_time_ns()
                sent = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
                dumps[name] += time.process_time_ns() - start
                start = time.process_time_ns()
                pickle.loads(sent)
                loads[name] += time.process_time_ns() - start
    per = {name: cpu[name] / max(posts[name], 1) / 1e3 for name in variants}
    dumped = {name: dumps[name] / max(posts[name], 1) / 1e3 for name in variants}
    loaded = {name: loads[name] / max(posts[name], 1) / 1e3 for name in variants}
    print(
        f"other {per['other']:.1f} µs, this {per['this']:.1f} µs a post "
        f"({per['this'] - per['other']:+.1f} µs, {per['this'] / per['other']:.3f}x; "
        f"{posts['this']:,} posts)",
        flush=True,
    )
    print(
        f"hand-off: pickle other {dumped['other']:.1f} µs, this {dumped['this']:.1f} µs; "
        f"unpickle other {loaded['other']:.1f} µs, this {loaded['this']:.1f} µs a post",
        flush=True,
    )


if __name__ == "__main__":
    main()
