"""Configuration: defaults, then a TOML file, then NETPLANET_* environment variables.

Every option is a flat key; the environment variable is the key upper-cased with a NETPLANET_
prefix (e.g. `allow_private_networks` -> NETPLANET_ALLOW_PRIVATE_NETWORKS). Bad values raise
ConfigError naming the key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from netplanet import __version__
from netplanet.errors import ConfigError

PROJECT_URL = "https://github.com/netplanet/netplanet"
ENV_PREFIX = "NETPLANET_"
CONFIG_ENV = "NETPLANET_CONFIG"
_SECRET_KEYS = frozenset({"database_url", "secret_key"})


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "netplanet"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    database_url: str = ""
    """SQLAlchemy URL; empty means SQLite at <data_dir>/netplanet.db."""
    allow_private_networks: bool = False
    """Allow fetching from loopback/private/link-local addresses (off by default: SSRF guard)."""
    fetch_concurrency: int = 20
    parse_workers: int = -1
    """Processes that parse and enrich fetched feeds beside the fetching event loop;
    -1 means one per CPU core (none on a single core), 0 means parse inline."""
    fetch_per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    excerpt_words: int = 75
    host: str = "127.0.0.1"
    port: int = 8080
    site_title: str = "netplanet"
    site_url: str = ""
    """Public base URL of the planet (links in pages and output feeds). Empty: the first base URL
    a request names (its scheme and Host) is stored in the database and used from then on."""
    allowed_hosts: str = ""
    """Host names (comma-separated) answered besides the site's own and the loopback names;
    other Host headers get 400. With it set, only these may fix the base URL."""
    update_interval_s: int = 1800
    """Poll interval for a source whose posting rate is not known yet (clamped to min/max)."""
    secret_key: str = ""
    """Signs admin sessions; empty means a random key generated once and kept in the database."""
    # --- scheduling (schedule.py; see docs/design-notes.md "Scheduling")
    min_interval_s: float = 900.0
    """Shortest poll interval, for the busiest feeds."""
    max_interval_s: float = 14400.0
    """Longest poll interval for a healthy feed (quiet blogs); feed hints are clamped to it."""
    backoff_max_s: float = 86400.0
    """Cap of the exponential back-off after failures (and of a Retry-After)."""
    dead_after_s: float = 7 * 86400.0
    """A source failing for this long is marked dead and then retried once a day."""
    dead_retry_s: float = 86400.0
    jitter: float = 0.1
    """Each interval is spread by +/- this fraction, so polls do not align."""
    per_host_gap_s: float = 1.0
    """Minimum time between the starts of two requests to the same host."""
    slow_response_ms: int = 5000
    """A source whose average response time is above this is shown as slow."""
    # --- admin area (web/auth.py)
    admin_session_s: int = 12 * 3600
    """How long an admin login lasts."""
    trust_proxy_headers: bool = False
    """Behind a reverse proxy: take the scheme from X-Forwarded-Proto (Secure cookies, HSTS) and
    the client address from X-Forwarded-For (login rate limiting), but only on connections from
    `trusted_proxies`. Off: both headers are ignored."""
    trusted_proxies: str = "127.0.0.0/8, ::1"
    """Addresses or networks (comma-separated) of the reverse proxies in front of the planet."""
    login_max_failures: int = 5
    """Failed sign-ins per client address (IPv6: per /64) within login_window_s."""
    login_account_max_failures: int = 20
    """Failed sign-ins from all addresses together within login_window_s."""
    login_window_s: int = 900
    """The window of both login limits."""
    # --- imports (source_import.py)
    opml_max_outlines: int = 10_000
    """Most feed outlines one OPML import may hold (CLI and admin); a bigger file is refused
    whole. The file itself may be 512 bytes per allowed outline (at least 5 MB)."""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'netplanet.db'}"

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


def _mask(value: str) -> str:
    if "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return "***" if "://" not in value else value


def _coerce(key: str, raw: Any, target: Any) -> Any:
    kind = type(target)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(text)
        if kind is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            value: Any = int(raw)
        elif kind is float:
            value = float(raw)
        elif isinstance(target, Path):
            value = Path(str(raw)).expanduser()
        elif isinstance(raw, list):  # a TOML array for a list-valued option
            value = ", ".join(str(item) for item in raw)
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"config key {key!r}: expected {kind.__name__}, got {raw!r}") from None
    if isinstance(value, int | float) and value < 0:
        raise ConfigError(f"config key {key!r}: must not be negative, got {raw!r}")
    return value


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build Settings from defaults, the TOML file (if any), the environment and overrides."""
    env = os.environ if env is None else env
    base = Settings()
    values: dict[str, Any] = {}
    known = {f.name: getattr(base, f.name) for f in fields(base)}

    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {path} is not UTF-8 text") from None
        except OSError as exc:  # a directory, no permission, ...
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        for key, raw in data.items():
            if key not in known:
                raise ConfigError(f"config file {path}: unknown key {key!r}")
            values[key] = _coerce(key, raw, known[key])

    for key, default in known.items():
        env_name = ENV_PREFIX + key.upper()
        if env_name in env:
            values[key] = _coerce(env_name, env[env_name], default)

    for key, raw in overrides.items():
        if raw is None:
            continue
        if key not in known:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = _coerce(key, raw, known[key])

    return validate(dataclasses.replace(base, **values))


def validate(settings: Settings) -> Settings:
    """Cross-field checks; each error names the key(s) and the allowed range."""
    s = settings
    if s.min_interval_s <= 0:
        raise ConfigError(f"config key 'min_interval_s': must be above 0, got {s.min_interval_s}")
    if s.max_interval_s < s.min_interval_s:
        raise ConfigError(
            f"config keys 'min_interval_s'/'max_interval_s': min ({s.min_interval_s:g}) "
            f"must not exceed max ({s.max_interval_s:g})"
        )
    if s.backoff_max_s < s.min_interval_s:
        raise ConfigError(
            f"config key 'backoff_max_s': must be at least min_interval_s "
            f"({s.min_interval_s:g}), got {s.backoff_max_s:g}"
        )
    if not 0 <= s.jitter <= 0.5:
        raise ConfigError(f"config key 'jitter': must be between 0 and 0.5, got {s.jitter:g}")
    for key in ("dead_after_s", "dead_retry_s", "admin_session_s", "login_window_s"):
        if getattr(s, key) <= 0:
            raise ConfigError(f"config key {key!r}: must be above 0, got {getattr(s, key)}")
    for key in ("login_max_failures", "login_account_max_failures"):
        if getattr(s, key) < 1:
            raise ConfigError(f"config key {key!r}: must be at least 1, got {getattr(s, key)}")
    _check_site_url(s.site_url)
    for host in split_list(s.allowed_hosts):
        if host_name(host) is None:
            raise ConfigError(f"config key 'allowed_hosts': {host!r} is not a host name")
    for net in split_list(s.trusted_proxies):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(
                f"config key 'trusted_proxies': {net!r} is not an address or network"
            ) from None
    if s.opml_max_outlines < 1:
        raise ConfigError(
            f"config key 'opml_max_outlines': must be at least 1, got {s.opml_max_outlines}"
        )
    return s


_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DNS_NAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")


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


def _check_site_url(url: str) -> None:
    if not url:
        return
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"config key 'site_url': expected the planet's public URL like "
            f"https://planet.example.org/, got {url!r}"
        )
