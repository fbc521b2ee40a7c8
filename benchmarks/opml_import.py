"""OPML import: a generated N-outline OPML through `netplanet sources import` and the admin.

    .venv/bin/python benchmarks/opml_import.py [--outlines N] [--postgres URL] [--src DIR]
                                               [--skip-admin] [--record LABEL]

What it measures, on SQLite (and PostgreSQL with --postgres, in a schema of its own):
1. CLI: wall time of `netplanet sources import FILE` into an empty database, start-up included,
   and the number of sources stored afterwards.
2. Admin: `netplanet serve` on 127.0.0.1, signed in, the file uploaded to /admin/opml; the
   time until the import is finished (the POST, then the status page until it no longer says
   the import is running), while a second client asks for /healthz every 100 ms: its median
   and worst latency show whether the site kept answering.
3. Search page: time (median of 5 uncached queries, over loopback) and bytes of /search?q=...
   over the imported sources (the source filter used to list every source; they have no posts,
   so a filter that lists only sources with posts lists none).

The OPML is generated: N feed outlines in 50 folders, about 70 bytes each (3.5 MB for 50,000),
on distinct made-up hosts under example.net. `NETPLANET_OPML_MAX_OUTLINES` is set to N for the
runs, so the limit on outlines per import does not refuse the file. `--src DIR` puts DIR first
on PYTHONPATH of every netplanet process (to time another tree, e.g. an export of the commit
before a change). `--record LABEL` writes the table into docs/benchmarks.md under
"## OPML import" as "### LABEL" (other subsections are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DOCS, load_average, machine_line, src_commit, table, write_section

HEADING = "## OPML import"
PASSWORD = "benchmark password 1"
NETPLANET = Path(sys.executable).with_name("netplanet")


def make_opml(n: int, folders: int = 50) -> bytes:
    """N feed outlines in `folders` folders, compact like a feed reader's minimal export."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0"><head>'
        "<title>bench</title></head><body>\n"
    ]
    per = -(-n // folders)
    for f in range(folders):
        lo, hi = f * per, min(n, (f + 1) * per)
        if lo >= hi:
            break
        parts.append(f'<outline text="Folder {f}">\n')
        parts.extend(
            f'<outline text="Blog {i}" xmlUrl="https://b{i}.example.net/feed"/>\n'
            for i in range(lo, hi)
        )
        parts.append("</outline>\n")
    parts.append("</body></opml>\n")
    return "".join(parts).encode()


@dataclass
class Result:
    backend: str
    cli_s: float
    cli_sources: int
    admin_s: float | None = None
    admin_sources: int | None = None
    probe_p50_ms: float | None = None
    probe_max_ms: float | None = None
    probes: int = 0
    search_ms: float | None = None
    search_bytes: int | None = None


def _env(src: Path | None, n: int) -> dict[str, str]:
    env = {**os.environ, "NETPLANET_OPML_MAX_OUTLINES": str(n)}
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _count(url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM sources").scalar_one())
    finally:
        engine.dispose()


def run_cli(url: str, opml: Path, env: dict[str, str]) -> tuple[float, int]:
    init = [str(NETPLANET), "-q", "--database", url, "init", "--no-defaults"]
    subprocess.run(init, env=env, check=True)  # only init creates a database that is not there
    started = time.perf_counter()
    proc = subprocess.run(
        [str(NETPLANET), "-q", "--database", url, "sources", "import", str(opml)],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"CLI import failed with exit code {proc.returncode}")
    return elapsed, _count(url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    if not found:
        raise SystemExit("no CSRF token on the admin page")
    return found.group(1)


async def _admin_import(base: str, data: bytes) -> tuple[float, list[float]]:
    import httpx

    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=600) as other:
            while not done.is_set():
                t = time.perf_counter()
                r = await other.get("/healthz")
                latencies.append(time.perf_counter() - t)
                r.raise_for_status()
                await asyncio.sleep(0.1)

    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        page = await client.get("/admin/login")
        r = await client.post(
            "/admin/login",
            data={"csrf": _csrf(page.text), "password": PASSWORD, "next": "/admin/opml"},
        )
        csrf = _csrf((await client.get("/admin/opml")).text)
        prober = asyncio.create_task(probe())
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        r = await client.post(
            "/admin/opml",
            data={"csrf": csrf},
            files={"file": ("bench.opml", data, "text/x-opml")},
            follow_redirects=True,
        )
        if r.status_code != 200:
            raise SystemExit(f"admin import answered {r.status_code}: {r.text[:300]}")
        # A background import marks its status page; poll it until the import is over.
        while 'data-import-state="running"' in r.text:
            await asyncio.sleep(0.1)
            r = await client.get("/admin/opml")
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.3)
        done.set()
        await prober
    return elapsed, latencies


async def _search(base: str) -> tuple[float, int]:
    import httpx

    times: list[float] = []
    size = 0
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        for i in range(6):
            t = time.perf_counter()
            r = await client.get(f"/search?q=bgp{i}")
            r.raise_for_status()
            if i:  # the first request also pays for warming up
                times.append(time.perf_counter() - t)
            size = len(r.content)
    return statistics.median(times), size


def run_admin(url: str, data: bytes, env: dict[str, str], result: Result) -> None:
    init = [str(NETPLANET), "-q", "--database", url, "init", "--no-defaults"]
    subprocess.run(init, env=env, check=True)  # only init creates a database that is not there
    subprocess.run(
        [str(NETPLANET), "--database", url, "admin", "set-password", "--stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [str(NETPLANET), "--database", url, "serve", "--port", str(port)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("netplanet serve did not start") from None
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        elapsed, latencies = asyncio.run(_admin_import(base, data))
        result.admin_s = elapsed
        result.admin_sources = _count(url)
        result.probes = len(latencies)
        result.probe_p50_ms = statistics.median(latencies) * 1000 if latencies else None
        result.probe_max_ms = max(latencies) * 1000 if latencies else None
        result.search_ms, result.search_bytes = asyncio.run(_search(base))
        result.search_ms *= 1000
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _pg_schema(admin_url: str) -> tuple[str, str]:
    import sqlalchemy as sa

    schema = f"bench_opml_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    sep = "&" if "?" in admin_url else "?"
    return schema, f"{admin_url}{sep}options={quote(f'-csearch_path={schema}')}"


def _pg_drop(admin_url: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


def measure(backend: str, args: argparse.Namespace, data: bytes) -> Result:
    env = _env(args.src, args.outlines)
    with tempfile.TemporaryDirectory(prefix="np-opml-") as tmp:
        opml = Path(tmp) / "bench.opml"
        opml.write_bytes(data)
        urls: list[tuple[str, str | None]] = []

        def fresh() -> str:
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/{len(urls)}.db"
                urls.append((url, None))
            else:
                schema, url = _pg_schema(args.postgres)
                urls.append((url, schema))
            return url

        try:
            cli_s, cli_n = run_cli(fresh(), opml, env)
            print(f"  {backend} CLI: {cli_s:.1f} s, {cli_n} sources", file=sys.stderr)
            result = Result(backend, cli_s, cli_n)
            if not args.skip_admin:
                run_admin(fresh(), data, env, result)
                print(
                    f"  {backend} admin: {result.admin_s:.1f} s, {result.admin_sources} sources,"
                    f" /healthz p50 {result.probe_p50_ms:.0f} ms max {result.probe_max_ms:.0f}"
                    f" ms; /search {result.search_ms:.0f} ms {result.search_bytes} bytes",
                    file=sys.stderr,
                )
        finally:
            for _, schema in urls:
                if schema is not None:
                    _pg_drop(args.postgres, schema)
    return result


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def report(results: list[Result], args: argparse.Namespace, data: bytes, start_load: str) -> str:
    rows = [
        (
            r.backend,
            f"{r.cli_s:,.1f}",
            f"{r.cli_sources:,}",
            _fmt(r.admin_s, ",.1f"),
            _fmt(r.probe_p50_ms, ",.0f"),
            _fmt(r.probe_max_ms, ",.0f"),
            _fmt(r.search_ms, ",.0f"),
            _fmt(r.search_bytes, ","),
        )
        for r in results
    ]
    header = (
        "backend",
        "CLI import (s)",
        "sources stored",
        "admin import (s)",
        "/healthz during it, p50 (ms)",
        "max (ms)",
        "/search (ms)",
        "/search (bytes)",
    )
    return "\n".join(
        [
            f"Machine: {machine_line()}; load average {start_load} at start, "
            f"{load_average()} at the end. Code: "
            + (f"`{args.src}` first on PYTHONPATH" if args.src else f"`src/` of {args.commit}")
            + f". File: {args.outlines:,} outlines, {len(data) / 1e6:.1f} MB.",
            "",
            *table(header, rows),
        ]
    )


def record(label: str, body: str) -> None:
    existing = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    found = re.search(rf"^{re.escape(HEADING)}\n(.*?)(?=^## |\Z)", existing, re.M | re.S)
    subsections: dict[str, str] = {}
    intro = (
        "Command: `.venv/bin/python benchmarks/opml_import.py --outlines 50000 "
        "--postgres URL --record LABEL`  \n"
        "CLI: wall time of `netplanet sources import`, start-up included. Admin: upload to "
        "/admin/opml until the import is over, while another client asks for /healthz every "
        "100 ms. /search: median time of 5 uncached searches over the imported sources, and "
        "the page's size (the sources have no posts: a filter of sources with posts is "
        "empty; `tests/test_web_search.py` checks its cap of 100 with posts). See the "
        "script's docstring."
    )
    if found:
        for m in re.finditer(r"^### (.+?)\n(.*?)(?=^### |\Z)", found.group(1), re.M | re.S):
            subsections[m.group(1)] = m.group(2).strip()
    subsections[label] = body.strip()
    text = "\n\n".join([HEADING, intro, *(f"### {k}\n\n{v}" for k, v in subsections.items())])
    write_section(HEADING, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outlines", type=int, default=50_000)
    ap.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL")
    ap.add_argument("--src", type=Path, help="put this directory first on PYTHONPATH")
    ap.add_argument("--skip-admin", action="store_true")
    ap.add_argument("--record", metavar="LABEL", help="write the table to docs/benchmarks.md")
    args = ap.parse_args()
    start_load = load_average()
    args.commit = f"commit {src_commit()}"
    data = make_opml(args.outlines)
    backends = ["sqlite"] + (["postgres"] if args.postgres else [])
    results = [measure(b, args, data) for b in backends]
    body = report(results, args, data, start_load)
    print(body)
    if args.record:
        record(args.record, body)


if __name__ == "__main__":
    main()
