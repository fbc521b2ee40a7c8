"""Option and argument values converted without pydantic, when that gives the same result,
and named plainly in `--help`.

Typer (≥ 0.29) converts every non-flag value through a pydantic TypeAdapter, built on first use.
Importing pydantic and building the adapters costs ~0.1 s of CPU per run, a sixth of a
`netplanet update` that polls one feed. Our parameters are plain: str, int and float with
bounds, Path. For those, `speed_up(command)` installs a converter that handles the values whose
result is certain (None, any str for a str, ASCII digits within the bounds, an existing Path's
checks done by Typer's own function) and hands anything else to Typer's adapter, built only
then, so odd input and every error message are Typer's own.

`plain_metavars(command)` names values in `--help` as `--port PORT` rather than Typer's
`<int range>`.

It leans on Typer internals (`_TyperParameter._runtime_param`, `typer._coercion`); when they
are missing (another Typer version) nothing is installed and Typer converts as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typer._click import Command, Context
    from typer._coercion import TypeDescriptor
    from typer.core import _TyperParameter

try:
    from typer._click.exceptions import BadParameter
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_path
    from typer.core import _TyperParameter as _Param
except ImportError:  # pragma: no cover - another Typer version: keep its own conversion
    RuntimeParam = None  # type: ignore[assignment,misc]

_UNSURE = object()
_DIGITS = re.compile(r"[0-9]{1,15}")  # ASCII only: int("٣") is 3, pydantic refuses it
_DECIMAL = re.compile(r"[0-9]{1,15}(\.[0-9]{1,15})?")
_NUMBER_SYNTAX: dict[type, re.Pattern[str]] = {int: _DIGITS, float: _DECIMAL}


def _within(value: float, info: Any) -> bool:
    return (info.min is None or value >= info.min) and (info.max is None or value <= info.max)


def _plain(annotation: Any, info: Any, value: Any) -> Any:
    """The converted value when it is certain, else _UNSURE."""
    kind = type(value)
    if annotation is str or annotation is bool:
        return value if kind is annotation else _UNSURE
    number_syntax = _NUMBER_SYNTAX.get(annotation)
    if number_syntax is None:
        return _UNSURE
    if kind is str and number_syntax.fullmatch(value):
        number = annotation(value)
    elif kind is annotation:
        number = value
    else:
        return _UNSURE
    return number if _within(number, info) else _UNSURE


if RuntimeParam is not None:

    @dataclass(frozen=True)
    class _PlainParam(RuntimeParam):
        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
            info = self.parameter_info
            if self.annotation is Path and type(value) is str and value and "\x00" not in value:
                # Typer's own checks, handed a Path so that it needs no adapter to make one;
                # a refusal is left to the adapter, whose message quotes the path as typed.
                try:
                    return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
                except BadParameter:
                    pass
            else:
                result = _plain(self.annotation, info, value)
                if result is not _UNSURE:
                    return result
            return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)


def _eligible(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.file_annotation is not None:
        return False
    info = descriptor.parameter_info
    if getattr(info, "parser", None) is not None or getattr(info, "clamp", False):
        return False
    if getattr(info, "count", False) or param.multiple or param.nargs != 1:
        return False
    if descriptor.annotation is Path:
        return getattr(info, "path_type", None) is None
    return descriptor.annotation in (str, int, float, bool)


def _install(param: Any) -> None:
    if isinstance(param, _Param) and param._runtime_param is None and _eligible(param):
        descriptor = param.type_descriptor
        param._runtime_param = _PlainParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )


def speed_up(command: Command) -> Command:
    """Install the plain converter on every eligible parameter of `command` and its
    subcommands (including the --help option each makes on demand); returns `command`."""
    if RuntimeParam is None:
        return command  # pragma: no cover
    for param in command.params:
        _install(param)
    make_help_option = command.get_help_option

    def get_help_option(ctx: Context) -> Any:
        option = make_help_option(ctx)
        _install(option)
        return option

    setattr(command, "get_help_option", get_help_option)  # noqa: B010 - on this instance only
    for sub in getattr(command, "commands", {}).values():
        speed_up(sub)
    return command


def plain_metavars(command: Command) -> Command:
    """Name every value in `--help` plainly, as `--port PORT` and `QUERY`, not Typer's
    `<int range>` and `query <str>`: a parameter without its own metavar gets its (long option)
    name in capitals (the range, when there is one, is still shown after the help text). Applies to
    `command` and its subcommands; returns `command`."""
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.metavar is None and param.name:
            longs = [opt for opt in param.opts if opt.startswith("--")]
            name = longs[0][2:] if longs else param.name  # --id, not its variable worker_id
            param.metavar = name.upper().replace("-", "_")
        if getattr(param, "param_type_name", "") == "argument":
            # An argument's help line is its metavar followed by its type; the metavar alone
            # says it (on this instance only, as speed_up does).
            setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    return command
