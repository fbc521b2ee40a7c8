"""Configuration: defaults, then a TOML file, then NETPLANET_* environment variables, then
command-line options.

Every option is a flat key; the environment variable is the key upper-cased with a NETPLANET_
prefix (e.g. `allow_private_networks` -> NETPLANET_ALLOW_PRIVATE_NETWORKS). Every value is
checked before anything uses it: its type (ASCII digits for integers, finite numbers, strings
without control characters), its range (each numeric field declares one, see `RANGES`) and
its syntax (host names, URLs, the database URL). A bad value raises ConfigError, one line that
names the key, where the value came from (file, variable or option), what is allowed and
what was given. The command line maps it to exit code 2.

A config file is read only when it is a regular file of at most CONFIG_MAX_BYTES, so that
`--config /dev/zero` or a FIFO is refused at once instead of hanging or filling memory.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from netplanet import __version__
from netplanet.errors import ConfigError

PROJECT_URL = "https://github.com/netplanet/netplanet"
ENV_PREFIX = "NETPLANET_"
CONFIG_ENV = "NETPLANET_CONFIG"
CONFIG_MAX_BYTES = 1024 * 1024
"""A config file is a few hundred bytes; anything over this is not one."""
_SECRET_KEYS = frozenset({"database_url", "secret_key"})
DAY_S = 86400


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "netplanet"


@dataclass(frozen=True, slots=True)
class Range:
    """The allowed values of a numeric setting: lo..hi, finite; `above` excludes lo itself."""

    lo: int | float
    hi: int | float
    above: bool = False
    unit: str = ""

    def holds(self, value: float) -> bool:
        if not math.isfinite(value) or value > self.hi:
            return False
        return value > self.lo if self.above else value >= self.lo

    def describe(self, kind: type) -> str:
        noun = "an integer" if kind is int else "a number"
        low = f"above {_num(self.lo)} and up to" if self.above else f"from {_num(self.lo)} to"
        unit = f" {self.unit}" if self.unit else ""
        return f"{noun} {low} {_num(self.hi)}{unit}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _ranged(default: Any, lo: float, hi: float, *, above: bool = False, unit: str = "") -> Any:
    return dataclasses.field(default=default, metadata={"range": Range(lo, hi, above, unit)})


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    database_url: str = ""
    """SQLAlchemy URL; empty means SQLite at <data_dir>/netplanet.db."""
    allow_private_networks: bool = False
    """Allow fetching from loopback/private/link-local addresses (off by default: SSRF guard)."""
    fetch_concurrency: int = _ranged(20, 1, 1000)
    parse_workers: int = _ranged(-1, -1, 64)
    """Processes that parse and enrich fetched feeds beside the fetching event loop;
    -1 means one per CPU core (none on a single core), 0 means parse inline."""
    fetch_per_host: int = _ranged(2, 1, 1000)
    connect_timeout: float = _ranged(10.0, 0, 300, above=True, unit="s")
    read_timeout: float = _ranged(30.0, 0, 3600, above=True, unit="s")
    total_timeout: float = _ranged(60.0, 0, 3600, above=True, unit="s")
    max_body_bytes: int = _ranged(10 * 1024 * 1024, 1024, 1024**3, unit="bytes")
    max_redirects: int = _ranged(5, 0, 20)
    excerpt_words: int = _ranged(150, 1, 1000)
    """Excerpt length in words: see netplanet.enrich.excerpt.EXCERPT_WORDS for the choice."""
    host: str = "127.0.0.1"
    port: int = _ranged(8080, 1, 65535)
    site_title: str = "netplanet"
    site_url: str = ""
    """Public base URL of the planet (links in pages and output feeds). Empty: the first base URL
    a request names (its scheme and Host) is stored in the database and used from then on."""
    allowed_hosts: str = ""
    """Host names (comma-separated) answered besides the site's own and the loopback names;
    other Host headers get 400. With it set, only these may fix the base URL."""
    update_interval_s: int = _ranged(1800, 1, 30 * DAY_S, unit="s")
    """Poll interval for a source whose posting rate is not known yet (clamped to min/max)."""
    secret_key: str = ""
    """Signs admin sessions; empty means a random key generated once and kept in the database."""
    # --- scheduling (schedule.py; see docs/design-notes.md "Scheduling")
    min_interval_s: float = _ranged(900.0, 0, 30 * DAY_S, above=True, unit="s")
    """Shortest poll interval, for the busiest feeds."""
    max_interval_s: float = _ranged(14400.0, 0, 30 * DAY_S, above=True, unit="s")
    """Longest poll interval for a healthy feed (quiet blogs); feed hints are clamped to it."""
    backoff_max_s: float = _ranged(86400.0, 0, 30 * DAY_S, above=True, unit="s")
    """Cap of the exponential back-off after failures (and of a Retry-After)."""
    dead_after_s: float = _ranged(7 * 86400.0, 0, 365 * DAY_S, above=True, unit="s")
    """A source failing for this long is marked dead and then retried once a day."""
    dead_retry_s: float = _ranged(86400.0, 0, 30 * DAY_S, above=True, unit="s")
    jitter: float = _ranged(0.1, 0, 0.5)
    """Each interval is spread by +/- this fraction, so polls do not align."""
    per_host_gap_s: float = _ranged(1.0, 0, 3600, unit="s")
    """Minimum time between the starts of two requests to the same host."""
    slow_response_ms: int = _ranged(5000, 1, 3_600_000, unit="ms")
    """A source whose average response time is above this is shown as slow."""
    # --- admin area (web/auth.py)
    admin_session_s: int = _ranged(12 * 3600, 60, 30 * DAY_S, unit="s")
    """How long an admin login lasts."""
    trust_proxy_headers: bool = False
    """Behind a reverse proxy: take the scheme from X-Forwarded-Proto (Secure cookies, HSTS) and
    the client address from X-Forwarded-For (login rate limiting), but only on connections from
    `trusted_proxies`. Off: both headers are ignored."""
    trusted_proxies: str = "127.0.0.0/8, ::1"
    """Addresses or networks (comma-separated) of the reverse proxies in front of the planet."""
    login_max_failures: int = _ranged(5, 1, 1000)
    """Failed sign-ins per client address (IPv6: per /64) within login_window_s."""
    login_account_max_failures: int = _ranged(20, 1, 100_000)
    """Failed sign-ins from all addresses together within login_window_s."""
    login_window_s: int = _ranged(900, 1, 7 * DAY_S, unit="s")
    """The window of both login limits."""
    # --- imports (operations/imports.py)
    opml_max_outlines: int = _ranged(10_000, 1, 1_000_000)
    """Most feed outlines one OPML import may hold (CLI and admin); a bigger file is refused
    whole. The file itself may be 512 bytes per allowed outline (at least 5 MB)."""
    # --- topics (enrich/topics.py, operations/topics.py)
    topics_file: str = ""
    """The topic taxonomy (TOML): a path, `~` expanded. Empty: the one saved in the admin
    area, else the bundled one. Read when a planet first classifies; an unreadable or invalid
    file is a ConfigError naming it."""

    # --- weekly digest (publish/weekly.py)
    digest_items_per_topic: int = _ranged(5, 1, 100)
    """Stories a topic shows in a weekly digest (pinned ones always); a "more in <topic>" link
    leads to the rest. See publish.weekly.DIGEST_ITEMS_PER_TOPIC for the choice."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'netplanet.db'}"

    @property
    def topics_path(self) -> Path | None:
        """The `topics_file` setting as a path (None: not set)."""
        return Path(self.topics_file).expanduser() if self.topics_file else None

    @property
    def user_agent(self) -> str:
        return f"netplanet/{__version__} (+{PROJECT_URL})"

    def masked(self) -> dict[str, Any]:
        """The effective configuration with secrets masked, for `netplanet config show`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_KEYS and value:
                value = _mask(str(value))
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out


RANGES: dict[str, Range] = {f.name: f.metadata["range"] for f in fields(Settings) if f.metadata}
"""The allowed range of every numeric setting; command-line options use the same bounds."""


def setting_default(name: str) -> Any:
    """The default of one setting, for the records that mirror settings (schedule.Policy,
    runtime.worker.WorkerConfig): each default is written once, in Settings."""
    default = Settings.__dataclass_fields__[name].default
    if default is dataclasses.MISSING:
        raise KeyError(f"setting {name!r} has no plain default")
    return default


def _mask(value: str) -> str:
    if "://" in value and "@" in value:
        return mask_url(value)
    return "***" if "://" not in value else value


def mask_url(url: str) -> str:
    """`url` with the password of its user part (if any) replaced by ***, without parsing it
    (for messages about URLs that may not parse)."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


# --------------------------------------------------------------------------- syntax checks

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# ASCII digits only: int() and float() also take "٣", "1_0", "nan" and "infinity".
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}")
_NUMBER = re.compile(r"[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")
_SITE_TITLE_MAX = 200
SECRET_KEY_MIN = 16


def is_host_name(text: str) -> bool:
    """A DNS name (letters, digits, '-' and '_' in dot-separated labels) or an IP literal."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    name = text.removesuffix(".")
    if not name or len(name) > 253:
        return False
    return all(_LABEL.fullmatch(label) for label in name.split("."))


SUPPORTED_DATABASES = "sqlite:///PATH or postgresql://USER@HOST[:PORT]/DB"
# SQLAlchemy driver names netplanet opens, and the backend each one means.
_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
}


# sqlite:///PATH with nothing SQLAlchemy would decode or interpret: no query, no %-escape, no
# leading "~" (SQLAlchemy does not expand it), not in memory.
_PLAIN_SQLITE = re.compile(r"(?:sqlite|sqlite\+pysqlite):///(?P<path>[^?%~][^?%]*)")


def plain_sqlite_file(url: str) -> Path | None:
    """The file a plain `sqlite:///PATH` URL names, as SQLAlchemy would open it (relative to
    the working directory), found without importing SQLAlchemy; None for any other URL (a
    query, %-escapes, a "~", memory, another database): ask SQLAlchemy then.

    `netplanet update` from cron with nothing to poll is answered on this path alone (see
    store/quick.py), so it must agree with make_url wherever it answers at all."""
    found = _PLAIN_SQLITE.fullmatch(url)
    if found is None or _CONTROL.search(url) or found["path"] == ":memory:":
        return None
    return Path(found["path"])


def database_backend(url: str) -> str:
    """ "sqlite" or "postgresql" for a database URL netplanet can open; ValueError says why not.

    Syntax only (nothing is connected to): the URL parses as SQLAlchemy parses it, names a
    driver netplanet ships with, and its host and port are well formed. SQLAlchemy is imported
    here, not at module level, as only commands that open a database pay for it, and not at
    all for a plain SQLite file URL (plain_sqlite_file).
    """
    if _CONTROL.search(url):
        raise ValueError("the URL contains control characters")
    if plain_sqlite_file(url) is not None:
        return "sqlite"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL; use {SUPPORTED_DATABASES}") from None
    backend = _DRIVERS.get(parsed.drivername.lower())
    if backend is None:
        raise ValueError(
            f"unsupported database {parsed.drivername}://; netplanet supports "
            f"{SUPPORTED_DATABASES} (postgresql:// means the psycopg 3 driver)"
        )
    if backend == "sqlite":
        if parsed.host or parsed.port or parsed.username or parsed.password:
            raise ValueError(
                "a sqlite URL names a file, not a server: sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db"
            )
        return backend
    if parsed.host is not None and not is_host_name(parsed.host):
        raise ValueError(f"invalid host name {parsed.host!r} in the database URL")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ValueError(f"invalid port {parsed.port} in the database URL (1 to 65535)")
    return backend


def _check_text(max_len: int | None = None) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if _CONTROL.search(value):
            return "must not contain control characters"
        if max_len is not None and len(value) > max_len:
            return f"must be at most {max_len} characters"
        return None

    return check


def _check_host(value: str) -> str | None:
    if not is_host_name(value):
        return "must be a host name or IP address to listen on, such as 127.0.0.1, :: or 0.0.0.0"
    return None


def _check_site_url(value: str) -> str | None:
    if not value:
        return None

    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        ok = ok and not parts.query and not parts.fragment
        ok = ok and (parts.port or 1) > 0  # .port raises ValueError for a bad one
    except ValueError:
        ok = False
    if not ok or _CONTROL.search(value) or " " in value:
        return (
            "must be empty or an absolute http:// or https:// URL, such as https://planet.example/"
        )
    return None


def _check_secret(value: str) -> str | None:
    if value and len(value) < SECRET_KEY_MIN:
        return f"must be empty (a key is generated) or at least {SECRET_KEY_MIN} characters"
    return _check_text()(value)


def _check_database_url(value: str) -> str | None:
    if not value:
        return None
    try:
        database_backend(value)
    except ValueError as exc:
        return str(exc)
    return None


def _check_data_dir(value: Path) -> str | None:
    text = str(value)
    if not text or _CONTROL.search(text):
        return "must be a directory path without control characters"
    return None


def _check_path(value: str) -> str | None:
    if _CONTROL.search(value):
        return "must be a file path without control characters"
    return None


def _check_allowed_hosts(value: str) -> str | None:
    bad = [host for host in split_list(value) if host_name(host) is None]
    return f"{bad[0]!r} is not a host name" if bad else None


def _check_trusted_proxies(value: str) -> str | None:
    for net in split_list(value):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            return f"{net!r} is not an IP address or network"
    return None


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "allowed_hosts": _check_allowed_hosts,
    "trusted_proxies": _check_trusted_proxies,
    "host": _check_host,
    "site_title": _check_text(_SITE_TITLE_MAX),
    "site_url": _check_site_url,
    "secret_key": _check_secret,
    "database_url": _check_database_url,
    "data_dir": _check_data_dir,
    "topics_file": _check_path,
}


# --------------------------------------------------------------------------- loading


def _shown(raw: Any) -> str:
    """A value for a one-line message: repr (escapes newlines), cut short."""
    text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def _coerce(where: str, raw: Any, target: Any, *, text: bool) -> Any:
    """`raw` as the type of `target`. With `text` (environment variables, options) a string
    is parsed; a TOML value must already have the right type ("80" is not a port)."""
    kind = type(target)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if text and isinstance(raw, str):
            word = raw.strip().lower()
            if word in {"1", "true", "yes", "on"}:
                return True
            if word in {"0", "false", "no", "off", ""}:
                return False
        raise ConfigError(f"{where}: expected true or false, got {_shown(raw)}")
    if kind is int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if text and isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
            return int(raw.strip())
        raise ConfigError(f"{where}: expected an integer, got {_shown(raw)}")
    if kind is float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if text and isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
            return float(raw.strip())
        raise ConfigError(f"{where}: expected a finite number, got {_shown(raw)}")
    if isinstance(raw, list) and not text and all(isinstance(item, str) for item in raw):
        return ", ".join(raw)  # a TOML array for a list-valued option
    if not isinstance(raw, str):
        raise ConfigError(f"{where}: expected a string, got {_shown(raw)}")
    if isinstance(target, Path):
        if "\x00" in raw:
            raise ConfigError(f"{where}: a path cannot contain a NUL character")
        return Path(raw).expanduser()
    return raw


def _check(where: str, key: str, value: Any) -> None:
    """The range or syntax check of one setting."""
    f = _FIELDS[key]
    limits: Range | None = f.metadata.get("range")
    if limits is not None and not limits.holds(value):
        kind = type(f.default)
        raise ConfigError(f"{where}: must be {limits.describe(kind)}, got {_shown(value)}")
    check = _CHECKS.get(key)
    problem = check(value) if check is not None else None
    if problem:
        if key == "secret_key":
            given = f"a key of {len(value)} characters"  # never echo a secret
        elif key == "database_url":
            given = _shown(mask_url(value))
        else:
            given = _shown(value)
        raise ConfigError(f"{where}: {problem}, got {given}")


_FIELDS = {f.name: f for f in fields(Settings)}


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML table in `path`; only a regular file of at most CONFIG_MAX_BYTES is read."""
    import tomllib

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; reads of a file are unaffected.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, ValueError) as exc:  # no permission, a NUL in the name, ...
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ConfigError(f"cannot read config file {path}: {reason}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(f"cannot read config file {path}: Is a directory")
        if not stat.S_ISREG(mode):
            raise ConfigError(
                f"cannot read config file {path}: not a regular file (a device, pipe or socket)"
            )
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(CONFIG_MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > CONFIG_MAX_BYTES:
        raise ConfigError(
            f"config file {path} is larger than {CONFIG_MAX_BYTES // (1024 * 1024)} MiB; "
            "is it the right file?"
        )
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    options: Mapping[str, tuple[str, Any]] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from defaults, the TOML file (if any), the environment, then
    command-line `options` ({key: (option name, value)}; None values are skipped) and
    `overrides` (from code). Every value is checked; a bad one raises ConfigError."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    base = Settings()
    known = {name: getattr(base, name) for name in _FIELDS}

    def put(key: str, raw: Any, where: str, *, text: bool = True) -> None:
        value = _coerce(where, raw, known[key], text=text)
        _check(where, key, value)
        values[key] = value
        origins[key] = where

    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is not None:
        for key, raw in read_config_file(path).items():
            if key not in known:
                raise ConfigError(f"config file {path}: unknown key {_shown(key)}")
            put(key, raw, f"config file {path}, key {key!r}", text=False)

    for key in known:
        env_name = ENV_PREFIX + key.upper()
        if env_name in env:
            put(key, env[env_name], f"environment variable {env_name}")

    for key, (option, raw) in (options or {}).items():
        if raw is not None:
            put(key, str(raw) if isinstance(raw, Path) else raw, f"option {option}")

    for key, raw in overrides.items():
        if raw is None:
            continue
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        put(key, str(raw) if isinstance(raw, Path) else raw, f"setting {key!r}")

    return validate(dataclasses.replace(base, **values), origins)


def with_options(settings: Settings, options: Mapping[str, tuple[str, Any]]) -> Settings:
    """`settings` with command-line options applied ({key: (option name, value)}, None values
    skipped), checked like every other source of settings."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, (option, raw) in options.items():
        if raw is None:
            continue
        where = f"option {option}"
        raw = str(raw) if isinstance(raw, Path) else raw
        value = _coerce(where, raw, getattr(settings, key), text=True)
        _check(where, key, value)
        values[key], origins[key] = value, where
    return validate(dataclasses.replace(settings, **values), origins)


def validate(settings: Settings, origins: Mapping[str, str] | None = None) -> Settings:
    """Every field's own check, then the cross-field ones; each error names the keys, where
    their values came from and the allowed range."""
    origins = origins or {}
    s = settings
    for key in _FIELDS:
        _check(origins.get(key, f"setting {key!r}"), key, getattr(s, key))

    def named(key: str) -> str:
        origin = origins.get(key)
        return f"{key} ({origin})" if origin else key

    if s.max_interval_s < s.min_interval_s:
        raise ConfigError(
            f"{named('min_interval_s')} must not exceed {named('max_interval_s')}: "
            f"got min {s.min_interval_s:g} > max {s.max_interval_s:g}"
        )
    if s.backoff_max_s < s.min_interval_s:
        raise ConfigError(
            f"{named('backoff_max_s')} must be at least {named('min_interval_s')}: "
            f"got {s.backoff_max_s:g} < {s.min_interval_s:g}"
        )
    return s


_DNS_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DNS_NAME = re.compile(rf"(?:{_DNS_LABEL}\.)*{_DNS_LABEL}")


def host_name(text: str) -> str | None:
    """`text` as a comparable host name (lower case, no trailing dot, IPv6 without brackets),
    or None when it is neither a DNS name nor an IP address. No port."""
    name = text.strip().lower().removesuffix(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
        if ":" not in name:
            return None
    if ":" in name:
        try:
            return str(ipaddress.IPv6Address(name))
        except ValueError:
            return None
    return name if len(name) <= 253 and _DNS_NAME.fullmatch(name) else None


def split_list(value: str) -> list[str]:
    """The items of a list-valued option: separated by commas and/or spaces."""
    return [item for item in re.split(r"[\s,]+", value) if item]
