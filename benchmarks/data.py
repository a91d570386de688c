"""Input-pipeline throughput of every bundled task: examples per second of tf.data alone.

For each task this builds the training pipeline `kzoo.data.task_dataset`
makes (tokenize + pack + batch + shuffle + prefetch), pulls a few warm-up
batches, then times `measure_batches` batches and prints one table row with
two rates: without cache (tokenization measured every time) and with the
tokenized examples cached in memory (what a multi-epoch run sees after the
first epoch). Tokenizers are trained once per task
(`kzoo.data.train_task_tokenizer`: SentencePiece; images need none) and are
not part of the timing. `pipeline_examples_per_second` is importable so
another script can set it against a model's train step.

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


def main(argv=None):
    import kzoo.data

    parser = argparse.ArgumentParser(description="Examples/s of the kzoo.data input pipelines alone.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=50, help="timed batches per task")
    parser.add_argument("--tasks", nargs="*", default=None, help="task names (default: all, plus pydoc_topics:masked_lm)")
    args = parser.parse_args(argv)
    names = args.tasks or kzoo.data.task_names() + ["pydoc_topics" + MASKED_LM_SUFFIX]
    rows = []
    for name in names:
        benchmark_tokenizer(name.split(":")[0])  # trained before, not during, the timing
        rate = pipeline_examples_per_second(name, args.batch_size, measure_batches=args.batches)
        cached = pipeline_examples_per_second(name, args.batch_size, cache=True, measure_batches=args.batches)
        kind = kzoo.data.task_info(name.split(":")[0])["kind"] + (" (MLM)" if name.endswith(MASKED_LM_SUFFIX) else "")
        rows.append((name, kind, rate, cached))
    print(f"{'task':<26} {'kind':<26} {'batch':>5} {'examples/s':>12} {'cached':>12}")
    for name, kind, rate, cached in rows:
        print(f"{name:<26} {kind:<26} {args.batch_size:>5} {rate:>12,.0f} {cached:>12,.0f}")


if __name__ == "__main__":
    main()
