"""The rules that keep the corpus and golden tests honest, checked by running pytest itself.

- A test of the shared corpus (../shared/corpus/feeds) skips when the corpus is absent (a fresh
  clone), but fails under CI (env CI set): a skipped corpus test protects nothing.
- Golden write mode (NETPLANET_GOLDEN_WRITE=1) records and then fails the run, so a
  re-recording can never pass as a green run.

NETPLANET_TEST_CORPUS and NETPLANET_GOLDEN_DIR point the child run at a missing corpus and a
scratch golden folder; the real corpus and the committed golden files are never touched.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_enrich_golden import GOLDEN, GOLDEN_CORPUS, _dump_corpus

TESTS = Path(__file__).parent
ROOT = TESTS.parent
# Every file with corpus tests; the first test below checks that none is missing here.
CORPUS_FILES = (
    "tests/test_enrich_golden.py",
    "tests/test_excerpt_corpus.py",
    "tests/test_fuzz_update.py",
    "tests/test_ingest_corpus.py",
    "tests/test_parse_corpus.py",
)


def pytest_run(*args: str, **env: str | None) -> tuple[int, str]:
    """Run pytest in a child process from the repository root; env values of None unset."""
    child_env = dict(os.environ)
    for name, value in env.items():
        if value is None:
            child_env.pop(name, None)
        else:
            child_env[name] = value
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfs", *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _counts(output: str) -> dict[str, int]:
    summary = output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary)}


def test_every_file_that_reads_the_corpus_marks_its_tests() -> None:
    uses = re.compile(r"\bCORPUS\b|\bcorpus_dir\b|require_corpus\(")
    readers = sorted(
        f"tests/{p.name}"
        for p in TESTS.glob("test_*.py")
        if p.name != Path(__file__).name and uses.search(p.read_text("utf-8"))
    )
    assert readers == sorted(CORPUS_FILES)
    for name in CORPUS_FILES:
        assert "pytest.mark.corpus" in (ROOT / name).read_text("utf-8"), name


def test_a_missing_corpus_skips_locally_and_fails_under_ci(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-corpus")
    selection = ("-m", "corpus and not postgres", *CORPUS_FILES)

    code, out = pytest_run(*selection, CI=None, NETPLANET_TEST_CORPUS=missing)
    counts = _counts(out)
    assert code == 0, out
    assert counts.get("skipped", 0) >= len(CORPUS_FILES), out
    assert "passed" not in counts and "failed" not in counts, out

    code, out = pytest_run(*selection, CI="1", NETPLANET_TEST_CORPUS=missing)
    counts = _counts(out)
    assert code == 1, out
    # The corpus fixture fails at setup: pytest counts those as errors, not failures.
    assert counts.get("failed", 0) + counts.get("errors", 0) >= len(CORPUS_FILES), out
    assert "passed" not in counts and "skipped" not in counts, out
    assert f"feed corpus not present at {missing}: corpus tests must run under CI" in out


def test_golden_write_mode_records_and_then_fails(tmp_path: Path) -> None:
    code, out = pytest_run(
        "tests/test_enrich_golden.py::test_outputs_match_the_recorded_ones",
        NETPLANET_GOLDEN_WRITE="1",
        NETPLANET_GOLDEN_DIR=str(tmp_path),
    )
    assert code == 1, out
    assert "NETPLANET_GOLDEN_WRITE=1: recorded" in out
    written = tmp_path / GOLDEN.name
    # The run rewrote nothing: what it records is what is committed.
    assert json.loads(written.read_text("utf-8")) == json.loads(GOLDEN.read_text("utf-8"))


def test_corpus_golden_file_is_one_readable_line_per_entry() -> None:
    text = GOLDEN_CORPUS.read_text("utf-8")
    recorded = json.loads(text)
    assert _dump_corpus(recorded) == text  # stays in the one-line-per-entry layout
    entries = [e for feed in recorded.values() for e in feed]
    assert len(entries) > 1000
    assert len(text) < 600 * 1024
    for e in entries:
        assert set(e) == {"url", "published", "title", "content", "excerpt", "text"}
        assert e["url"].startswith(("http://", "https://")), e
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", e["published"]), e
        assert re.fullmatch(r"\d+ words…? #[0-9a-f]{8}", e["excerpt"]), e


@pytest.mark.parametrize("folder", ["corpus", "golden"])
def test_the_overrides_default_to_the_real_locations(folder: str) -> None:
    from builders import CORPUS, SHARED

    if folder == "corpus" and not os.environ.get("NETPLANET_TEST_CORPUS"):
        assert CORPUS == SHARED / "corpus" / "feeds"
    if folder == "golden" and not os.environ.get("NETPLANET_GOLDEN_DIR"):
        assert GOLDEN.parent == TESTS / "data"
