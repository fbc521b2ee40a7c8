"""Helpers shared by the benchmark scripts: machine description, statistics, docs sections.

Every script writes its figures into docs/benchmarks.md under its own "## " heading and keeps
every other section (for example "## Parse speed" or "## Workers and backends") as it is.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line() -> str:
    return (
        f"{os.cpu_count()} cores ({cpu_model()}), "
        f"{_mem_gib():.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def _mem_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> list[str]:
    """A Markdown table; `align` has one letter per column ('l' or 'r'), default right but first."""
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---" if a == "l" else "---:" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def write_section(heading: str, body: str) -> None:
    """Replace the section under `heading` ("## ...") in docs/benchmarks.md, or append it."""
    existing = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    text = body.rstrip("\n") + "\n\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(existing):
        updated = pattern.sub(lambda _: text, existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + text
    DOCS.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
    print(f"written {heading!r} to {DOCS.relative_to(ROOT)}", file=sys.stderr)


def src_commit() -> str:
    """Short hash of the last commit, with "+dirty" when src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def run_stamp() -> dict[str, Any]:
    """What every saved result file records: when, on which code, on which machine and load."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": src_commit(),
        "machine": machine_line(),
        "load": load_average(),
    }


def save_json(path: Path, data: dict[str, Any]) -> None:
    """Write a script's figures beside its docs section (benchmarks/targets.py reads them)."""
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"saved {shown}", file=sys.stderr)


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    return f"{ms:.2f}"
