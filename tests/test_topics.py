"""The topic taxonomy (netplanet/data/topics.toml, or an operator's copy) and `classify`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplanet.enrich.topics import (
    FALLBACK_SCORE,
    TEXT_WORDS,
    Classification,
    Taxonomy,
    classify,
    default_taxonomy_path,
    load_taxonomy,
    parse_taxonomy,
)
from netplanet.errors import ConfigError

REQUIRED = (
    "routing",
    "datacenter",
    "security",
    "cloud-native",
    "automation",
    "observability",
    "internet",
    "wireless",
    "wan",
    "industry",
)

SMALL = """
fallback = "other"

[[topic]]
slug = "cats"
name = "Cats"
description = "Posts about cats."
strong = ["tabby cat"]
terms = ["cat", "kitten"]

[[topic]]
slug = "dogs"
name = "Dogs"
description = "Posts about dogs."
terms = ["dog", "puppy", "dog food"]
weak = ["leash"]

[[topic]]
slug = "other"
name = "Other"
description = "Everything else."
terms = ["pet"]
"""


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def _check(result: Classification, taxonomy: Taxonomy) -> None:
    """The promises every classification keeps."""
    assert 1 <= len(result.topics) <= 3
    slugs = [slug for slug, _ in result.topics]
    assert len(set(slugs)) == len(slugs)
    assert all(taxonomy.get(slug) is not None for slug in slugs)
    scores = [score for _, score in result.topics]
    assert all(0 < score <= 1 for score in scores)
    assert scores == sorted(scores, reverse=True)  # primary first
    weights = [e.weight for e in result.evidence]
    assert weights == sorted(weights, reverse=True)  # strongest first
    assert {e.topic for e in result.evidence} <= set(slugs)


# ---------------------------------------------------------------- the bundled taxonomy


def test_bundled_taxonomy_has_every_topic_of_the_issue(taxonomy: Taxonomy) -> None:
    assert taxonomy.slugs == REQUIRED
    assert taxonomy.fallback == "industry"
    for topic in taxonomy.topics:
        assert topic.name and topic.description and "\n" not in topic.description
        assert taxonomy.get(topic.slug) is topic
    assert taxonomy.get("no-such-topic") is None


def test_bundled_taxonomy_is_generous(taxonomy: Taxonomy) -> None:
    """Hundreds of terms, with phrases, for every topic (real posts use many words)."""
    for topic in taxonomy.topics:
        terms = [term for term, _ in topic.weighted_terms()]
        assert len(terms) >= 80, topic.slug
        assert sum(" " in term for term in terms) >= 10, topic.slug


def test_bundled_taxonomy_is_package_data() -> None:
    path = default_taxonomy_path()
    assert path.name == "topics.toml" and path.is_file()
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["setuptools"]["package-data"]["netplanet"]
    assert "data/*" in shipped


def test_load_taxonomy_none_is_the_bundled_file(taxonomy: Taxonomy) -> None:
    assert load_taxonomy(default_taxonomy_path()) == taxonomy


# ---------------------------------------------------------------- validation


def _error(text: str, origin: str = "/etc/netplanet/topics.toml") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_taxonomy(text, origin=origin)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(origin)
    return message


def _small(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_small('slug = "cats"', 'slug = "cats'), "not valid TOML"),
        (_small('slug = "cats"\n', ""), "missing slug"),
        (_small('name = "Dogs"\n', ""), "topic 'dogs': missing name"),
        (_small('slug = "cats"', 'slug = "Cats!"'), "may hold only lowercase"),
        (_small('slug = "cats"', 'slug = "cats-"'), "may hold only lowercase"),
        (_small('slug = "dogs"', 'slug = "cats"'), "duplicate slug 'cats'"),
        (_small('fallback = "other"', 'fallback = "birds"'), "fallback 'birds' is not"),
        (_small('terms = ["pet"]', "terms = []"), "topic 'other': empty term list"),
        (_small('terms = ["pet"]', 'weak = ["pet"]'), "topic 'other': empty term list"),
        (_small('terms = ["pet"]', 'terms = ["network"]'), "'network' is too generic"),
        (_small('terms = ["pet"]', 'terms = ["pet", "Pets!"]'), None),  # a plural is no dup
        (_small('terms = ["pet"]', 'terms = ["pet", "PET"]'), "listed twice"),
        (_small('terms = ["pet"]', 'terms = ["--"]'), "no letters or digits"),
        (_small('terms = ["pet"]', 'terms = ["pet", "/24"]'), "'/24' is a number alone"),
        (_small('terms = ["pet"]', 'terms = ["pet", "802.11"]'), None),
        (_small('terms = ["pet"]', 'terms = "pet"'), "must be a list of strings"),
        (_small('terms = ["pet"]', 'term = ["pet"]'), "unknown key 'term'"),
        (_small('fallback = "other"', 'fallback = "other"\ncolour = "red"'), "unknown key"),
        ('fallback = "other"\n', "no [[topic]] tables"),
    ],
)
def test_invalid_taxonomy_is_one_line_naming_the_file(text: str, expected: str | None) -> None:
    if expected is None:
        assert parse_taxonomy(text).slugs == ("cats", "dogs", "other")
        return
    assert expected in _error(text)


def test_toml_syntax_error_names_the_line() -> None:
    message = _error(_small('name = "Dogs"', 'name = "Dogs'))
    assert "at line 13" in message


def test_topic_error_names_the_topic_and_its_line() -> None:
    message = _error(_small('terms = ["pet"]', 'terms = ["pet", "internet"]'))
    assert "line 22 (topic #3): topic 'other': term 'internet' is too generic" in message


@pytest.mark.parametrize("kind", ["missing", "directory", "not utf-8"])
def test_unreadable_file_is_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "topics.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "not utf-8":
        path.write_bytes(b'fallback = "\xff"\n')
    with pytest.raises(ConfigError) as caught:
        load_taxonomy(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and "topics_file" in message


# ---------------------------------------------------------------- an operator's file


def test_an_operator_file_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(SMALL, encoding="utf-8")
    mine = load_taxonomy(str(path))
    assert mine.slugs == ("cats", "dogs", "other") and mine.fallback == "other"
    result = classify(mine, title="Our new puppy", text="The puppy chewed the leash.")
    assert result.topics[0][0] == "dogs"
    assert classify(mine, title="BGP route leaks", text="").topics == (("other", FALLBACK_SCORE),)


def test_version_follows_what_classifies() -> None:
    base = parse_taxonomy(SMALL).version
    assert base == parse_taxonomy(SMALL).version  # stable
    assert len(base) == 12
    changed_term = parse_taxonomy(_small('"puppy"', '"hound"')).version
    moved_term = parse_taxonomy(_small('weak = ["leash"]', 'strong = ["leash"]')).version
    new_fallback = parse_taxonomy(_small('fallback = "other"', 'fallback = "dogs"')).version
    assert len({base, changed_term, moved_term, new_fallback}) == 4
    # Display text and spelling variants of the same words do not re-classify anything.
    assert parse_taxonomy(_small("Posts about cats.", "Cat posts.")).version == base
    assert parse_taxonomy(_small('"tabby cat"', '"Tabby-Cat"')).version == base


# ---------------------------------------------------------------- classify


def test_classify_is_deterministic(taxonomy: Taxonomy) -> None:
    post = {
        "title": "EVPN multihoming on a leaf-spine fabric",
        "text": "We replace MLAG with EVPN ESI multihoming. " * 20,
        "tags": ("Data Center", "BGP"),
        "source": "ipSpace.net blog Networking",
    }
    first = classify(taxonomy, **post)  # type: ignore[arg-type]
    assert first == classify(taxonomy, **post)  # type: ignore[arg-type]
    assert first == classify(load_taxonomy(), **post)  # type: ignore[arg-type]
    assert first.topics[0][0] == "datacenter"
    _check(first, taxonomy)


@pytest.mark.parametrize(
    ("title", "text", "primary"),
    [
        ("Why BGP route reflectors stay out of the forwarding path", "", "routing"),
        ("A route leak took down a CDN for an hour", "RPKI would not have helped.", "routing"),
        ("Ransomware gang leaks stolen hospital data", "", "security"),
        ("Calico network policies for Kubernetes egress", "", "cloud-native"),
        ("Populating NetBox with Nornir", "A script fills the source of truth.", "automation"),
        ("Some tcpdump filters I keep forgetting", "", "observability"),
        ("IPv6 adoption passes 50% in three economies", "", "internet"),
        ("Wi-Fi 7 multi-link operation, explained", "", "wireless"),
        ("Replacing MPLS circuits with SD-WAN at 40 branches", "", "wan"),
        ("HPE closes its Juniper acquisition", "The CEO talked about revenue.", "industry"),
    ],
)
def test_clear_posts_get_their_topic(
    taxonomy: Taxonomy, title: str, text: str, primary: str
) -> None:
    result = classify(taxonomy, title=title, text=text)
    assert result.topics[0][0] == primary
    _check(result, taxonomy)


def test_at_most_three_topics_primary_first(taxonomy: Taxonomy) -> None:
    title = "BGP, Wi-Fi, Kubernetes, DNS, SD-WAN and ransomware in one post"
    result = classify(taxonomy, title=title, text="")
    assert len(result.topics) == 3
    _check(result, taxonomy)


def test_weak_secondaries_are_left_out(taxonomy: Taxonomy) -> None:
    text = "OSPF areas and LSA types, with one word on Ansible. " + "OSPF adjacency. " * 30
    result = classify(taxonomy, title="OSPF area design with IS-IS and BGP", text=text)
    assert [slug for slug, _ in result.topics] == ["routing"]


def test_fallback_when_nothing_matches(taxonomy: Taxonomy) -> None:
    result = classify(taxonomy, title="Lunch", text="We had soup and then a walk.")
    assert result.topics == (("industry", FALLBACK_SCORE),)
    assert result.evidence == ()


def test_empty_post_gets_the_fallback(taxonomy: Taxonomy) -> None:
    assert classify(taxonomy, title="", text="").topics == (("industry", FALLBACK_SCORE),)


def test_generic_words_alone_do_not_classify(taxonomy: Taxonomy) -> None:
    result = classify(
        taxonomy,
        title="Network traffic through a router on the internet",
        text="The network sends packets and data to servers and devices over IP. " * 10,
        tags=("Networking", "Technology"),
    )
    assert result.topics == (("industry", FALLBACK_SCORE),)


def test_evidence_names_terms_fields_and_weights(taxonomy: Taxonomy) -> None:
    result = classify(
        taxonomy,
        title="Route leak at a transit provider",
        text="The leak reached RPKI-invalid routes and BGP peers dropped them.",
        tags=("BGP",),
        source="APNIC Blog Internet & Routing",
    )
    assert result.topics[0][0] == "routing"
    found = {(e.topic, e.term, e.field) for e in result.evidence}
    assert ("routing", "route leak", "title") in found
    assert ("routing", "bgp", "tags") in found
    assert ("routing", "bgp", "text") in found
    assert ("routing", "routing", "source") in found
    strongest = result.evidence[0]
    assert (strongest.term, strongest.field, strongest.weight) == ("route leak", "title", 6.0)


def test_weak_terms_alone_do_not_classify() -> None:
    taxonomy = parse_taxonomy(SMALL)
    alone = classify(taxonomy, title="A new leash", text="The leash is red. " * 5)
    assert alone.topics == (("other", FALLBACK_SCORE),)
    company = classify(taxonomy, title="A new leash", text="For the dog.")
    assert company.topics[0][0] == "dogs"
    assert ("leash", "title") in {(e.term, e.field) for e in company.evidence}


def test_longest_phrase_wins_and_plurals_match() -> None:
    taxonomy = parse_taxonomy(SMALL)
    result = classify(taxonomy, title="Dog food for kittens", text="")
    found = {(e.term, e.topic) for e in result.evidence}
    assert found == {("dog food", "dogs"), ("kitten", "cats")}  # not "dog" as well


def test_the_title_outweighs_the_text_and_the_source_is_a_weak_prior(
    taxonomy: Taxonomy,
) -> None:
    source = "Krebs on Security Security"
    assert classify(taxonomy, title="", text="", source=source).topics[0][0] == "security"
    text = "A new access point. " + "Firewall rules. " * 2
    result = classify(taxonomy, title="Wi-Fi 7 explained", text=text, source=source)
    assert result.topics[0][0] == "wireless"


def test_only_the_start_of_long_fields_is_read(taxonomy: Taxonomy) -> None:
    filler = "lorem " * 200
    assert classify(taxonomy, title=filler + "BGP", text="").topics[0][0] == "industry"
    assert classify(taxonomy, title="", text="", tags=[filler + "BGP"]).topics[0][0] == "industry"
    many = [f"tag {i}" for i in range(100)] + ["BGP"]
    assert classify(taxonomy, title="", text="", tags=many).topics[0][0] == "industry"
    assert classify(taxonomy, title="", text="", source=filler + "MANRS").topics[0][0] == "industry"


def test_only_the_start_of_a_long_text_is_read(taxonomy: Taxonomy) -> None:
    filler = "lorem ipsum " * TEXT_WORDS
    late = classify(taxonomy, title="Notes", text=filler + "BGP OSPF IS-IS MPLS " * 50)
    assert late.topics == (("industry", FALLBACK_SCORE),)
    early = classify(taxonomy, title="Notes", text="BGP OSPF IS-IS MPLS " * 50 + filler)
    assert early.topics[0][0] == "routing"


_ANY = st.characters(blacklist_categories=())  # lone surrogates and controls too


@settings(max_examples=300, deadline=None)
@given(
    title=st.text(_ANY, max_size=200),
    text=st.text(_ANY, max_size=3000),
    tags=st.lists(st.text(_ANY, max_size=40), max_size=5),
    source=st.text(_ANY, max_size=80),
)
def test_any_input_gives_one_to_three_topics(
    title: str, text: str, tags: list[str], source: str
) -> None:
    taxonomy = _BUNDLED
    result = classify(taxonomy, title=title, text=text, tags=tags, source=source)
    _check(result, taxonomy)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(["bgp", "wi-fi", "dns", "the", "Kubernetes", "ceo"])))
def test_term_soup_gives_one_to_three_topics(words: list[str]) -> None:
    result = classify(_BUNDLED, title=" ".join(words[:8]), text=" ".join(words))
    _check(result, _BUNDLED)


_BUNDLED = load_taxonomy()


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.sampled_from(["bgp", "wi-fi", "dns", "the", "Kubernetes", "ceo", "rpki"])),
    tags=st.lists(st.sampled_from(["BGP", "Security", "DNS", "news"]), max_size=3),
)
def test_topics_without_evidence_are_the_same_topics(words: list[str], tags: list[str]) -> None:
    post = {"title": " ".join(words[:8]), "text": " ".join(words), "tags": tags}
    full = classify(_BUNDLED, **post)  # type: ignore[arg-type]
    bare = classify(_BUNDLED, **post, evidence=False)  # type: ignore[arg-type]
    assert bare.topics == full.topics
    assert bare.evidence == ()


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=80),
    text=st.text(max_size=600),
    tags=st.lists(st.text(max_size=20), max_size=4),
)
def test_classify_with_the_words_cut_once_is_classify(
    taxonomy: Taxonomy, title: str, text: str, tags: list[str]
) -> None:
    """The update cuts a post's opening into words once (for the story signature too) and
    hands them over; a source line and tags are matched once per taxonomy and kept."""
    from netplanet.enrich.topics import opening_words

    plain = classify(taxonomy, title=title, text=text, tags=tags, source="Blog · Networking")
    again = classify(taxonomy, title=title, text=text, tags=tags, source="Blog · Networking")
    given_words = classify(
        taxonomy,
        title=title,
        text=text,
        tags=tags,
        source="Blog · Networking",
        words=opening_words(text),
    )
    assert plain == again == given_words
