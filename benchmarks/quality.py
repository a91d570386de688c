"""Quality: what each bundled task reaches with its small preset in a few minutes on the CPU.

For each task kind this trains the kind's `*_small` preset with
`kzoo.training.recipe.train` (`kzoo train`) into a temporary run folder, for the
step budget in `FULL_RUNS` (one epoch of that many steps, linear warm-up over a
tenth of them, then cosine decay), and scores the test split with
`kzoo.training.recipe.evaluate` (`kzoo evaluate`):

- numbers_en_de (translation, `transformer_small`): BLEU, chrF and exact match of
  greedy translations of the whole test split (sacrebleu);
- language_id (classification, `classifier_small`): accuracy;
- faker_ner (tagging, `tagger_small`): entity F1 (seqeval, first sub-token of each word);
- pydoc_topics (language modelling, `causal_lm_small`): perplexity per tokenizer
  token (SentencePiece, the run's vocabulary), so it is comparable only between
  runs with the same vocabulary size;
- digits (image classification, `vit_small`): accuracy.

"train" is the wall-clock time of `train()` (tokenizer training, pipelines, model
build, the steps, one validation pass and the saves); "CPU" is the CPU time this
process used meanwhile (all its threads), which moves less than wall time when
other processes load the machine.

It then runs the short runs of the tiny presets that
tests/training/test_quality_floors.py guards (`kzoo.training.quality_floors.SHORT_RUNS`) and sets what
they reach beside the floors the test asserts (`FLOORS` there), so the margin is
visible. `--quick` runs only those short runs.

Example:
```
python -m benchmarks.quality                       # 12 minutes on 2 shared cores (load 4.5)
python -m benchmarks.quality --quick               # the short runs only, ~3 minutes
python -m benchmarks.quality --tasks digits faker_ner
python -m benchmarks.quality --markdown docs/benchmarks.md
```
"""

import argparse
import os
import sys
import tempfile
import time

from benchmarks.run_all import load_average, machine
from benchmarks.run_all import table as _table

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "quality"

# task -> the full run: RunConfig fields (one epoch of `steps`, warm-up a tenth of it).
# Budgets are chosen so each run trains in about 2 minutes (4 under heavy load) on 2 shared cores.
FULL_RUNS = {
    "numbers_en_de": dict(preset="transformer_small", steps=400, batch_size=64, learning_rate=2e-3),
    "language_id": dict(preset="classifier_small", steps=300, batch_size=64, learning_rate=2e-3),
    "faker_ner": dict(preset="tagger_small", steps=300, batch_size=64, learning_rate=2e-3),
    "pydoc_topics": dict(preset="causal_lm_small", steps=200, batch_size=32, learning_rate=1e-3),
    "digits": dict(preset="vit_small", steps=1200, batch_size=64, learning_rate=1e-3),
}

METRICS = {  # metric key of evaluate() -> (label, unit)
    "bleu": ("BLEU", ""),
    "chrf": ("chrF", ""),
    "exact_match": ("exact match", " %"),
    "accuracy": ("accuracy", " %"),
    "entity_f1": ("entity F1", ""),
    "perplexity": ("perplexity", ""),
}


def _short_runs():
    """(SHORT_RUNS, FLOORS, LOWER_IS_BETTER, short_run) of `kzoo.training.quality_floors`, what the floor test guards."""
    from kzoo.training import quality_floors as floors

    return floors.SHORT_RUNS, floors.FLOORS, floors.LOWER_IS_BETTER, floors.short_run


def full_run(task, run_dir):
    """(RunConfig, evaluate limit) of the full run of `task` into `run_dir`."""
    from kzoo.training.recipe import RunConfig

    spec = dict(FULL_RUNS[task])
    steps = spec.pop("steps")
    config = RunConfig(task=task, run_dir=str(run_dir), epochs=1, steps_per_epoch=steps,
                       warmup_steps=max(1, steps // 10), **spec)
    return config, None


def measure(task, make_config, run="full", log=print):
    """Train and evaluate one run; returns a row (dict) with the config, times and metrics."""
    from kzoo.training.recipe import evaluate, train

    with tempfile.TemporaryDirectory(prefix="kzoo-quality-") as folder:
        config, limit = make_config(task, os.path.join(folder, "run"))
        log(f"  {task}: {config.preset}, {config.steps_per_epoch} steps x {config.batch_size} ...")
        wall, cpu = time.perf_counter(), time.process_time()
        run_dir = train(config, verbose=0)
        train_s, train_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
        wall = time.perf_counter()
        results = evaluate(run_dir, limit=limit, write=False)
        evaluate_s = time.perf_counter() - wall
    row = {
        "run": run,
        "task": task,
        "preset": config.preset,
        "steps": config.steps_per_epoch,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "vocabulary_size": config.vocabulary_size,
        "max_examples": config.max_examples,
        "examples": results["examples"],
        "train_s": train_s,
        "train_cpu_s": train_cpu_s,
        "evaluate_s": evaluate_s,
        "load": load_average().split(" / ")[0],
        "metrics": {key: results[key] for key in METRICS if key in results},
    }
    log(f"  {task}: {quality_text(row['metrics'])}; train {train_s:.0f} s (CPU {train_cpu_s:.0f} s), "
        f"evaluate {evaluate_s:.0f} s, load {row['load']}")
    return row


def quality_text(metrics):
    """'BLEU 85.1, chrF 90.2, exact match 60.3 %' from evaluate()'s metrics."""
    return ", ".join(f"{METRICS[key][0]} {value:.1f}{METRICS[key][1]}" for key, value in metrics.items())


def floor_text(floors, lower_is_better):
    return ", ".join(
        f"{METRICS[key][0]} {'<=' if key in lower_is_better else '>='} {value:g}{METRICS[key][1]}"
        for key, value in floors.items()
    )


def _examples(row):
    return f"{row['examples']:,}"


def format_full_table(rows, markdown=False):
    header = ("task", "preset", "steps x batch", "learning rate", "train", "CPU", "evaluate", "load", "test examples", "quality")
    body = [
        (r["task"], r["preset"], f"{r['steps']} x {r['batch_size']}", f"{r['learning_rate']:g}",
         f"{r['train_s']:.0f} s", f"{r['train_cpu_s']:.0f} s", f"{r['evaluate_s']:.0f} s", r["load"],
         _examples(r), quality_text(r["metrics"]))
        for r in rows
    ]
    return _table(header, body, markdown, right=(4, 5, 6, 7, 8))


def format_short_table(rows, floors, lower_is_better, markdown=False):
    header = ("task", "preset", "steps x batch", "learning rate", "vocabulary", "train examples", "test examples",
              "train", "CPU", "reached", "floor (test asserts)")
    body = [
        (r["task"], r["preset"], f"{r['steps']} x {r['batch_size']}", f"{r['learning_rate']:g}",
         f"{r['vocabulary_size']:,}" if r["task"] != "digits" else "-",
         f"first {r['max_examples']:,}" if r["max_examples"] else "all", _examples(r),
         f"{r['train_s']:.0f} s", f"{r['train_cpu_s']:.0f} s", quality_text(r["metrics"]),
         floor_text(floors[r["task"]], lower_is_better))
        for r in rows
    ]
    return _table(header, body, markdown, right=(4, 6, 7, 8))




def markdown_section(full_rows, short_rows, floors, lower_is_better, info, command, loads, took):
    lines = [
        "## Quality: what each task reaches in a few minutes, and the floors the tests guard",
        "",
        "Each task kind's `*_small` preset trained with `kzoo.training.recipe.train` (what `kzoo train` runs:",
        "AdamW, one epoch of the steps below, linear warm-up over a tenth of them, then cosine decay; the",
        "recipe's defaults otherwise: a 1,000-token SentencePiece vocabulary, the pipelines' sequence lengths,",
        "dropout 0.1 for the text models, seed 0), then scored on the whole test split with",
        "`kzoo.training.recipe.evaluate` (`kzoo evaluate`). Translation is greedy",
        "decoding scored with sacrebleu (BLEU, chrF) and exact string match; entity F1 is seqeval's over the",
        "first sub-token of each word; perplexity is per tokenizer token, so it compares only runs with the",
        "same vocabulary. Step budgets are chosen so that each run trains in a few minutes on 2 shared",
        "cores. \"train\" is the wall-clock time of `train()` (tokenizer training, model build, the",
        "steps, one validation pass, saving); \"CPU\" is this process's CPU time meanwhile, which moves less",
        "than wall time when other processes load the machine; \"load\" is the 1-minute load average when",
        "the run ended. Chance is 12.5 % for language_id (8 languages) and 10 % for digits; an untrained",
        "language model's perplexity is about its vocabulary size.",
        "",
        "```",
        command,
        "```",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} cores",
        f"- Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, keras-hub {info['keras_hub']}",
        f"- Measured {info['date']}; load average (1/5/15 min) {loads[0]} before, {loads[1]} after; took {took}",
        "",
    ]
    if full_rows:
        lines += [
            "### Full runs (`*_small` presets)",
            "",
            format_full_table(full_rows, markdown=True),
            "",
        ]
    else:
        lines += ["Full runs not measured (`--quick`).", ""]
    lines += [
        "### Short runs (`*_tiny` presets) and the floors tests/training/test_quality_floors.py asserts",
        "",
        "Each test trains the tiny preset for the steps below (one epoch, seeded, warm-up a tenth of the steps,",
        "on the first N training examples where given, with a tokenizer of the given vocabulary) and asserts",
        "every metric clears its floor (perplexity: stays under its ceiling). Floors sit well above an",
        "untrained model and well below what the short run reaches, so a regression fails a test instead",
        "of drifting unnoticed. \"reached\" is this measurement; the test file records earlier ones.",
        "",
        format_short_table(short_rows, floors, lower_is_better, markdown=True),
    ]
    return "\n".join(lines)


def _log(message):
    print(message, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the short runs the quality-floor tests guard")
    parser.add_argument("--tasks", nargs="+", metavar="TASK", help=f"only these tasks ({', '.join(FULL_RUNS)})")
    parser.add_argument("--markdown", metavar="PATH", help="write/replace this benchmark's section of PATH")
    args = parser.parse_args(argv)
    short_runs, floors, lower_is_better, short_run = _short_runs()
    tasks = args.tasks or list(FULL_RUNS)
    unknown = sorted(set(tasks) - set(FULL_RUNS))
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; expected some of {', '.join(FULL_RUNS)}")

    info = machine()
    command = "python -m benchmarks.quality" + (" --quick" if args.quick else "")
    command += f" --tasks {' '.join(args.tasks)}" if args.tasks else ""
    print(__doc__.splitlines()[0])
    print(f"CPU: {info['cpu']}, {info['cores']} cores; TensorFlow {info['tensorflow']}, Keras {info['keras']}; {info['date']}")
    loads, started = [load_average()], time.perf_counter()
    full_rows = []
    if not args.quick:
        _log("Full runs (*_small presets):")
        full_rows = [measure(task, full_run, "full", _log) for task in tasks]
    _log("Short runs (*_tiny presets, tests/training/test_quality_floors.py):")
    short_rows = [measure(task, short_run, "short", _log) for task in tasks if task in short_runs]
    loads.append(load_average())
    seconds = time.perf_counter() - started
    took = f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"

    print()
    if full_rows:
        print(format_full_table(full_rows))
        print()
    print(format_short_table(short_rows, floors, lower_is_better))
    if args.markdown:
        from benchmarks.run_all import write_section

        section = markdown_section(full_rows, short_rows, floors, lower_is_better, info, command, loads, took)
        write_section(args.markdown, SECTION, section)
        print(f"Wrote section `{SECTION}` of {args.markdown}.")
    return full_rows + short_rows


if __name__ == "__main__":
    main()
    sys.exit(0)
