"""Lazy package exports resolve on first use, once, and refuse unknown names."""

from __future__ import annotations

import subprocess
import sys

import pytest

import netplanet.fetch


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"'netplanet\.fetch' has no attribute 'nope'"):
        _ = netplanet.fetch.nope  # type: ignore[attr-defined]


def test_a_name_is_imported_on_first_use_and_cached() -> None:
    code = (
        "import sys, netplanet.fetch as f\n"
        "assert 'netplanet.fetch.report' not in sys.modules\n"
        "g = f.parse_retry_after\n"
        "assert 'netplanet.fetch.report' in sys.modules\n"
        "assert f.__dict__['parse_retry_after'] is g\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
