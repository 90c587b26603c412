"""The benchmarks keep working: each runs end to end on a small catalogue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent

pytestmark = pytest.mark.e2e


def test_catalog_refresh_benchmark_runs_and_reports(tmp_path):
    output = tmp_path / "figures.json"
    environ = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, str(BENCH / "catalog_refresh.py"), "--products", "300",
         "--groups", "10", "--json", str(output)],
        env=environ, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(output.read_text())
    assert figures["full"]["products_written"] == 300
    assert figures["full"]["evotor_requests"] == 5  # stores + 2 × (groups + products)
    assert 0 < figures["incremental"]["products_written"] < 300
    assert figures["problems"] == []
    assert "All targets met." in result.stdout
