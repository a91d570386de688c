"""kzoo.commands.bench: the checkout's benchmarks, listed and started as a child process."""

from pathlib import Path

import pytest

from kzoo.commands.bench import benchmark_areas, run_benchmarks

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_areas_are_the_checkout_s_benchmark_scripts_in_run_all_order():
    areas = benchmark_areas(REPOSITORY)
    assert areas[:6] == ["layers", "data", "models", "generation", "export", "serve"]
    assert set(areas) == {path.stem for path in (REPOSITORY / "benchmarks").glob("*.py")} - {"__init__", "run_all"}


def test_unknown_areas_and_a_folder_without_benchmarks_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown benchmark area nope; choose from layers, data, models"):
        run_benchmarks(only=["nope"], checkout=REPOSITORY)
    with pytest.raises(ValueError, match="from a kzoo checkout"):
        benchmark_areas(tmp_path)
