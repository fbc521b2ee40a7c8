"""`netplanet service systemd [--user]`: a hardened systemd unit for `netplanet run`.

The unit is written from the effective settings: the netplanet executable that is running,
the data directory (the one path it may write, with a SQLite file's directory if the database
lives elsewhere) and the config file in use. Secrets (a PostgreSQL URL with its password,
`secret_key`) are never printed into it: they go in the EnvironmentFile it names. Host and port
stay the settings' (`host`, `port`), so changing them needs no new unit.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from netplanet.planet import Planet
    from netplanet.settings import Settings

service_app = typer.Typer(help="Print service files for running netplanet.", no_args_is_help=True)

_HOMES = (Path("/home"), Path("/root"), Path("/run/user"))
_TMPS = (Path("/tmp"), Path("/var/tmp"))

# Sandboxing every unit gets; a user manager applies the mount options through a user
# namespace. MemoryDenyWriteExecute is left out: libffi closures (cffi, ctypes callbacks in
# the libraries the parsers load) need writable executable memory on some distributions.
_HARDENING = """\
NoNewPrivileges=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
UMask=0077"""

# Options that need the system manager's privileges.
_SYSTEM_ONLY = """\
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities="""


def executable() -> str:
    """The command that starts this netplanet: the script beside the running interpreter (a
    virtualenv's bin/), else the interpreter with `-m netplanet`."""
    script = Path(sys.executable).parent / "netplanet"
    if script.is_file() and os.access(script, os.X_OK):
        return str(script.absolute())
    return f"{Path(sys.executable).absolute()} -m netplanet"


def _writable(settings: Settings) -> list[Path]:
    paths = [settings.data_dir.expanduser().absolute()]
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///").split("?", 1)[0]).expanduser()
        folder = database.absolute().parent
        if folder not in paths:
            paths.append(folder)  # SQLite writes its -wal and -shm files beside the database
    return paths


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def systemd_unit(settings: Settings, *, user: bool, config: Path | None, command: str) -> str:
    """The text of a unit running `command run` with `settings`."""
    writable = _writable(settings)
    postgres = not settings.resolved_database_url.startswith("sqlite")
    read = [Path(command.split()[0]), *writable, *([config] if config else [])]
    protect_home = "read-only" if user or any(_under(p, _HOMES) for p in read) else "yes"
    env_file = "%h/.config/netplanet/netplanet.env" if user else "/etc/netplanet/netplanet.env"
    install = "default.target" if user else "multi-user.target"
    where = (
        "~/.config/systemd/user/netplanet.service"
        if user
        else ("/etc/systemd/system/netplanet.service")
    )
    ctl = "systemctl --user" if user else "systemctl"
    after = "network-online.target" + (" postgresql.service" if postgres else "")
    lines = [
        f"# Save as {where}, then: {ctl} daemon-reload && {ctl} enable --now netplanet",
        *(["# Keep it running after you log out: loginctl enable-linger $USER"] if user else []),
        f"# Secrets (NETPLANET_DATABASE_URL, NETPLANET_SECRET_KEY) go in {env_file}, mode 0600.",
        "# It listens on the settings' host and port; put nginx or Caddy in front "
        "(docs/deployment.md).",
        "# The data directory must exist (netplanet init creates it).",
        "[Unit]",
        "Description=netplanet: planet of network engineering blogs (site and polling)",
        f"After={after}",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=exec",
        f"ExecStart={command} run",
        f"WorkingDirectory={writable[0]}",
        f"Environment=NETPLANET_DATA_DIR={writable[0]}",
        *([f"Environment=NETPLANET_CONFIG={config}"] if config else []),
        f"EnvironmentFile=-{env_file}",
        *([] if user else [f"User={_service_user()}"]),
        "Restart=on-failure",
        "RestartSec=5s",
        "TimeoutStopSec=60s",
        "# Hardening: read-only system, only the data directory writable.",
        "ProtectSystem=strict",
        f"ProtectHome={protect_home}",
        f"ReadWritePaths={' '.join(str(p) for p in writable)}",
        # A private /tmp would hide a data directory that lives in the real one.
        *([] if any(_under(p, _TMPS) for p in writable) else ["PrivateTmp=yes"]),
        _HARDENING,
        *([] if user else [_SYSTEM_ONLY]),
        "",
        "[Install]",
        f"WantedBy={install}",
        "",
    ]
    return "\n".join(lines)


def _service_user() -> str:
    name = getpass.getuser()
    # Never root: a system account of its own (useradd --system --home-dir DATA_DIR netplanet).
    return "netplanet" if name == "root" else name


def register(app: typer.Typer, *, planet: Callable[[], Planet]) -> None:
    """Add the `service` group to `app`."""
    app.add_typer(service_app, name="service")

    @service_app.command("systemd")
    def systemd(
        ctx: typer.Context,
        user: Annotated[
            bool, typer.Option("--user", help="A unit for your user's systemd (no root).")
        ] = False,
    ) -> None:
        """Print a hardened systemd unit for `netplanet run` (restarts on failure)."""
        from netplanet.settings import CONFIG_ENV

        root = ctx.find_root().params
        given = root.get("config") or os.environ.get(CONFIG_ENV)
        config = Path(given).expanduser().absolute() if given else None
        unit = systemd_unit(planet().settings, user=user, config=config, command=executable())
        print(unit, end="", flush=True)
