"""Quality floors: what a short seeded run of each task's tiny preset must still reach.

The data the guarded test (tests/training/test_quality_floors.py) asserts and the
quality benchmark (`python -m benchmarks.quality`) reports beside its full runs,
kept here, in one place, so the documented floors and the guarded ones cannot
drift apart. A floor sits well above what an untrained model scores (chance, or a
perplexity near the vocabulary size) and well below what the short run reached
when it was measured, so a regression in the layers, the data pipelines, the
losses or the recipe shows up as a failed floor, not as a slow drift nobody
notices. The runs are seeded; the margin covers thread-count and library-version
noise.

Example:
```python
config, limit = short_run("digits", "runs/floor-digits")
results = evaluate(train(config), limit=limit, write=False)
below_floor("digits", results)   # [] when every floor holds
```
"""

from kzoo.training.recipe import RunConfig

# task -> {metric: floor}. What each short run (SHORT_RUNS below) reached, measured three
# times on 2 shared CPU cores at load averages 4 to 7 (TensorFlow 2.21, Keras 3.15), and
# what a 2-step run of the same config scores ("untrained"):
FLOORS = {
    # BLEU 64.0 / chrF 72.0 / exact match 25.5 %, all three times. Untrained: 0 / 0 / 0.
    "numbers_en_de": {"bleu": 40.0, "chrf": 55.0, "exact_match": 10.0},
    # accuracy 63.3 %, all three times. Untrained: 12.5 % (chance, 8 languages).
    "language_id": {"accuracy": 45.0},
    # entity F1 30.0, 31.9, 31.2. Untrained: 3.7.
    "faker_ner": {"entity_f1": 18.0},
    # perplexity 143.7, all three times (a ceiling). Untrained: 468 (vocabulary 500).
    "pydoc_topics": {"perplexity": 200.0},
    # accuracy 78.9 %, all three times. Untrained: 12.8 % (chance 10 %, 10 digits).
    "digits": {"accuracy": 60.0},
}
LOWER_IS_BETTER = ("perplexity",)

# task -> the short run: RunConfig fields (one epoch of `steps`, warm-up a tenth of it),
# and `limit`, how many test examples `evaluate` reads (None: the whole test split).
SHORT_RUNS = {
    "numbers_en_de": dict(preset="transformer_tiny", steps=300, batch_size=32, learning_rate=3e-3,
                          vocabulary_size=500, max_examples=10000, limit=200),
    "language_id": dict(preset="classifier_tiny", steps=100, batch_size=32, learning_rate=1e-3,
                        vocabulary_size=500, max_examples=4000, limit=None),
    "faker_ner": dict(preset="tagger_tiny", steps=100, batch_size=32, learning_rate=1e-3,
                      vocabulary_size=500, max_examples=4000, limit=300),
    "pydoc_topics": dict(preset="causal_lm_tiny", steps=60, batch_size=16, learning_rate=1e-3,
                         vocabulary_size=500, max_examples=None, limit=None),
    "digits": dict(preset="vit_tiny", steps=100, batch_size=32, learning_rate=1e-3,
                   vocabulary_size=500, max_examples=None, limit=None),
}


def short_run(task, run_dir):
    """(RunConfig, evaluate limit) of the short run of `task` into `run_dir`."""
    spec = dict(SHORT_RUNS[task])
    steps, limit = spec.pop("steps"), spec.pop("limit")
    config = RunConfig(task=task, run_dir=str(run_dir), epochs=1, steps_per_epoch=steps,
                       warmup_steps=max(1, steps // 10), **spec)
    return config, limit


def below_floor(task, results):
    """One line per metric of `results` that misses its floor in `FLOORS[task]`."""
    misses = []
    for metric, floor in FLOORS[task].items():
        value = results[metric]
        if metric in LOWER_IS_BETTER and not value <= floor:
            misses.append(f"{task}: {metric} {value:.2f} is above its ceiling {floor}")
        elif metric not in LOWER_IS_BETTER and not value >= floor:
            misses.append(f"{task}: {metric} {value:.2f} is below its floor {floor}")
    return misses
