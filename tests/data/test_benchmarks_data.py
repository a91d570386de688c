"""benchmarks/data.py: the importable throughput function returns a rate."""

from benchmarks.data import pipeline_examples_per_second


def test_pipeline_examples_per_second_counts_rows():
    rate = pipeline_examples_per_second("digits", 32, warmup_batches=1, measure_batches=3)
    assert rate > 100.0  # 96 images; even a loaded 2-core machine decodes nothing here
