"""Every command, walked from the command tree itself (so a command added later is covered):
bad values are one line and exit 2, help names values plainly, --port means the same
everywhere, and a database file that does not exist is an error, not a new planet."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from builders import cli, free_port, sqlite_url
from netplanet.cli import app


class Started(Exception):
    """A command got past its checks and started its loop."""


@pytest.fixture(autouse=True)
def _nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command here must stop at its checks. Should one get past them (a bound or check
    gone), it fails at once with this error instead of serving or polling the internet:
    every command that polls or serves runs an event loop, and uvicorn its own."""
    import asyncio

    import uvicorn

    def refuse(*args: Any, **_: Any) -> None:
        for arg in args:
            if asyncio.iscoroutine(arg):
                arg.close()  # never awaited, on purpose
        raise Started("the command started instead of refusing its arguments")

    monkeypatch.setattr(asyncio, "run", refuse)
    monkeypatch.setattr(uvicorn.Server, "run", refuse)


def _tree() -> Any:
    return typer.main.get_command(app)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, command) for the app, every group and every command under it."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def _leaves() -> list[tuple[tuple[str, ...], Any]]:
    return [(p, c) for p, c in _commands(_tree()) if p and not getattr(c, "commands", None)]


def _valued(command: Any) -> list[Any]:
    """The parameters of `command` that take a value (not flags, not --help)."""
    return [
        p
        for p in command.params
        if not getattr(p, "is_flag", False) and getattr(p, "type_descriptor", None) is not None
    ]


def _bad_values(param: Any, tmp_path: Path) -> list[str]:
    """Values `param` must refuse or fail on: wrong type, out of range, missing file,
    unwritable output, not a choice."""
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    kind = descriptor.annotation
    if descriptor.is_choice:
        return ["not-a-choice"]
    if kind in (int, float):
        # Every number declares both bounds: an unbounded one would let a huge value through
        # (an OverflowError deep inside, or a server started by this test).
        assert info.min is not None and info.max is not None, f"{param.opts} has no range"
        values = ["abc", "", "1e999", str(info.min - 1), str(info.max + 1)]
        if kind is int:
            values += ["1.5", "9" * 40]
        else:
            values += ["nan", "inf", "-inf"]
        return values
    if kind is Path or descriptor.is_file:
        # A file that does not exist, under a regular file: it can be neither read nor made
        # (even by root, and even where a missing path is fine, as a new data directory).
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("x")
        return [str(blocker / "d" / "x.opml")]
    return []


def _fillers(command: Any, skip: Any) -> list[str]:
    """Valid values for the required parameters other than `skip`, so the bad one is reached."""
    args: list[str] = []
    for param in _valued(command):
        if param is skip or not param.required:
            continue
        value = "1" if param.type_descriptor.annotation in (int, float) else "x"
        if param.param_type_name == "argument":
            args.append(value)
        else:
            args += [param.opts[0], value]
    return args


def _cases(tmp_path: Path, db: str) -> Iterator[tuple[list[str], str]]:
    root = _tree()
    for param in _valued(root):  # the global options, before a command that reads the store
        for value in _bad_values(param, tmp_path):
            yield [f"{param.opts[0]}={value}", "sources", "list"], param.opts[0]
    for path, command in _leaves():
        for param in _valued(command):
            for value in _bad_values(param, tmp_path):
                if param.param_type_name == "argument":
                    given = [value]
                else:
                    given = [f"{param.opts[0]}={value}"]  # `=`: a value such as -1 is no option
                args = ["--database", db, *path, *given, *_fillers(command, param)]
                yield args, param.opts[0]


def test_every_command_refuses_bad_values_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = sqlite_url(tmp_path / "planet.db")
    seen: set[str] = set()
    problems: list[str] = []
    count = 0
    for args, name in _cases(tmp_path, db):
        count += 1
        seen.add(name)
        code, out, err = cli(capsys, *args)
        lines = err.strip().splitlines()
        # Exit 2: the operator must change the value. A data directory where none can be
        # made is the database unreachable (3), as for any database the store cannot open.
        if (
            "Traceback" in out + err
            or "this is a bug" in err
            or len(lines) != 1
            or not lines[0].startswith("error: ")
            or out
            or code != (3 if name == "--data-dir" else 2)
        ):
            problems.append(f"netplanet {' '.join(args)} -> exit {code}: {out!r} {err!r}")
    assert not problems, "\n".join(problems)
    # The walk reached the options the issue named, and plenty of cases.
    assert {"--port", "--limit", "--output", "--config", "--data-dir", "--idle"} <= seen
    assert count > 50


def test_help_names_every_value_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    for path, command in _commands(_tree()):
        code, out, err = cli(capsys, *path, "--help")
        assert code == 0, err
        assert not re.search(r"<[a-z][a-z ]*>", out), f"{' '.join(path)} --help:\n{out}"
        for param in _valued(command):
            if param.param_type_name == "argument":
                assert re.search(rf"[{{\[]{param.name.upper()}[}}\]]", out), out
                continue
            longest = max(param.opts, key=len)
            assert re.search(rf"{re.escape(longest)} [A-Z][A-Z_|]*\b", out), (path, longest, out)


def test_every_port_option_has_the_same_range() -> None:
    ports = [
        (path, p)
        for path, command in _commands(_tree())
        for p in command.params
        if "--port" in p.opts
    ]
    assert {path for path, _ in ports} >= {("run",), ("serve",), ("demo",)}
    for path, param in ports:
        info = param.type_descriptor.parameter_info
        assert (info.min, info.max, param.metavar) == (1, 65535, "PORT"), path


def test_serve_port_out_of_range_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("serve", "run", "demo"):
        code, out, err = cli(capsys, command, "--port", "70000")
        assert code == 2 and out == "", err
        assert err.startswith("error: Invalid value for '--port'") and err.count("\n") == 1, err


def test_export_to_a_directory_that_does_not_exist_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = sqlite_url(tmp_path / "planet.db")
    target = tmp_path / "nonexistent" / "d" / "x.opml"
    code, out, err = cli(capsys, "--database", db, "sources", "export", "-o", str(target))
    assert code == 2 and out == ""
    reason = "No such file or directory; choose another --output"
    assert err == f"error: cannot write {target}: {reason}\n"
    assert not target.parent.exists()


# --------------------------------------------------------------- a database that is not there

EXTRA_ARGS: dict[tuple[str, ...], list[str]] = {
    ("admin", "set-password"): ["--stdin"],
    ("db", "backup"): [],
    ("db", "migrate"): [],
    ("digest",): [],
    ("export",): ["--out", "/nonexistent/export"],
    ("entries",): [],
    ("run",): ["--no-web"],  # the database is checked before anything is polled
    ("search",): ["bgp"],
    ("topics", "list"): [],
    ("topics", "explain"): ["1"],
    ("topics", "reclassify"): [],
    ("serve",): [],  # a port is added per run
    ("sources", "add"): ["http://127.0.0.1:9/feed"],
    ("sources", "edit"): ["1", "--title", "x"],
    ("sources", "export"): [],
    ("sources", "health"): [],
    ("sources", "import"): [],  # the OPML file is added per run
    ("sources", "list"): [],
    ("sources", "remove"): ["1"],
    ("update",): [],
    ("worker",): ["--once"],
}
"""Every command that opens the planet's database, with the arguments it needs."""

CREATES_OR_NEEDS_NONE = {
    ("init",): "creates the database",
    ("demo",): "uses a temporary database of its own",
    ("config", "show"): "reads the database only to show what it stores, if there is one",
    ("db", "copy"): "takes its databases as --from and --to (tested below)",
    ("db", "restore"): "creates its target, like init, after checking the file (test_backup*)",
    ("service", "systemd"): "prints a unit from the settings; never opens the database",
}


def test_the_table_names_every_command() -> None:
    # A new command must say whether it opens the database: add it to one of the two.
    assert {path for path, _ in _leaves()} == set(EXTRA_ARGS) | set(CREATES_OR_NEEDS_NONE)


@pytest.mark.parametrize("path", sorted(EXTRA_ARGS), ids=" ".join)
def test_a_missing_database_file_is_an_error_not_a_new_planet(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: tuple[str, ...],
) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    url = f"sqlite:///{missing}"
    extra = list(EXTRA_ARGS[path])
    if path == ("serve",):
        extra += ["--port", str(free_port())]
    if path == ("sources", "import"):
        opml = tmp_path / "in.opml"
        opml.write_text('<opml version="2.0"><head/><body/></opml>')
        extra.append(str(opml))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    code, out, err = cli(capsys, "--database", url, *path, *extra)
    assert code == 2 and out == "", err
    assert err == (
        f"error: database file {missing} does not exist; check the path, or create it with "
        f"`netplanet init --database {url}`\n"
    )
    assert not (tmp_path / "nonexistent").exists()


def test_init_creates_the_missing_database_and_then_it_is_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'planet.db'}"
    code, out, err = cli(capsys, "--database", url, "init", "--no-defaults")
    assert code == 0 and "database ready" in out, err
    code, out, err = cli(capsys, "--database", url, "sources", "list")
    assert code == 0 and "0 sources" in out, err


def test_the_data_directory_database_is_still_made_on_first_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make run` on a fresh clone: no --database, NETPLANET_DATA_DIR=./data (not there yet).
    monkeypatch.delenv("NETPLANET_DATABASE_URL", raising=False)
    monkeypatch.setenv("NETPLANET_DATA_DIR", str(tmp_path / "data"))
    code, out, err = cli(capsys, "sources", "list")
    assert code == 0 and "0 sources" in out, err
    assert (tmp_path / "data" / "netplanet.db").is_file()


def test_in_memory_databases_still_open(capsys: pytest.CaptureFixture[str]) -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        code, out, err = cli(capsys, "--database", url, "sources", "list")
        assert code == 0 and "0 sources" in out, err


def test_db_copy_from_a_missing_file_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nonexistent" / "a.db"
    target = sqlite_url(tmp_path / "b.db")
    code, _, err = cli(capsys, "db", "copy", "--from", f"sqlite:///{missing}", "--to", target)
    assert code == 2 and f"database file {missing} does not exist" in err
    assert err.count("\n") == 1 and not missing.parent.exists()
