"""Configuration: defaults, TOML, NETPLANET_* environment, clear errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from netplanet.errors import ConfigError
from netplanet.settings import Settings, load_settings


def test_private_networks_are_refused_by_default() -> None:
    assert load_settings(env={}).allow_private_networks is False


def test_environment_overrides_toml(tmp_path: Path) -> None:
    config = tmp_path / "netplanet.toml"
    config.write_text('fetch_per_host = 3\nsite_title = "My Planet"\n')
    env = {"NETPLANET_FETCH_PER_HOST": "5", "NETPLANET_ALLOW_PRIVATE_NETWORKS": "1"}
    settings = load_settings(config, env=env)
    assert (settings.fetch_per_host, settings.site_title) == (5, "My Planet")
    assert settings.allow_private_networks is True


def test_config_path_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("port = 9000\n")
    assert load_settings(env={"NETPLANET_CONFIG": str(config)}).port == 9000


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(env={"NETPLANET_DATA_DIR": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'netplanet.db'}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NETPLANET_PORT": "eighty"}, "NETPLANET_PORT"),
        ({"NETPLANET_ALLOW_PRIVATE_NETWORKS": "maybe"}, "NETPLANET_ALLOW_PRIVATE_NETWORKS"),
        ({"NETPLANET_MAX_BODY_BYTES": "-1"}, "NETPLANET_MAX_BODY_BYTES: must be an integer from"),
    ],
)
def test_bad_environment_value_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_unknown_toml_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "netplanet.toml"
    config.write_text("fetch_concurency = 3\n")
    with pytest.raises(ConfigError, match="unknown key 'fetch_concurency'"):
        load_settings(config, env={})


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "netplanet.toml"
    config.write_text("port = = 1\n")
    with pytest.raises(ConfigError, match=r"netplanet\.toml"):
        load_settings(config, env={})


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_unreadable_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read config file .*: Is a directory"):
        load_settings(tmp_path, env={})
    binary = tmp_path / "netplanet.toml"
    binary.write_bytes(b"port = 1\n\xff\xfe")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_settings(binary, env={})


def test_secrets_are_masked() -> None:
    settings = load_settings(
        env={"NETPLANET_DATABASE_URL": "postgresql+psycopg://planet:hunter2@db/planet"}
    )
    shown = settings.masked()
    assert "hunter2" not in str(shown)
    assert shown["database_url"] == "postgresql+psycopg://planet:***@db/planet"


def test_topics_file_is_a_path_from_file_or_environment(tmp_path: Path) -> None:
    assert Settings().topics_file == "" and Settings().topics_path is None
    config = tmp_path / "netplanet.toml"
    config.write_text('topics_file = "~/planet/topics.toml"\n')
    settings = load_settings(config, env={})
    assert settings.topics_path == Path.home() / "planet" / "topics.toml"
    from_env = load_settings(None, env={"NETPLANET_TOPICS_FILE": "/srv/topics.toml"})
    assert from_env.topics_path == Path("/srv/topics.toml")


def test_topics_file_with_control_characters_is_refused() -> None:
    with pytest.raises(ConfigError, match="NETPLANET_TOPICS_FILE: must be a file path"):
        load_settings(None, env={"NETPLANET_TOPICS_FILE": "a\nb.toml"})
