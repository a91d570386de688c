"""Quality floors: a short seeded run of each task's tiny preset still learns its task.

One test per task kind: `kzoo.training.recipe.train` runs the tiny preset for a
few hundred steps (`SHORT_RUNS`), `evaluate` scores it on the test split, and
every metric must clear its floor in `FLOORS` (perplexity, lower is better, must
stay under its ceiling). A floor sits well above what an untrained model scores
(chance, or a perplexity near the vocabulary size) and well below what the short
run reached when it was measured, so a regression in the layers, the data
pipelines, the losses or the recipe shows up as a failed floor, not as a slow
drift nobody notices. The runs are seeded; the margin covers thread-count and
library-version noise.

The runs and floors are `kzoo.training.quality_floors`; `python -m benchmarks.quality`
runs these same short runs beside the full `*_small` runs and writes both to the
`quality` section of docs/benchmarks.md.
"""

import pytest

from kzoo.training.quality_floors import FLOORS, SHORT_RUNS, below_floor, short_run
from kzoo.training.recipe import evaluate, train


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(SHORT_RUNS))
def test_a_short_run_of_the_tiny_preset_clears_the_quality_floor(tmp_path, task):
    config, limit = short_run(task, tmp_path / "run")
    run_dir = train(config, verbose=0)
    results = evaluate(run_dir, limit=limit, write=False)
    assert set(FLOORS[task]) <= set(results), f"evaluate() did not report {sorted(set(FLOORS[task]) - set(results))}"
    assert below_floor(task, results) == []


def test_below_floor_names_every_missed_floor_and_ceiling():
    assert below_floor("digits", {"accuracy": FLOORS["digits"]["accuracy"]}) == []
    assert below_floor("digits", {"accuracy": 12.8}) == ["digits: accuracy 12.80 is below its floor 60.0"]
    assert below_floor("pydoc_topics", {"perplexity": 468.0}) == ["pydoc_topics: perplexity 468.00 is above its ceiling 200.0"]
