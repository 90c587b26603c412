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


def _quick_commands() -> list[str]:
    """The commands `make proofs` runs (the Makefile's PROOFS list), which CI runs."""
    makefile = (BENCH.parent / "Makefile").read_text()
    line = next(row for row in makefile.splitlines() if row.startswith("PROOFS ?="))
    return line.split("=", 1)[1].split()


def test_make_proofs_runs_every_bench_command():
    commands = {path.stem for path in BENCH.glob("*.py")} - {"__init__", "test_benchmarks",
                                                             "proofs_common"}
    assert sorted(_quick_commands()) == sorted(commands)


@pytest.mark.parametrize("name", _quick_commands())
def test_every_bench_command_has_a_quick_mode(name):
    result = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout
