"""`netplanet service systemd [--user]`: a unit that runs this netplanet, restarts it on
failure, is hardened, and may write only the data directory; systemd-analyze accepts it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builders import cli


def unit_text(capsys: pytest.CaptureFixture[str], data_dir: Path, *extra: str) -> str:
    code, out, err = cli(capsys, "--data-dir", str(data_dir), "service", "systemd", *extra)
    assert code == 0, err
    return out


def parse(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections → keys → values (a key may repeat, as systemd allows)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


@pytest.mark.parametrize("user", [False, True])
def test_the_unit_runs_netplanet_hardened_writing_only_the_data_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, user: bool
) -> None:
    data = tmp_path / "data"
    unit = parse(unit_text(capsys, data, *(["--user"] if user else [])))
    service = unit["Service"]
    command = service["ExecStart"][0].split()
    assert command[-1] == "run" and os.access(command[0], os.X_OK)
    assert service["Restart"] == ["on-failure"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["ReadWritePaths"] == [str(data)]
    assert service["Environment"] == [f"NETPLANET_DATA_DIR={data}"]
    assert service["ProtectHome"] == (["read-only"] if user else ["yes"])
    assert ("User" in service) is not user
    assert unit["Install"]["WantedBy"] == ["default.target" if user else "multi-user.target"]
    if not user:
        assert service["CapabilityBoundingSet"] == [""]
        assert service["PrivateDevices"] == ["yes"]


def test_a_sqlite_file_elsewhere_makes_its_directory_writable_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    elsewhere = tmp_path / "db" / "planet.db"
    elsewhere.parent.mkdir()
    elsewhere.touch()
    code, out, err = cli(
        capsys,
        "--database",
        f"sqlite:///{elsewhere}",
        "--data-dir",
        str(data),
        "service",
        "systemd",
    )
    assert code == 0, err
    assert parse(out)["Service"]["ReadWritePaths"] == [f"{data} {elsewhere.parent}"]
    assert "postgresql" not in out.lower().replace("netplanet_database_url", "")


@pytest.mark.parametrize("user", [False, True])
def test_systemd_analyze_verifies_the_unit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, user: bool
) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        reason = "systemd-analyze is not installed (apt-get install systemd)"
        if os.environ.get("CI"):
            pytest.fail(f"systemd-analyze is required in CI: {reason}", pytrace=False)
        pytest.skip(f"{reason}; the unit's contents are still checked by the tests above")
    path = tmp_path / "netplanet.service"
    path.write_text(unit_text(capsys, tmp_path / "data", *(["--user"] if user else [])))
    runtime = tmp_path / "runtime"  # a user manager needs a runtime directory
    runtime.mkdir(mode=0o700)
    result = subprocess.run(
        [analyze, *(["--user"] if user else []), "verify", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        timeout=60,
    )
    # Unknown keys and bad values are only warnings (exit 0): none is allowed.
    assert result.returncode == 0 and result.stderr == "", result.stderr
