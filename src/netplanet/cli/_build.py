"""The Click command `main()` runs, built from the Typer app with each top-level command made
on its first lookup.

`typer.main.get_command(app)` makes every command up front: it resolves each function's
annotations and builds its parameters, ~20 ms of CPU for netplanet's 30-odd commands, on
every run, of which a run uses one. `lazy_command` gives the same root group (the global
options and callback, built by Typer itself) with a mapping of commands that builds each
with Typer's own functions when Click looks it up: a run builds the command it runs, `--help`
and a mistyped name (Typer's "Did you mean") still see them all, in registration order.

It leans on Typer internals (`registered_commands`, `get_command_from_info`,
`get_group_from_info`); when they are missing (another Typer version), the whole command is
built up front as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from functools import partial
from typing import TYPE_CHECKING

import typer.main

if TYPE_CHECKING:
    from typer._click import Command


class _Commands(MutableMapping[str, "Command"]):
    """A group's subcommands by name, each built and prepared on first lookup."""

    def __init__(
        self, builders: dict[str, Callable[[], Command]], prepare: Callable[[Command], Command]
    ) -> None:
        self._builders = builders
        self._prepare = prepare
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            self._built[name] = self._prepare(self._builders[name]())
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._builders.setdefault(name, lambda: command)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


def lazy_command(app: typer.Typer, prepare: Callable[[Command], Command]) -> Command:
    """`prepare(typer.main.get_command(app))`, with `prepare` applied to the root (before it
    has commands) and to each top-level command when it is built (see the module docstring)."""
    main = typer.main
    commands, groups = app.registered_commands, app.registered_groups
    try:
        short, markup = app.pretty_exceptions_short, app.rich_markup_mode
        builders: dict[str, Callable[[], Command]] = {}
        for info in commands:
            assert info.callback is not None
            name = info.name or main.get_command_name(info.callback.__name__)
            builders[name] = partial(
                main.get_command_from_info,
                info,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
            )
        for group in groups:
            if not group.name:  # merged into its parent by Typer: leave it to Typer
                return prepare(main.get_command(app))
            builders[group.name] = partial(
                main.get_group_from_info,
                group,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
                suggest_commands=app.suggest_commands,
            )
        # The root alone: with a callback and no commands, Typer still makes a group.
        app.registered_commands, app.registered_groups = [], []
        root = prepare(main.get_command(app))
    except AttributeError:  # pragma: no cover - another Typer version
        app.registered_commands, app.registered_groups = commands, groups
        return prepare(main.get_command(app))
    finally:
        app.registered_commands, app.registered_groups = commands, groups
    if not isinstance(getattr(root, "commands", None), dict):  # pragma: no cover
        return prepare(main.get_command(app))
    root.commands = _Commands(builders, prepare)  # type: ignore[attr-defined]
    return root
