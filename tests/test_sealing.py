"""Every writer seals: whatever stores entries leaves the numbered archive pages in place.

`netplanet update` run from cron and `netplanet serve` (no scheduler in the web process) is a
supported deployment, so the update round itself must seal, not only `run` and `worker`.
"""

from __future__ import annotations

import pytest

from builders import cli
from feedserver import FeedServer, rss
from netplanet.settings import Settings
from netplanet.store import open_store
from netplanet.web.app import create_app
from test_web_client import Client


def test_update_then_serve_has_numbered_pages(
    capsys: pytest.CaptureFixture[str],
    database: str,
    loopback: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NETPLANET_ALLOW_PRIVATE_NETWORKS", "1")
    # Twelve posts from November 2026: weeks old by the time the suite runs.
    posts = [(f"p{n}", f"Loopback post {n}", f"<p>Body {n}.</p>") for n in range(12)]
    loopback.static("/feed.xml", rss(posts))
    code, _, _ = cli(capsys, "--database", database, "sources", "add", loopback.url("/feed.xml"))
    assert code == 0
    code, out, _ = cli(capsys, "--database", database, "update")
    assert code == 0, out

    store = open_store(database)
    try:
        client = Client(create_app(store, Settings(), page_size=5, nav_ttl=0.0))
        first = client.get("/page/1")
        assert first.status == 200
        assert "Loopback post 0" in first.text
        assert client.get("/page/2").status == 200
    finally:
        store.close()
