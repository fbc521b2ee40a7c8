"""Labels from a post's own evidence: podcast/video episodes (enrich/labels.py) and
sponsorship disclosures opening the text (enrich/sponsored.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from netplanet.enrich import enrich_entry
from netplanet.enrich.labels import is_podcast, media_enclosure, video_link
from netplanet.enrich.sponsored import is_sponsored
from netplanet.model import Enclosure, Entry, ParsedEntry

MP3 = Enclosure("https://cdn.example.net/show/ep12.mp3", "audio/mpeg", 1234)


@pytest.mark.parametrize(
    "enclosure",
    [
        MP3,
        Enclosure("https://cdn.example.net/v/talk.mp4", "video/mp4", None),
        Enclosure("https://cdn.example.net/show/ep12.m4a", "", None),  # no type: by file name
        Enclosure("https://cdn.example.net/show/ep12.opus", "application/octet-stream", None),
    ],
)
def test_a_media_enclosure_makes_an_episode(enclosure: Enclosure) -> None:
    assert media_enclosure(enclosure)
    assert is_podcast(title="Plain title", enclosure=enclosure)


@pytest.mark.parametrize(
    "enclosure",
    [
        None,
        Enclosure("https://blog.example.net/slides.pdf", "application/pdf", 10),
        Enclosure("https://blog.example.net/diagram.png", "image/png", 10),
        Enclosure("https://blog.example.net/a.mp3.html", "text/html", 10),  # typed, not media
    ],
)
def test_other_enclosures_do_not(enclosure: Enclosure | None) -> None:
    assert not media_enclosure(enclosure)
    assert not is_podcast(title="Plain title", enclosure=enclosure)


def test_an_itunes_duration_makes_an_episode() -> None:
    assert is_podcast(title="Plain title", duration_s=1800)
    assert not is_podcast(title="Plain title", duration_s=0)
    assert not is_podcast(title="Plain title", duration_s=None)


@pytest.mark.parametrize(
    ("url", "video"),
    [
        ("https://www.youtube.com/watch?v=abc123", True),
        ("https://youtu.be/abc123", True),
        ("https://www.youtube.com/shorts/abc123", True),
        ("https://vimeo.com/123456", True),
        ("https://www.youtube.com/@somechannel", False),  # a channel, not a video
        ("https://www.youtube.com/", False),
        ("https://vimeo.com/", False),
        ("https://blog.example.net/watch?v=1", False),
        ("https://youtube.com.evil.example/watch?v=1", False),
    ],
)
def test_video_pages_are_episodes(url: str, video: bool) -> None:
    assert video_link(url) is video
    assert is_podcast(title="Plain title", url=url) is video


@pytest.mark.parametrize(
    "title",
    [
        "Episode 212: EVPN in the real world",
        "Heavy Networking Ep. 45 – segment routing",
        "#212 – Route leaks with a guest",
        "E12: Wi-Fi 7",
        "Network Break episode #480",
    ],
)
def test_episode_numbers_in_titles(title: str) -> None:
    assert is_podcast(title=title)


@pytest.mark.parametrize(
    "text",
    [
        "In this episode we talk to an operator about RPKI.",
        "On today's episode: the state of IPv6 in mobile networks.",
        "Welcome to episode 12! Our guest runs a large IXP.",
        "This week on the podcast, QUIC in production.",
    ],
)
def test_show_notes_openings(text: str) -> None:
    assert is_podcast(title="RPKI with a guest", text=text)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        # Posts about podcasts, or merely mentioning episodes, are not episodes.
        ("We launched podcast analytics for hosts", "Podcast hosts can now see listener counts."),
        ("My favourite networking podcasts", "A list of podcasts I listen to on my commute."),
        ("The three episodes of our outage", "It happened in three episodes over one night."),
        ("Part 3: BGP communities", "In part 3 of this series we look at communities."),
        ("Shipping 2.0", "x " * 400 + "In this episode of our changelog we look back."),
    ],
)
def test_posts_about_podcasts_are_not_episodes(title: str, text: str) -> None:
    assert not is_podcast(title=title, text=text, url="https://blog.example.net/post")


@pytest.mark.parametrize(
    "text",
    [
        "Sponsored by Acme Networks. Acme makes switches for data centres.",
        "Sponsored: a look at Acme's new firewall.",
        "[Sponsored post] Acme explains its SASE offering.",
        "This post is sponsored by Acme. Thanks to them for supporting the blog.",
        "This article was sponsored by Acme.",
        "This is a sponsored post from Acme.",
        "Paid post: Acme on observability.",
    ],
)
def test_a_disclosure_opening_the_text_is_sponsored(text: str) -> None:
    assert is_sponsored("Plain title", (), text)


@pytest.mark.parametrize(
    "text",
    [
        "Our meetup was sponsored by Acme, thanks!",  # not an opening disclosure
        "x " * 120 + "This post is sponsored by Acme.",  # too far down
        "This episode is brought to you by Acme.",  # a podcast's ad read
        "Sponsorship tiers for the conference are out.",
        "Sponsored links are a plague of search engines.",
        "",
    ],
)
def test_other_mentions_of_sponsorship_are_not(text: str) -> None:
    assert not is_sponsored("Plain title", (), text)


def _enriched(**fields: object) -> Entry:
    values: dict[str, object] = {
        "guid": "g1",
        "link": "https://blog.example.net/p/1",
        "title": "A post",
        "content_html": "<p>Some words about networks.</p>",
    }
    values.update(fields)
    return enrich_entry(
        ParsedEntry(**values),  # type: ignore[arg-type]
        source_id=1,
        source_category="Networking",
        base_url="https://blog.example.net/",
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )


def test_enrich_entry_sets_the_labels() -> None:
    plain = _enriched()
    assert not plain.podcast and not plain.sponsored
    assert plain.topics == ()  # no taxonomy given: none
    assert _enriched(enclosures=(MP3,)).podcast
    assert _enriched(duration_s=600).podcast
    assert _enriched(link="https://www.youtube.com/watch?v=abc").podcast
    disclosed = _enriched(content_html="<p>Sponsored by Acme. Acme builds routers.</p>")
    assert disclosed.sponsored


@pytest.mark.parametrize(
    "text",
    [
        "IN THIS EPISODE we look at",
        "In this epi\u017fode we look at",
        "In th\u0131s EP\u0130SODE",
        "Welcome to the SHOW",
        "This week on the Podcast",
        "  Listen now: the notes",
    ],
)
def test_opening_cues_match_whatever_the_case(text: str) -> None:
    # The opening is read case-insensitively, as Unicode folds case (long s, dotless i).
    assert is_podcast(title="Notes", text=text)
