"""benchmarks/targets.py: the verdicts of the Targets table from given figures (no timing)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def targets() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_targets", BENCH / "targets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


# The figures behind docs/benchmarks.md's tables of 2026-11-21 (update at 1,000 feeds, parse,
# site at 1,000,000 entries).
FIGURES = {
    "update.cold.wall.netplanet": 21.03,
    "update.cold.wall.reader": 34.97,
    "update.cold.wall.newsboat": 16.28,
    "update.warm.cpu.netplanet": 2.26,
    "update.warm.cpu.reader": 5.92,
    "update.idle.cpu.netplanet": 1.76,
    "update.nocache.cpu.netplanet": 2.45,
    "update.base_cpu": 0.39,
    "parse.corpus.netplanet": 997.0,
    "parse.corpus.feedparser": 20.56,
    "parse.synthetic.ratio": 60.2,
    "parse.counts_pct": 96.47,
    "parse.counts_dedup_pct": 100.0,
    "parse.links_pct": 100.0,
    "parse.files": 85,
    "parse.count_mismatches": 3,
    "site.entries": 1_000_000,
    "site.deep": 3.42,
    "site.page1": 3.43,
    "site.newest": 2.90,
    "site.front": 4.31,
    "site.deep_page": 11_508,
    "site.category_pages": 12_508,
    "site.home": 5.81,
    "site.home_p95": 6.74,
    "site.home_cached": 0.67,
}


def verdicts(targets: ModuleType, figures: dict[str, float]) -> list[str]:
    return [row.verdict for row in targets.evaluate(figures)]


def test_verdicts_of_the_recorded_figures(targets: ModuleType) -> None:
    assert verdicts(targets, FIGURES) == [
        "**missed**, 6.0x over (needs ≤ 3.50 s)",
        "**missed**, 3.9x over (needs ≤ 5.43 s)",
        "**missed**, 3.8x over (needs ≤ 0.59 s; 0.39 s of it is start-up)",
        "**missed**, 1.4x over (needs < 1 ms)",
        "**missed**, 2.1x over (needs < 1 ms)",
        "**missed**, by 1.03x (needs ≥ 50x); synthetic feeds: met",
        "**missed**, 2.5 points under (needs ≥ 99%); met after GUID de-duplication",
        "**met** (needs ≥ 99%)",
        "**met**, 17% under (needs ≤ 1.20x)",
        "**met**, 42% under (needs < 10 ms)",
    ]
    rows = targets.evaluate(FIGURES)
    assert rows[0].measured == "21.03 s vs 34.97 s = 0.60x"
    assert rows[0].source == "Update speed: 1,000 feeds"
    assert rows[-1].source == "Site speed: 1,000,000 entries"


def test_boundaries(targets: ModuleType) -> None:
    # "<= 1/10 of reader's" is met at exactly 1/10; "< 1 ms" is missed at exactly 1 ms.
    exact = {
        **FIGURES,
        "update.cold.wall.netplanet": 3.497,
        "update.base_cpu": 0.5,
        "update.idle.cpu.netplanet": 1.5,
        "parse.corpus.netplanet": 50 * 20.56,
        "parse.counts_pct": 99.0,
    }
    got = verdicts(targets, exact)
    assert got[0].startswith("**met**")
    assert got[3].startswith("**missed**")
    assert got[5].startswith("**met**")
    assert got[6] == "**met** (needs ≥ 99%)"


def test_missing_figures_are_not_measured(targets: ModuleType) -> None:
    rows = targets.evaluate({})
    assert len(rows) == 10
    assert all(row.verdict == "not measured" for row in rows)
    partial = {k: v for k, v in FIGURES.items() if not k.startswith("update.")}
    assert verdicts(targets, partial)[:5] == ["not measured"] * 5
    assert verdicts(targets, partial)[5].startswith("**missed**")


def test_site_target_needs_its_size(targets: ModuleType) -> None:
    small = {**FIGURES, "site.entries": 100_000, "site.deep_page": 1, "site.category_pages": 267}
    rows = targets.evaluate(small)
    # The category is not 1,000 pages deep, and the home target is set at 1,000,000 entries.
    assert rows[8].verdict == "not measured"
    assert rows[9].verdict == "not measured at 1,000,000 entries"
    assert rows[9].source == "Site speed: 100,000 entries"


def test_cost_per_feed_is_marginal_when_both_sizes_ran(targets: ModuleType) -> None:
    both = {
        **FIGURES,
        "update.small.idle.cpu.netplanet": 0.77,
        "update.small.nocache.cpu.netplanet": 0.93,
    }
    rows = targets.evaluate(both)
    # (1.76 - 0.77) s over 800 more feeds; the start-up-only figure stays beside it.
    assert rows[3].measured.startswith("1.24 ms per feed, marginal")
    assert "1.37 ms with only the start-up" in rows[3].measured
    assert rows[3].verdict == "**missed**, 1.2x over (needs < 1 ms)"
    cheap = {**both, "update.idle.cpu.netplanet": 0.77 + 0.79}
    assert targets.evaluate(cheap)[3].verdict.startswith("**met**")
