"""Ids and numbers in URLs: anything that is not a positive integer within the 64-bit signed
range is a 404 (or, in an optional query parameter, ignored), never a 500, on SQLite and
PostgreSQL. The tests walk the app's route table, so a new route is covered when it is added.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.convertors import IntegerConvertor
from starlette.routing import Route

from builders import make_entry, plan, spec
from netplanet.store import SqlStore
from netplanet.web import ids
from test_admin import AdminClient, client, clock, csrf_of, signed_in  # noqa: F401 - fixtures

ID_MAX = 2**63 - 1
# Path values that are not ids: zero, signs, leading zeros, non-ASCII digits, 2**63 and up,
# and a number too long for int() to convert at all.
NOT_IDS = [
    "0",
    "-1",
    "+1",
    "007",
    "1e3",
    "1.0",
    "%D9%A3",  # ٣, an Arabic-Indic digit that int() would accept
    "%C2%B2",  # ², a superscript that str.isdigit() accepts and int() refuses
    str(ID_MAX + 1),
    "9223372036854775808",
    "18446744073709551616",
    "1" + "0" * 30,
    "9" * 5000,
]
# Valid ids that no row has: beyond PostgreSQL's 32-bit integer too.
UNKNOWN_IDS = ["999999", str(2**31), str(2**32 + 1), str(ID_MAX)]
# Optional query parameters that carry ids or numbers.
QUERIES = [
    "added={}",
    "page={}",
    "before=2026-11-01T10:00:00Z_{}",
]


def _routes(app: Any) -> list[Route]:
    return [r for r in app.routes if isinstance(r, Route)]


def _number_params(route: Route) -> dict[str, Any]:
    return {
        name: conv
        for name, conv in route.param_convertors.items()
        if isinstance(conv, IntegerConvertor | ids.IdConvertor | ids.NumberConvertor)
    }


def _fill(route: Route, values: dict[str, str], slugs: dict[str, str]) -> str:
    path = route.path
    for name in route.param_convertors:
        value = values.get(name) or slugs.get(name, "x")
        path = re.sub(r"\{" + name + r"(:[a-z]+)?\}", value, path)
    return path


@pytest.fixture
def planet_client(client: AdminClient, store: SqlStore) -> AdminClient:  # noqa: F811
    src = store.add_source(spec(1))
    store.apply_update(plan(src.id, tuple(make_entry(src.id, n) for n in range(1, 4))))
    signed_in(client)
    return client


def _app(web: AdminClient) -> Any:
    return web._client._transport.app  # type: ignore[attr-defined]


SLUGS = {"slug": "networking", "name": "style.css"}


def test_no_route_uses_starlettes_unbounded_int(planet_client: AdminClient) -> None:
    unbounded = [
        r.path
        for r in _routes(_app(planet_client))
        for conv in r.param_convertors.values()
        if isinstance(conv, IntegerConvertor)
    ]
    assert unbounded == [], "use {name:id} (ids, pages) or {name:num} (dates) instead"


@pytest.mark.parametrize("value", NOT_IDS + UNKNOWN_IDS)
def test_every_numeric_path_parameter_is_404_out_of_range(
    planet_client: AdminClient, value: str
) -> None:
    checked = 0
    for route in _routes(_app(planet_client)):
        params = _number_params(route)
        if not params or "GET" not in (route.methods or {"GET"}):
            continue
        for name in params:
            url = _fill(route, {name: value}, SLUGS)
            reply = planet_client.get(url, follow_redirects=False)
            assert reply.status_code == 404, (url, reply.status_code, reply.text[:200])
            checked += 1
    assert checked >= 5  # posts, pages, category pages, archives, admin sources


@pytest.mark.parametrize("value", NOT_IDS + UNKNOWN_IDS)
def test_admin_source_post_with_bad_id_is_404(planet_client: AdminClient, value: str) -> None:
    csrf = csrf_of(planet_client.get("/admin/").text)
    reply = planet_client.post(
        f"/admin/sources/{value}", data={"csrf": csrf, "action": "save", "title": "t"}
    )
    assert reply.status_code == 404, reply.text[:200]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("value", ["0", "-1", "%D9%A3", str(ID_MAX + 1), "9" * 5000, str(2**31)])
def test_numeric_query_parameters_never_fail(
    planet_client: AdminClient, query: str, value: str
) -> None:
    for route in _routes(_app(planet_client)):
        if "GET" not in (route.methods or {"GET"}) or route.path.startswith("/static"):
            continue
        url = _fill(route, {}, SLUGS) + "?" + query.format(value)
        reply = planet_client.get(url, follow_redirects=False)
        assert reply.status_code < 500, (url, reply.status_code, reply.text[:200])


def test_known_ids_still_work(planet_client: AdminClient, store: SqlStore) -> None:
    entry = store.list_entries(limit=1)[0]
    assert planet_client.get(f"/post/{entry.id}/").status_code == 200
    assert planet_client.get(f"/admin/sources/{entry.source_id}").status_code == 200
    page = planet_client.get(f"/admin/?added={entry.source_id}")
    assert "Added Example Blog 1" in page.text
    assert planet_client.get(f"/admin/?added={ID_MAX + 1}").status_code == 200


def test_store_lookups_by_out_of_range_id_find_nothing(store: SqlStore) -> None:
    for value in (0, -1, 2**31, ID_MAX, ID_MAX + 1, 10**30):
        assert store.get_entry(value) is None
        assert store.get_source(value) is None


@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_id_pattern_matches_exactly_the_valid_ids(value: int) -> None:
    text = str(value)
    assert ids.parse_id(text) == (value if 1 <= value <= ID_MAX else None)
    assert ids.parse_id("0" + text) is None  # never a leading zero


@given(st.text(max_size=25))
def test_parse_id_refuses_any_other_text(text: str) -> None:
    parsed = ids.parse_id(text)
    if parsed is not None:
        assert str(parsed) == text and 1 <= parsed <= ID_MAX
