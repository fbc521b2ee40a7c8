"""Topics in the pipeline and in operations (operations/topics.py): which taxonomy a planet
uses, the taxonomy sent to pool workers, re-classification (resumable, skipping an operator's
choices, recording the version), `run`'s re-classification at start, overrides."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from pathlib import Path
from typing import Any, SupportsIndex

import pytest

from builders import make_entry, plan, spec
from netplanet.enrich.topics import Taxonomy, Topic, load_taxonomy
from netplanet.errors import ConfigError, UsageError
from netplanet.operations import topics as ops
from netplanet.planet import Planet
from netplanet.runtime.service import reclassify_if_needed
from netplanet.settings import Settings
from netplanet.store.admin import GENERATION_KEY
from netplanet.store.sql import SqlStore
from netplanet.update.classifier import Classifier
from netplanet.update.digest import digest

SMALL = Path(__file__).parent / "data" / "topics_small.toml"


@pytest.fixture
def small() -> Taxonomy:
    return load_taxonomy(SMALL)


def _posts(store: SqlStore, titles: list[str]) -> list[int]:
    src = store.add_source(spec(1))
    new = tuple(
        make_entry(src.id, n, title=title, text="Plain words.") for n, title in enumerate(titles, 1)
    )
    store.apply_update(plan(src.id, new))
    return sorted(e.id for e in store.list_entries(limit=1000))


# ------------------------------------------------------------------ the pipeline's taxonomy


def test_a_classifier_travels_without_its_index_and_is_compiled_once() -> None:
    bundled = load_taxonomy(None)
    data = pickle.dumps(Classifier(bundled))
    assert len(data) < len(pickle.dumps(bundled)) / 2
    first, second = pickle.loads(data), pickle.loads(data)
    assert first.taxonomy.version == bundled.version
    assert first.taxonomy is second.taxonomy  # compiled once per version in a worker


def test_a_classifier_encodes_its_topics_once_and_a_worker_decodes_a_version_once(
    small: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool gets the classifier with every task: its topics are pickled for the first
    task only, and a worker that knows the version does not unpickle them again."""
    encoded: list[str] = []
    decoded: list[str] = []
    reduce_ex, setstate = Topic.__reduce_ex__, Topic.__setstate__  # type: ignore[attr-defined]

    def counted_reduce(self: Topic, protocol: SupportsIndex) -> Any:
        encoded.append(self.slug)
        return reduce_ex(self, protocol)

    def counted_setstate(self: Topic, state: Any) -> None:
        decoded.append("topic")
        setstate(self, state)

    monkeypatch.setattr(Topic, "__reduce_ex__", counted_reduce)
    monkeypatch.setattr(Topic, "__setstate__", counted_setstate)
    taxonomy = dataclasses.replace(small, version="v-once")  # a version no test compiled
    classifier = Classifier(taxonomy)
    tasks = [pickle.dumps(classifier) for _ in range(3)]
    assert encoded == [t.slug for t in taxonomy.topics]
    arrived = [pickle.loads(data) for data in tasks]
    # The first task's topics only: the others were known by their version.
    assert len(decoded) == len(taxonomy.topics)
    assert arrived[0].taxonomy == taxonomy
    assert all(a.taxonomy is arrived[0].taxonomy for a in arrived)


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<link>https://blog.example.net/</link><description>d</description>
<item><title>OSPF areas explained</title><link>https://blog.example.net/1</link>
<guid>1</guid><description>Stub areas.</description></item>
<item><title>Episode 12: coffee</title><link>https://blog.example.net/2</link>
<guid>2</guid><description>Nothing else.</description></item></channel></rss>"""


def test_digest_classifies_with_the_classifier_it_is_given(small: Taxonomy) -> None:
    args = {
        "content_type": "application/rss+xml",
        "url": "https://blog.example.net/feed",
        "source_id": 1,
        "source_category": "Networking",
        "now": __import__("builders").NOW,
        "excerpt_words": 50,
    }
    plain = digest(RSS, **args)  # type: ignore[arg-type]
    assert [e.topics for e in plain.entries] == [(), ()]
    sent = pickle.loads(pickle.dumps(Classifier(small)))  # as a pool worker gets it
    done = digest(RSS, **args, classifier=sent, source_title="Blog")  # type: ignore[arg-type]
    assert [e.topics[0][0] for e in done.entries] == ["routing", "other"]
    assert [e.podcast for e in done.entries] == [False, True]


def test_the_planet_reads_the_setting_then_the_saved_copy_then_the_bundled(
    tmp_path: Path,
) -> None:
    planet = Planet(Settings(data_dir=tmp_path))
    try:
        assert planet.taxonomy().version == load_taxonomy(None).version
        ops.save_taxonomy(planet.settings, planet.store, SMALL.read_text())
        assert ops.planet_taxonomy(planet.settings, planet.store).slugs == (
            "routing",
            "wireless",
            "other",
        )
        configured = Settings(data_dir=tmp_path, topics_file=str(SMALL))
        assert ops.planet_taxonomy(configured, planet.store).version == load_taxonomy(SMALL).version
    finally:
        planet.close()


def test_a_bad_topics_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "topics.toml"
    broken.write_text("fallback = 'nothing'\n[[topic]]\nslug = 'Not A Slug'\n")
    for path in (broken, tmp_path / "missing.toml"):
        planet = Planet(Settings(data_dir=tmp_path, topics_file=str(path)))
        try:
            with pytest.raises(ConfigError) as info:
                planet.pipeline(object())  # type: ignore[arg-type]
            assert str(path) in str(info.value) and "\n" not in str(info.value)
        finally:
            planet.close()


def test_the_pipeline_asks_the_planet_for_its_taxonomy(tmp_path: Path) -> None:
    planet = Planet(Settings(data_dir=tmp_path, topics_file=str(SMALL), parse_workers=0))
    try:
        pipeline = planet.pipeline(object())  # type: ignore[arg-type]
        assert pipeline.taxonomy is not None
        assert pipeline.taxonomy().version == load_taxonomy(SMALL).version  # type: ignore[union-attr]
    finally:
        planet.close()


def test_saving_refuses_an_invalid_taxonomy_and_writes_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "topics.toml"
    target.write_text(SMALL.read_text())
    planet = Planet(Settings(data_dir=tmp_path, topics_file=str(target)))
    try:
        with pytest.raises(ConfigError):
            ops.save_taxonomy(planet.settings, planet.store, "fallback = 3\n")
        assert target.read_text() == SMALL.read_text()  # nothing written
        edited = SMALL.read_text().replace('"ospf"]', '"ospf", "is-is"]')
        saved = ops.save_taxonomy(planet.settings, planet.store, edited)
        assert target.read_text() == edited
        assert saved.version != load_taxonomy(SMALL).version
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
        assert planet.store.get_setting(ops.TEXT_KEY) is None  # the file, not the database
    finally:
        planet.close()


# ------------------------------------------------------------------ re-classification


def test_reclassify_files_every_post_records_the_version_and_bumps_pages(
    store: SqlStore, small: Taxonomy
) -> None:
    ids = _posts(store, ["BGP at home", "Wi-Fi at home", "Cooking"])
    before = store.get_setting(GENERATION_KEY)
    report = ops.reclassify(store, small, batch=2)
    assert (report.examined, report.changed, report.finished) == (3, 3, True)
    assert [store.get_entry(i).topic_slugs[0] for i in ids] == ["routing", "wireless", "other"]  # type: ignore[union-attr]
    assert store.topic_counts() == {"routing": 1, "wireless": 1, "other": 1}
    assert store.get_setting(ops.VERSION_KEY) == small.version
    assert store.get_setting(GENERATION_KEY) != before
    assert ops.reclassify(store, small).up_to_date
    again = ops.reclassify(store, small, everything=True)
    assert (again.examined, again.changed) == (3, 0)  # nothing to write


def test_reclassify_keeps_an_operators_topics(store: SqlStore, small: Taxonomy) -> None:
    a, b = _posts(store, ["BGP at home", "OSPF at home"])
    ops.override_topics(store, small, b, "wireless", ["other"])
    ops.reclassify(store, small)
    kept = store.get_entry(b)
    assert kept is not None and kept.topic_slugs == ("wireless", "other") and kept.topics_manual
    assert store.get_entry(a).topic_slugs == ("routing",)  # type: ignore[union-attr]
    assert ops.automatic_topics(store, small, b) == ("routing",)
    back = store.get_entry(b)
    assert back is not None and not back.topics_manual


def test_an_override_survives_an_edit_of_the_post(store: SqlStore, small: Taxonomy) -> None:
    src = store.add_source(spec(1))
    post = make_entry(src.id, 1, title="BGP at home")
    store.apply_update(plan(src.id, (post,)))
    entry_id = store.list_entries()[0].id
    ops.override_topics(store, small, entry_id, "wireless", [])
    edited = dataclasses.replace(post, title="BGP at home, revised", topics=(("routing", 0.5),))
    store.apply_update(plan(src.id, changed_entries=((entry_id, edited),)))
    assert store.get_entry(entry_id).topic_slugs == ("wireless",)  # type: ignore[union-attr]


def test_overrides_are_checked(store: SqlStore, small: Taxonomy) -> None:
    (entry_id,) = _posts(store, ["BGP"])
    for primary, secondary, message in (
        ("", [], "primary"),
        ("nope", [], "no topic 'nope'"),
        ("routing", ["routing"], "once"),
        ("routing", ["wireless", "other", "x"], "no topic 'x'"),
    ):
        with pytest.raises(UsageError, match=message):
            ops.override_topics(store, small, entry_id, primary, secondary)


def test_a_stopped_run_goes_on_where_it_stopped(store: SqlStore, small: Taxonomy) -> None:
    ids = _posts(store, ["BGP one", "BGP two", "BGP three", "BGP four", "BGP five"])
    batches: list[int] = []

    def stop() -> bool:
        return len(batches) >= 2

    first = ops.reclassify(
        store, small, batch=2, on_batch=lambda done, last: batches.append(done), stop=stop
    )
    assert (first.examined, first.finished) == (4, False)
    assert store.get_setting(ops.VERSION_KEY) is None  # not done yet
    assert ops.needs_reclassify(store, small)
    second = ops.reclassify(store, small, batch=2)
    assert (second.resumed_after, second.examined, second.finished) == (ids[3], 1, True)
    assert not ops.needs_reclassify(store, small)
    assert all(store.get_entry(i).topic_slugs == ("routing",) for i in ids)  # type: ignore[union-attr]


def test_run_reclassifies_at_start_when_the_version_changed(
    store: SqlStore, small: Taxonomy, caplog: pytest.LogCaptureFixture
) -> None:
    (entry_id,) = _posts(store, ["OSPF"])
    with caplog.at_level(logging.INFO, logger="netplanet.runtime.service"):
        reclassify_if_needed(store, small)
    assert "re-classifying stored posts with taxonomy" in caplog.text
    assert "re-classified 1 posts" in caplog.text
    assert store.get_entry(entry_id).topic_slugs == ("routing",)  # type: ignore[union-attr]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="netplanet.runtime.service"):
        reclassify_if_needed(store, small)  # same version: nothing to do, nothing said
    assert caplog.text == ""


def test_explain_gives_the_evidence(store: SqlStore, small: Taxonomy) -> None:
    (entry_id,) = _posts(store, ["BGP and Wi-Fi"])
    found = ops.explain(store, small, entry_id)
    assert {(ev.topic, ev.term, ev.field) for ev in found.classification.evidence} >= {
        ("routing", "bgp", "title"),
        ("wireless", "wi-fi", "title"),
    }
    assert not found.current  # stored before any classification
    ops.reclassify(store, small)
    assert ops.explain(store, small, entry_id).current


def test_reclassifying_a_new_post_with_the_same_taxonomy_changes_nothing(
    store: SqlStore,
) -> None:
    bundled = load_taxonomy(None)
    src = store.add_source(spec(1, title="Segment Routed", category="Routing"))
    long_text = "<p>" + " ".join(["An OSPF area design note, with a Wi-Fi aside."] * 300) + "</p>"
    body = RSS.replace(
        b"<description>Stub areas.</description>",
        b"<description><![CDATA[" + long_text.encode() + b"]]></description>",
    )
    done = digest(
        body,
        content_type="application/rss+xml",
        url="https://blog.example.net/feed",
        source_id=src.id,
        source_category=src.category,
        now=__import__("builders").NOW,
        excerpt_words=50,
        classifier=Classifier(bundled),
        source_title=src.display_title,
    )
    assert all(e.topics for e in done.entries)
    store.apply_update(plan(src.id, done.entries))
    report = ops.reclassify(store, bundled)
    assert (report.examined, report.changed) == (2, 0)  # the same inputs, the same topics


def test_a_running_planet_picks_up_a_saved_taxonomy_and_keeps_a_broken_one_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    target = tmp_path / "topics.toml"
    target.write_text(SMALL.read_text())
    planet = Planet(Settings(data_dir=tmp_path, topics_file=str(target)))
    try:
        first = planet.taxonomy()
        monkeypatch.setattr(ops, "TAXONOMY_CHECK_S", 0.0)
        assert planet.taxonomy() is first  # unchanged: not read again
        edited = SMALL.read_text().replace('"ospf"]', '"ospf", "is-is"]')
        ops.save_taxonomy(planet.settings, planet.store, edited)
        second = planet.taxonomy()
        assert second.version != first.version
        target.write_text("broken = [")
        with caplog.at_level(logging.ERROR, logger="netplanet.planet"):
            assert planet.taxonomy() is second
        assert "cannot be used" in caplog.text
    finally:
        planet.close()


def test_run_reclassifies_when_the_taxonomy_file_changes_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import threading

    from netplanet.runtime.service import keep_classified

    target = tmp_path / "topics.toml"
    target.write_text(SMALL.read_text())
    planet = Planet(Settings(data_dir=tmp_path, topics_file=str(target)))
    monkeypatch.setattr(ops, "TAXONOMY_CHECK_S", 0.0)
    try:
        (entry_id,) = _posts(planet.store, ["Notes on IS-IS levels"])

        async def scenario() -> tuple[tuple[str, ...], tuple[str, ...]]:
            stop, halt = asyncio.Event(), threading.Event()
            task = asyncio.create_task(
                keep_classified(planet.store, planet.taxonomy, stop, halt, every_s=0.01)
            )
            for _ in range(500):  # at start: classified with the file as it is
                await asyncio.sleep(0.01)
                if not ops.needs_reclassify(planet.store, planet.taxonomy()):
                    break
            before = planet.store.get_entry(entry_id).topic_slugs  # type: ignore[union-attr]
            target.write_text(SMALL.read_text().replace('"ospf"]', '"ospf", "is-is"]'))
            for _ in range(500):  # edited while running: classified again, without a restart
                await asyncio.sleep(0.01)
                entry = planet.store.get_entry(entry_id)
                if entry is not None and entry.topic_slugs != before:
                    break
            stop.set()
            await task
            after = planet.store.get_entry(entry_id).topic_slugs  # type: ignore[union-attr]
            return before, after

        before, after = asyncio.run(scenario())
        assert before == ("other",) and after == ("routing",)
        assert not ops.needs_reclassify(planet.store, planet.taxonomy())
    finally:
        planet.close()


def test_reclassify_labels_podcasts_stored_without_the_label(
    store: SqlStore, small: Taxonomy
) -> None:
    from netplanet.model import Enclosure

    src = store.add_source(spec(1))
    audio = Enclosure("https://cdn.example.net/ep1.mp3", "audio/mpeg", 100)
    posts = (
        make_entry(src.id, 1, title="Show notes", enclosure=audio, podcast=False),
        make_entry(src.id, 2, title="Episode 7: BGP", podcast=False),
        make_entry(src.id, 3, title="A plain post", podcast=True),  # wrongly labelled before
    )
    store.apply_update(plan(src.id, posts))
    report = ops.reclassify(store, small)
    assert report.relabelled == 3
    by_title = {e.title: e.podcast for e in store.list_entries()}
    assert by_title == {"Show notes": True, "Episode 7: BGP": True, "A plain post": False}
    assert ops.reclassify(store, small, everything=True).relabelled == 0
