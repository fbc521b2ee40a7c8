"""Topic classification quality on the hand-labelled set (tests/data/topics_labelled.jsonl).

Every post of the set carries 1–3 topic labels a careful reader accepts (the first is the
best). Each post is classified with `netplanet.enrich.topics` and the script prints:
- accuracy: the share of posts whose primary predicted topic is among their labels;
- per topic, the precision of the primary topic (of the posts predicted T first, the share
  labelled T) and its recall (of the posts whose first label is T, the share with T among
  the predicted topics, at most 3);
- with `--misses`, every post whose primary topic is not among its labels.

    .venv/bin/python benchmarks/topics_quality.py [--markdown] [--misses] [--write]

`--markdown` prints the table for docs/benchmarks.md; `--write` puts it there under
"## Topic quality". Not part of `make bench`: it measures quality, not speed.
`tests/test_topics_quality.py` validates the set and holds the accuracy target.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from netplanet.enrich.topics import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "topics_labelled.jsonl"
HEADING = "## Topic quality"

# The topic slugs the set is labelled with (the bundled taxonomy's), in the order the tables
# list them.
TOPICS = load_taxonomy(None).slugs
# The classifier's primary topic and up to two more count for recall.
MAX_PREDICTED = 3


@dataclass(frozen=True)
class Post:
    id: str
    title: str
    text: str
    tags: tuple[str, ...]
    source: str
    labels: tuple[str, ...]


@dataclass
class Report:
    total: int = 0
    hits: int = 0
    # Per topic: posts predicted T first / of those labelled T; posts labelled T first / of
    # those with T among the predicted topics.
    predicted: dict[str, int] = field(default_factory=dict)
    predicted_right: dict[str, int] = field(default_factory=dict)
    labelled: dict[str, int] = field(default_factory=dict)
    recalled: dict[str, int] = field(default_factory=dict)
    misses: list[tuple[Post, tuple[str, ...]]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def precision(self, topic: str) -> float | None:
        n = self.predicted.get(topic, 0)
        return self.predicted_right.get(topic, 0) / n if n else None

    def recall(self, topic: str) -> float | None:
        n = self.labelled.get(topic, 0)
        return self.recalled.get(topic, 0) / n if n else None


def load_posts(path: Path = LABELLED) -> list[Post]:
    """The labelled posts, in file order (blank lines skipped)."""
    posts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        posts.append(
            Post(
                id=raw["id"],
                title=raw["title"],
                text=raw["text"],
                tags=tuple(raw["tags"]),
                source=raw["source"],
                labels=tuple(raw["labels"]),
            )
        )
    return posts


def evaluate(posts: Sequence[Post], predict: Callable[[Post], Sequence[str]]) -> Report:
    """Score `predict` (a post's topic slugs, primary first) against the labels."""
    report = Report()
    for post in posts:
        predicted = tuple(predict(post))[:MAX_PREDICTED]
        primary = predicted[0] if predicted else ""
        report.total += 1
        if primary in post.labels:
            report.hits += 1
        else:
            report.misses.append((post, predicted))
        if primary:
            report.predicted[primary] = report.predicted.get(primary, 0) + 1
            if primary in post.labels:
                report.predicted_right[primary] = report.predicted_right.get(primary, 0) + 1
        first = post.labels[0]
        report.labelled[first] = report.labelled.get(first, 0) + 1
        if first in predicted:
            report.recalled[first] = report.recalled.get(first, 0) + 1
    return report


def classifier_predict() -> Callable[[Post], Sequence[str]]:
    """`predict` backed by netplanet.enrich.topics with its built-in taxonomy."""
    from netplanet.enrich import topics

    taxonomy = topics.load_taxonomy(None)

    def predict(post: Post) -> Sequence[str]:
        result = topics.classify(
            taxonomy, title=post.title, text=post.text, tags=list(post.tags), source=post.source
        )
        return [slug for slug, _score in result.topics]

    return predict


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def markdown(report: Report) -> str:
    lines = [
        HEADING,
        "",
        f"`benchmarks/topics_quality.py` on {report.total} hand-labelled posts "
        f"(`tests/data/topics_labelled.jsonl`): the primary topic is among a post's labels "
        f"for **{report.hits} of {report.total} ({report.accuracy * 100:.1f}%)**.",
        "",
        "Precision: of the posts whose primary topic is T, the share labelled T. Recall: of "
        f"the posts whose first label is T, the share with T among the (at most "
        f"{MAX_PREDICTED}) predicted topics.",
        "",
        "| topic | first-labelled | recall | predicted first | precision |",
        "|---|---:|---:|---:|---:|",
    ]
    for topic in _topics(report):
        lines.append(
            f"| {topic} | {report.labelled.get(topic, 0)} | {_pct(report.recall(topic))} "
            f"| {report.predicted.get(topic, 0)} | {_pct(report.precision(topic))} |"
        )
    return "\n".join(lines) + "\n"


def plain(report: Report) -> str:
    lines = [
        f"accuracy {report.accuracy:.3f} ({report.hits}/{report.total})",
        f"{'topic':<14} {'labelled':>8} {'recall':>7} {'predicted':>9} {'precision':>9}",
    ]
    for topic in _topics(report):
        lines.append(
            f"{topic:<14} {report.labelled.get(topic, 0):>8} {_pct(report.recall(topic)):>7} "
            f"{report.predicted.get(topic, 0):>9} {_pct(report.precision(topic)):>9}"
        )
    return "\n".join(lines) + "\n"


def misses(report: Report) -> str:
    lines = [f"{len(report.misses)} misses (id, title, predicted, labels):"]
    for post, predicted in report.misses:
        lines.append(
            f"{post.id}  {post.title[:70]!r}  predicted={','.join(predicted) or '-'}  "
            f"labels={','.join(post.labels)}"
        )
    return "\n".join(lines) + "\n"


def _topics(report: Report) -> list[str]:
    # Known topics first in their order, then anything else the classifier predicted.
    extra = sorted(set(report.predicted) - set(TOPICS))
    return [*TOPICS, *extra]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--misses", action="store_true", help="list the misses")
    parser.add_argument("--write", action="store_true", help="write the table to the docs")
    parser.add_argument("--set", type=Path, default=LABELLED, help="labelled JSONL file")
    args = parser.parse_args(argv)
    report = evaluate(load_posts(args.set), classifier_predict())
    sys.stdout.write(markdown(report) if args.markdown else plain(report))
    if args.misses:
        sys.stdout.write("\n" + misses(report))
    if args.write:
        from _common import write_section

        write_section(HEADING, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
