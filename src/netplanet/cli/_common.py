"""What the command modules share: the planet the global options chose, -q, output, lookups.

Start-up cost matters here (every `netplanet update` and `worker` pays it), so this module and
the command modules import only typer and the standard library at the top; the rest is
imported by the command that needs it. Messages are plain lines; Rich is loaded only by the
commands that draw a table or a progress bar (`console()`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    import socket

    from rich.console import Console

    from netplanet.model import Source, SourceSpec
    from netplanet.operations.imports import ImportReport
    from netplanet.planet import Planet


class State:
    """Set by the global options callback before any command runs."""

    planet: Planet | None = None
    quiet: bool = False


state = State()


def planet() -> Planet:
    assert state.planet is not None
    return state.planet


def quiet() -> bool:
    return state.quiet


def say(message: str) -> None:
    """A line on stdout, unless -q."""
    if not state.quiet:
        print(message, flush=True)


def warn(message: str) -> None:
    """A line on stderr, even with -q."""
    print(message, file=sys.stderr, flush=True)


def console(*, stderr: bool = False) -> Console:
    """A Rich console for tables and progress bars (width from $COLUMNS when not a terminal)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def find_source(ref: str) -> Source:
    """A source by id, slug or feed URL."""
    from netplanet.errors import NotFoundError

    store = planet().store
    source = None
    if ref.isascii() and ref.isdigit():  # "²".isdigit() too, and int() refuses it
        source = store.get_source(int(ref))
    if source is None:
        source = store.get_source_by_slug(ref) or store.get_source_by_url(ref)
    if source is None:
        raise NotFoundError(f"no source {ref!r}; `netplanet sources list` shows ids and slugs")
    return source


def import_specs(specs: Sequence[SourceSpec]) -> ImportReport:
    """Add the specs not stored yet (the bundled list at `init` and first `run`), through the
    same path as an OPML import; a URL the guard refuses is skipped with a line on stderr."""
    from netplanet.operations.imports import import_specs as add

    current = planet()
    report = add(current.store, specs, allow_private=current.settings.allow_private_networks)
    print_import_lines(report)
    return report


def print_import_lines(report: ImportReport) -> None:
    """Every skipped outline and note of an import, one line each on stderr."""
    for skipped in report.skipped:
        warn(f"skipped: {skipped}")
    for note in report.notes:
        warn(note)


def port_option(help: str) -> Any:
    """The --port option of every command that listens (`run`, `serve`, `demo`): one range, the
    `port` setting's (1-65535), so that a port one command takes no other refuses."""
    from netplanet.settings import RANGES

    port = RANGES["port"]
    return typer.Option("--port", metavar="PORT", min=port.lo, max=port.hi, help=help)


def site_address(host: str, port: int) -> str:
    """The URL a server listening on host:port answers at (an IPv6 address in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind and listen up front, so that an address in use or not local is a one-line error
    (uvicorn would log it and exit 3, the code for an unreachable database)."""
    import socket

    from netplanet.errors import UsageError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another with --host/--port"
        ) from None
    # Listen now, not when uvicorn starts: a banner may go out before the server runs, and a
    # reader who clicks at once must be queued in the backlog, not refused.
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextmanager
def stage_bars(hidden: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per stage on stderr when it is a terminal (nothing with -q): yields
    `advance(stage, done, total)`, which adds a stage's bar on its first call."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    screen = console(stderr=True)
    progress = Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=screen,
        disable=hidden or not screen.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def advance(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield advance
