"""benchmarks/data.py, run as a script: the pipeline rate it reports is a real rate."""

import json
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_data_benchmark_reports_pipeline_rates(tmp_path):
    rows_file = tmp_path / "rows.json"
    command = [sys.executable, "-m", "benchmarks.data", "--tasks", "digits", "--batch-size", "32", "--batches", "3",
               "--no-train-step", "--json", str(rows_file)]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads(rows_file.read_text())
    assert row["task"] == "digits" and row["kind"] == "image_classification"
    # 96 images; even a loaded 2-core machine decodes more than 100 a second here.
    assert row["examples_per_second"] > 100.0 and row["cached_examples_per_second"] > 100.0
