"""The hand-labelled topic set (tests/data/topics_labelled.jsonl) and the classifier on it.

The set is validated on its own (schema, unique ids, known slugs, enough posts per topic); the
scoring of benchmarks/topics_quality.py is checked with a stand-in predictor; and the topic
classifier must put a post's primary topic among its labels for at least 90% of the posts.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from netplanet.enrich.topics import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "data" / "topics_labelled.jsonl"

TOPICS = set(load_taxonomy(None).slugs)  # the set is labelled with the bundled taxonomy's
FIELDS = {"id", "title", "text", "tags", "source", "labels"}
MIN_POSTS = 240
MIN_PER_TOPIC = 18
MIN_ACCURACY = 0.90
# Posts are 40–200 words, except a few deliberately short link posts (a title and one
# sentence), which the set keeps because feeds are full of them.
MIN_WORDS, MAX_WORDS, MAX_SHORT, MIN_SHORT_WORDS = 40, 200, 20, 5


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    lines = LABELLED.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = ROOT / "benchmarks" / "topics_quality.py"
    spec = importlib.util.spec_from_file_location("bench_topics_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_records_have_the_schema(records: list[dict[str, Any]]) -> None:
    assert len(records) >= MIN_POSTS
    for record in records:
        assert set(record) == FIELDS, record.get("id")
        assert re.fullmatch(r"p\d{3,}", record["id"]), record["id"]
        for key in ("title", "text", "source"):
            assert isinstance(record[key], str) and record[key].strip(), (record["id"], key)
        assert isinstance(record["tags"], list), record["id"]
        assert all(isinstance(t, str) and t.strip() for t in record["tags"]), record["id"]


def test_ids_and_titles_are_unique(records: list[dict[str, Any]]) -> None:
    ids = Counter(r["id"] for r in records)
    titles = Counter(r["title"].casefold() for r in records)
    assert [i for i, n in ids.items() if n > 1] == []
    assert [t for t, n in titles.items() if n > 1] == []


def test_labels_are_one_to_three_known_slugs(records: list[dict[str, Any]]) -> None:
    for record in records:
        labels = record["labels"]
        assert isinstance(labels, list) and 1 <= len(labels) <= 3, record["id"]
        assert len(set(labels)) == len(labels), record["id"]
        assert set(labels) <= TOPICS, (record["id"], labels)


def test_every_topic_is_the_first_label_of_enough_posts(records: list[dict[str, Any]]) -> None:
    first = Counter(r["labels"][0] for r in records)
    assert {t: first[t] for t in TOPICS if first[t] < MIN_PER_TOPIC} == {}


def test_texts_are_post_sized(records: list[dict[str, Any]]) -> None:
    words = {r["id"]: len(r["text"].split()) for r in records}
    assert {i: n for i, n in words.items() if n > MAX_WORDS} == {}
    short = {i: n for i, n in words.items() if n < MIN_WORDS}
    assert len(short) <= MAX_SHORT, short
    assert {i: n for i, n in short.items() if n < MIN_SHORT_WORDS} == {}


def test_loader_reads_every_record(bench: ModuleType, records: list[dict[str, Any]]) -> None:
    posts = bench.load_posts(LABELLED)
    assert [p.id for p in posts] == [r["id"] for r in records]
    assert set(bench.TOPICS) == TOPICS


def test_scoring_counts_primary_hits_precision_and_recall(bench: ModuleType) -> None:
    def post(pid: str, *labels: str) -> Any:
        return bench.Post(pid, pid, "", (), "", labels)

    posts = [
        post("a", "routing"),
        post("b", "routing", "security"),
        post("c", "security"),
        post("d", "wan"),
    ]
    predictions: dict[str, Sequence[str]] = {
        "a": ["routing"],
        "b": ["security", "routing"],  # a hit (security is a label), routing recalled
        "c": ["routing", "internet", "wan", "security"],  # a miss; the 4th topic is ignored
        "d": [],  # nothing predicted: a miss
    }
    report = bench.evaluate(posts, lambda p: predictions[p.id])
    assert (report.hits, report.total) == (2, 4)
    assert report.accuracy == 0.5
    assert report.precision("routing") == 0.5  # a right, c wrong
    assert report.precision("security") == 1.0
    assert report.precision("wan") is None
    assert report.recall("routing") == 1.0  # a and b
    assert report.recall("security") == 0.0  # c's security came 4th
    assert report.recall("wan") == 0.0
    assert [p.id for p, _ in report.misses] == ["c", "d"]
    table = bench.markdown(report)
    assert "| routing | 2 | 100% | 2 | 50% |" in table
    assert "| wan | 1 | 0% | 0 | – |" in table


def test_classifier_accuracy_on_the_labelled_set(bench: ModuleType) -> None:
    report = bench.evaluate(bench.load_posts(LABELLED), bench.classifier_predict())
    assert report.accuracy >= MIN_ACCURACY, bench.misses(report)
