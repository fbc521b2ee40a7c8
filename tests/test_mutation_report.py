"""scripts/mutation_report.py: the per-module score `make mutation` prints (docs/testing.md)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mutation_report.py"


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_report", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "MUTANTS", tmp_path / "mutants")
    monkeypatch.setattr(module, "DOC", tmp_path / "testing.md")
    return module


def write_meta(root: Path, module: str, codes: dict[str, int | None]) -> None:
    path = root / "mutants" / "src" / f"{module}.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes}), "utf-8")


def run(report: ModuleType, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["mutation_report.py", *args])
    code: int = report.main()
    return code


def test_scores_count_equivalents_out_and_fail_under_the_minimum(
    report: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    m = "netplanet.a.x_f__mutmut_"
    # 8 killed (exit 1, or a timeout), 1 survivor judged equivalent, 1 not.
    codes: dict[str, int | None] = {f"{m}{n}": 1 for n in range(7)}
    codes |= {f"{m}7": 36, f"{m}8": 0, f"{m}9": 0}
    write_meta(tmp_path, "netplanet/a.py", codes)
    write_meta(tmp_path, "netplanet/b.py", {"netplanet.b.x_g__mutmut_1": None})
    (tmp_path / "testing.md").write_text(
        "## Mutation testing\n\n### Surviving mutants judged equivalent\n\n"
        f"- `{m}8`: changes nothing.\n\n### Not killable here\n\n- `{m}9`: PostgreSQL only.\n",
        "utf-8",
    )
    assert report.equivalent_names() == {f"{m}8"}

    assert run(report, monkeypatch, "--min", "90", "netplanet.a.*") == 1  # 8/9 = 88.9%
    out, err = capsys.readouterr()
    assert "src/netplanet/a.py" in out and "88.9%" in out and "netplanet/b.py" not in out
    assert f"{m}9: survived" in out and f"{m}8: survived" not in out
    assert "under 90%" in err

    assert run(report, monkeypatch, "--min", "85", "netplanet.a.*") == 0
    capsys.readouterr()
    # A mutant not run yet is not killed: b scores 0 until the run is complete.
    assert run(report, monkeypatch, "--min", "85") == 1
    out, err = capsys.readouterr()
    assert "1 not run yet" in out and "src/netplanet/b.py (0.0%)" in err
