"""Start-up of the command line: what each command loads, and the pydantic-free value conversion
(cli/_params.py) giving exactly Typer's results and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from netplanet import cli
from netplanet.cli._params import _PlainParam, speed_up
from netplanet.model import SourceSpec
from netplanet.store import open_store

HEAVY = [
    "aiohttp", "sqlalchemy", "rich", "pydantic", "lxml", "alembic", "starlette", "jinja2",
    "feedparser", "nh3", "multiprocessing",
]  # fmt: skip


def _loaded(tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run `netplanet ARGS` in a fresh interpreter; which heavy packages did it import?"""
    code = (
        "import json, sys\n"
        "from netplanet.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps({'code': code, 'heavy': heavy}), file=sys.stderr)\n"
    )
    env = {**os.environ, "NETPLANET_DATA_DIR": str(tmp_path)}
    env.pop("NETPLANET_DATABASE_URL", None)
    env.pop("NETPLANET_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def test_help_and_version_load_nothing_heavy(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "--help") == {"code": 0, "heavy": []}
    assert _loaded(tmp_path, "--version") == {"code": 0, "heavy": []}
    assert _loaded(tmp_path, "sources", "--help") == {"code": 0, "heavy": []}


def test_database_commands_load_neither_fetcher_nor_web_nor_pydantic(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert _loaded(tmp_path, "--database", db, "init", "--no-defaults")["code"] == 0
    # An up-to-date schema is recognised without alembic (store/migrate.py), and `update`
    # with nothing to poll without SQLAlchemy (store/quick.py): it stops before it needs the
    # store, the fetcher, the parse pool or a progress bar.
    assert _loaded(tmp_path, "--database", db, "-q", "update", "-j", "5") == {
        "code": 0,
        "heavy": [],
    }
    assert _loaded(tmp_path, "--database", db, "sources", "list") == {
        "code": 0,
        "heavy": ["rich", "sqlalchemy"],
    }
    assert _loaded(tmp_path, "--database", db, "-q", "worker", "--once", "--idle", "0.5") == {
        "code": 0,
        "heavy": ["aiohttp", "lxml", "nh3", "sqlalchemy"],
    }


def test_update_with_nothing_to_poll_loads_nothing_heavy_once_the_planet_exists(
    tmp_path: Path,
) -> None:
    # The first `update` in a new data directory creates and migrates the planet (SQLAlchemy,
    # alembic); every later one with nothing to poll is answered by sqlite3 alone, with or
    # without -q, and so is a planet whose only sources are disabled.
    first = _loaded(tmp_path, "update")
    assert first["code"] == 0 and "sqlalchemy" in first["heavy"]
    assert _loaded(tmp_path, "update") == {"code": 0, "heavy": []}
    db = f"sqlite:///{tmp_path / 'netplanet.db'}"
    store = open_store(db)
    try:
        source = store.add_source(SourceSpec("https://example.net/feed.xml"))
        store.edit_source(source.id, enabled=False)
    finally:
        store.close()
    assert _loaded(tmp_path, "--database", db, "update") == {"code": 0, "heavy": []}


BUILT = """
import json, sys
import typer.main
from netplanet.cli import main
built = []
make = typer.main.get_command_from_info
def counting(*args, **kw):
    info = args[0] if args else kw["command_info"]
    built.append(info.name or info.callback.__name__)
    return make(*args, **kw)
typer.main.get_command_from_info = counting
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(json.dumps({"code": exc.code, "built": built}), file=sys.stderr)
"""


def _built(tmp_path: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "NETPLANET_DATA_DIR": str(tmp_path)}
    env.pop("NETPLANET_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", BUILT, *args], env=env, capture_output=True, text=True, timeout=60
    )
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def test_a_run_builds_only_the_command_it_runs(tmp_path: Path) -> None:
    assert _built(tmp_path, "-q", "update") == {"code": 0, "built": ["update"]}
    everything = _built(tmp_path, "--help")
    assert everything["code"] == 0 and len(everything["built"]) > 20


def _shape(param: Any) -> dict[str, Any]:
    """What a parameter is, without the objects made anew with each build."""
    shape = {k: v for k, v in vars(param).items() if v is None or isinstance(v, str | int | list)}
    shape["runtime"] = type(getattr(param, "_runtime_param", None))
    return shape


def test_the_lazily_built_cli_is_typers(tmp_path: Path) -> None:
    from netplanet.cli._build import lazy_command

    full = speed_up(typer.main.get_command(cli.app))
    lazy = lazy_command(cli.app, speed_up)
    assert list(lazy.commands) == list(full.commands)  # type: ignore[attr-defined]
    for name in full.commands:  # type: ignore[attr-defined]
        ours, theirs = lazy.commands[name], full.commands[name]  # type: ignore[attr-defined]
        assert type(ours) is type(theirs)
        assert ours.get_help(Context(ours)) == theirs.get_help(Context(theirs))
        assert [_shape(p) for p in ours.params] == [_shape(p) for p in theirs.params]
    assert lazy.get_help(Context(lazy)) == full.get_help(Context(full))


def test_a_refused_value_still_gets_typers_message(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "update", "-j", "0")["code"] == 2


# ------------------------------------------------------------------ conversion equivalence

SAMPLES: list[Any] = [
    None, "", "0", "1", "5", "007", "+5", " 7", "1_0", "-3", "1e3", "0.05", "0.04", ".5", "5.",
    "10000", "10001", "65535", "65536", "99999999999999999999", "abc", "٣", "nan", "inf",
    "sqlite:///x.db", "a\udcffb", 5, 20, 5.0, 0.1, True, False,
]  # fmt: skip


def _params(command: Any, ctx: Context) -> list[tuple[Any, Context]]:
    found = [(p, ctx) for p in command.params]
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        found.append((help_option, ctx))
    for sub in getattr(command, "commands", {}).values():
        found += _params(sub, Context(sub, parent=ctx))
    return found


def _outcome(runtime: Any, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        result = runtime.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "error", exc.format_message()
    return "value", (type(result), result)


def test_plain_conversion_equals_typers_for_every_parameter(tmp_path: Path) -> None:
    root = speed_up(typer.main.get_command(cli.app))
    ctx = Context(root, info_name="netplanet")
    existing_dir, missing = str(tmp_path), str(tmp_path / "missing.opml")
    installed = 0
    for param, param_ctx in _params(root, ctx):
        runtime = param._runtime_param
        if not isinstance(runtime, _PlainParam):
            continue
        installed += 1
        typers = build_runtime_param(param.type_descriptor)
        for value in [*SAMPLES, existing_dir, missing]:
            assert _outcome(runtime, value, param, param_ctx) == _outcome(
                typers, value, param, param_ctx
            ), (param.name, value)
    assert installed >= 30  # every option of every command but the help options' peers


# ------------------------------------------------------------------ the parse pool

POOL_OWNER = """
import json, os, sys
from pathlib import Path
from netplanet.planet import Planet
from netplanet.settings import Settings

def children():
    found = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return sorted(found)

planet = Planet(Settings(parse_workers=1, database_url="sqlite:///" + sys.argv[1]))
pool = planet.executor()
same = planet.executor() is pool
idle = children()
worker = pool.submit(os.getpid).result(timeout=60)
busy = children()
planet.close()
print(json.dumps({"same": same, "idle": idle, "busy": busy, "in_worker": worker != os.getpid()}))
"""


def test_the_parse_pool_starts_with_its_first_job(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", POOL_OWNER, str(tmp_path / "p.db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    seen = json.loads(done.stdout)
    # Not even multiprocessing's resource tracker before the first job: most runs need none.
    assert seen["same"] and seen["idle"] == [] and seen["in_worker"]
    assert seen["busy"]  # the resource tracker and the forkserver
