"""Input-pipeline throughput of every bundled task: examples per second of tf.data alone.

For each task this builds the training pipeline `kzoo.data.task_dataset`
makes (tokenize + pack + batch + shuffle + prefetch), pulls a few warm-up
batches, then times `measure_batches` batches and prints one table row with
two rates: without cache (tokenization measured every time) and with the
tokenized examples cached in memory (what a multi-epoch run sees after the
first epoch). Tokenizers are trained once per task
(`kzoo.data.train_task_tokenizer`: SentencePiece; images need none) and are
not part of the timing. `pipeline_examples_per_second` is importable so
another script can set it against a model's train step, and `--json PATH` writes the rows.

Usage:
```
.venv/bin/python -m benchmarks.data                     # every task, batch 64
.venv/bin/python -m benchmarks.data --batch-size 32 --tasks numbers_en_de faker_ner
```

Example:
```python
from benchmarks.data import pipeline_examples_per_second
rate = pipeline_examples_per_second("numbers_en_de", batch_size=64)
```
"""

import argparse
import time

MASKED_LM_SUFFIX = ":masked_lm"


def benchmark_tokenizer(task_name):
    """The task's default tokenizer (`kzoo.data.train_task_tokenizer`); None for images.

    Example: `benchmark_tokenizer("language_id").vocabulary_size`.
    """
    import kzoo.data

    if kzoo.data.task_info(task_name)["kind"] == "image_classification":
        return None
    return kzoo.data.train_task_tokenizer(task_name)


def _dataset(task_name, batch_size, sequence_length, cache):
    import kzoo.data

    masked = task_name.endswith(MASKED_LM_SUFFIX)
    name = task_name[: -len(MASKED_LM_SUFFIX)] if masked else task_name
    task = kzoo.data.load_task(name)
    tokenizer = benchmark_tokenizer(name)
    if masked:
        length = sequence_length or kzoo.data.DEFAULT_SEQUENCE_LENGTHS[task.kind]
        return task, kzoo.data.masked_lm_dataset(
            task.train, tokenizer, batch_size=batch_size, sequence_length=length, shuffle=True, seed=task.seed, cache=cache
        )
    return task, kzoo.data.task_dataset(
        task, "train", tokenizer, batch_size=batch_size, sequence_length=sequence_length, cache=cache
    )


def pipeline_examples_per_second(task_name, batch_size=64, *, sequence_length=None, cache=False, warmup_batches=5, measure_batches=50):
    """Examples per second the training pipeline of `task_name` delivers, after warm-up.

    Args:
        task_name: str. A bundled task, or `"<language modelling task>:masked_lm"`
            for the MLM pipeline.
        batch_size: int. Defaults to 64.
        sequence_length: int or None. Defaults to the kind's default.
        cache: bool. Cache tokenized examples in memory; the timing then starts
            after one full pass, so it measures shuffle + pack + batch only.
            Defaults to False (tokenization included).
        warmup_batches: int. Batches pulled before timing. Defaults to 5.
        measure_batches: int. Batches timed (the pipeline repeats as needed). Defaults to 50.

    Returns:
        float: examples (rows of the batches) per second.

    Example:
    ```python
    pipeline_examples_per_second("faker_ner", 32)
    ```
    """
    import tensorflow as tf

    _, dataset = _dataset(task_name, batch_size, sequence_length, cache)
    if cache:
        for _ in dataset:  # fill the cache
            pass
    iterator = iter(dataset.repeat())
    for _ in range(warmup_batches):
        next(iterator)
    examples = 0
    start = time.perf_counter()
    for _ in range(measure_batches):
        batch = next(iterator)
        examples += int(tf.shape(tf.nest.flatten(batch[1])[0])[0])
    return examples / (time.perf_counter() - start)


# The small preset that learns each task kind (the model the pipeline must keep fed).
TRAIN_PRESETS = {
    "translation": "transformer_small",
    "classification": "classifier_small",
    "tagging": "tagger_small",
    "language_modeling": "causal_lm_small",
    "language_modeling (MLM)": "mlm_small",
    "image_classification": "vit_small",
}


def train_step_examples_per_second(task_name, batch_size=64, warmup_steps=2, measure_steps=10):
    """Examples per second `model.train_on_batch` consumes for the task's small preset (one fixed batch)."""
    import keras
    import numpy as np

    import kzoo
    import kzoo.data

    masked = task_name.endswith(MASKED_LM_SUFFIX)
    task, dataset = _dataset(task_name, batch_size, None, False)
    kind = task.kind + (" (MLM)" if masked else "")
    inputs, targets, *weights = next(iter(dataset))
    overrides = {}
    tokenizer = benchmark_tokenizer(task.name)
    if tokenizer is not None:
        overrides["vocabulary_size"] = tokenizer.vocabulary_size
    if task.kind in ("classification", "image_classification"):
        overrides["num_classes"] = len(task.label_names)
    if task.kind == "tagging":
        overrides["num_tags"] = len(task.label_names)
    model = kzoo.create(TRAIN_PRESETS[kind], **overrides)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batch = (inputs, targets, weights[0]) if weights else (inputs, targets)
    for _ in range(warmup_steps):
        model.train_on_batch(*batch)
    start = time.perf_counter()
    for _ in range(measure_steps):
        model.train_on_batch(*batch)
    return int(np.shape(np.asarray(targets))[0]) * measure_steps / (time.perf_counter() - start)


def main(argv=None):
    import kzoo.data

    parser = argparse.ArgumentParser(description="Examples/s of the kzoo.data input pipelines alone.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=50, help="timed batches per task")
    parser.add_argument("--tasks", nargs="*", default=None, help="task names (default: all, plus pydoc_topics:masked_lm)")
    parser.add_argument("--quick", action="store_true", help="one task per kind, 20 batches")
    parser.add_argument("--markdown", help="replace the `data` section of this markdown file")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to PATH as JSON")
    parser.add_argument("--no-train-step", action="store_true", help="time the pipelines only, not the train steps")
    args = parser.parse_args(argv)
    names = args.tasks or kzoo.data.task_names() + ["pydoc_topics" + MASKED_LM_SUFFIX]
    if args.quick and not args.tasks:
        names = ["numbers_en_de", "language_id", "faker_ner", "pydoc_topics", "digits"]
        args.batches = 20
    rows = []
    for name in names:
        benchmark_tokenizer(name.split(":")[0])  # trained before, not during, the timing
        rate = pipeline_examples_per_second(name, args.batch_size, measure_batches=args.batches)
        cached = pipeline_examples_per_second(name, args.batch_size, cache=True, measure_batches=args.batches)
        kind = kzoo.data.task_info(name.split(":")[0])["kind"] + (" (MLM)" if name.endswith(MASKED_LM_SUFFIX) else "")
        trained = float("nan") if args.no_train_step else train_step_examples_per_second(name, args.batch_size)
        rows.append((name, kind, rate, cached, TRAIN_PRESETS[kind], trained))
    print(f"{'task':<26} {'kind':<26} {'batch':>5} {'examples/s':>12} {'cached':>12}  {'train step of':<18} {'examples/s':>10} {'pipeline/train':>14}")
    for name, kind, rate, cached, preset, trained in rows:
        print(f"{name:<26} {kind:<26} {args.batch_size:>5} {rate:>12,.0f} {cached:>12,.0f}  {preset:<18} {trained:>10,.0f} {rate / trained:>13.1f}x")
    if args.markdown:
        _write_markdown(args, rows)
    if args.json:
        from benchmarks.run_all import write_json

        keys = ("task", "kind", "examples_per_second", "cached_examples_per_second", "train_preset", "train_examples_per_second")
        write_json(args.json, [dict(zip(keys, row)) for row in rows])
    return rows


def _write_markdown(args, rows):
    from benchmarks.run_all import load_average, machine, write_section

    info = machine()
    lines = [
        "## Data: can the input pipeline keep up with training?",
        "",
        "Examples/s of the `kzoo.data` training pipeline alone (tokenize + pack + batch + shuffle + prefetch,",
        "after warm-up; \"cached\": tokenized examples cached in memory) against the examples/s that",
        "`train_on_batch` of the task's small preset consumes, same run. A ratio above 1 means the",
        "pipeline is not the bottleneck.",
        "",
        "```",
        f"python -m benchmarks.data --batch-size {args.batch_size} --batches {args.batches}" + (" --quick" if args.quick else ""),
        "```",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores; load average {load_average()} at the end",
        f"- TensorFlow {info['tensorflow']}, Keras {info['keras']}; measured {info['date']}",
        "",
        "| task | kind | pipeline examples/s | cached | train step of | train examples/s | pipeline / train |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for name, kind, rate, cached, preset, trained in rows:
        lines.append(f"| {name} | {kind} | {rate:,.0f} | {cached:,.0f} | {preset} | {trained:,.0f} | {rate / trained:.1f}x |")
    write_section(args.markdown, "data", "\n".join(lines))


if __name__ == "__main__":
    main()
