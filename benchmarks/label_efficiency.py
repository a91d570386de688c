"""Label efficiency: masked-LM pre-training on `python_docs`, then `stdlib_topics` at 1%, 10% and 100% of its labels.

The runs are the ones `kzoo train` makes (`kzoo.training.recipe`): for each seed,
one `mlm_tiny` pre-training run on the bundled `python_docs` corpus (WordPiece,
which never reads a validation or test module of `stdlib_topics`), then for each
label fraction a classifier fine-tuned from it (`init_from`; a fresh head, mean
pooling over the MLM's token states) and a `classifier_tiny` of the same shape
trained from scratch with the same optimizer, steps, batch and seed, on the same
seeded sample of the labelled training split (`label_fraction`). Both are scored
on the test split, whose modules neither run saw. The table gives the median over
seeds and each seed's figures; `majority` is the share of the test split's largest
area, the score of always answering it.

This is a quality measurement, not a timing: the load average does not change it.

Example:
```
python -m benchmarks.label_efficiency                       # 3 seeds, about 25 minutes on 2 cores
python -m benchmarks.label_efficiency --quick               # 1 seed, tiny budgets: a smoke run
python -m benchmarks.label_efficiency --markdown docs/benchmarks.md
```
"""

import argparse
import collections
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run_all import machine, table, write_section

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "label_efficiency"
FRACTIONS = (0.01, 0.1, 1.0)
# name -> (pre-training steps, fine-tuning steps at least, at most, seeds)
SETTINGS = {"full": (1200, 200, 2000, (0, 1, 2)), "quick": (20, 5, 10, (0,))}
PRETRAIN = dict(preset="mlm_tiny", task="python_docs", tokenizer="wordpiece", vocabulary_size=2000, batch_size=32,
                sequence_length=64, learning_rate=2e-3)
FINE_TUNE = dict(task="stdlib_topics", batch_size=8, sequence_length=32, learning_rate=1e-3)
EPOCHS_OF_LABELS = 10  # Fine-tuning sees each labelled example about this often, within the step bounds.


def _steps(examples, least, most):
    return min(most, max(least, math.ceil(EPOCHS_OF_LABELS * examples / FINE_TUNE["batch_size"])))


def _single_pass(steps):
    return dict(epochs=1, steps_per_epoch=steps, warmup_steps=max(1, steps // 10))


def run(setting, folder, say=print):
    """Trains every run of `setting` under `folder`; returns rows `{seed, fraction, labels, pretrained, scratch}`."""
    import kzoo.data
    from kzoo.training.recipe import RunConfig, evaluate, train

    pretrain_steps, least, most, seeds = SETTINGS[setting]
    train_size = len(kzoo.data.load_task("stdlib_topics").train)
    rows, facts = [], {"mlm": []}
    for seed in seeds:
        mlm = Path(folder, f"mlm-{seed}")
        started = time.perf_counter()
        train(RunConfig(run_dir=str(mlm), seed=seed, **PRETRAIN, **_single_pass(pretrain_steps)), verbose=0)
        scores = evaluate(mlm, write=False)
        facts["mlm"].append({"seed": seed, "seconds": time.perf_counter() - started,
                             "masked_token_accuracy": scores["masked_token_accuracy"],
                             "perplexity": scores["perplexity"]})
        say(f"seed {seed}: pre-trained in {facts['mlm'][-1]['seconds']:.0f} s, masked-token accuracy "
            f"{scores['masked_token_accuracy']:.1f}%, perplexity {scores['perplexity']:.0f}")
        for fraction in FRACTIONS:
            labels = max(1, round(fraction * train_size))
            common = dict(seed=seed, label_fraction=fraction, **FINE_TUNE, **_single_pass(_steps(labels, least, most)))
            name = f"{seed}-{fraction:g}"
            train(RunConfig(init_from=str(mlm), run_dir=str(Path(folder, "pretrained-" + name)), **common), verbose=0)
            train(RunConfig(preset="classifier_tiny", tokenizer="wordpiece", vocabulary_size=2000,
                            run_dir=str(Path(folder, "scratch-" + name)), **common), verbose=0)
            row = {"seed": seed, "fraction": fraction, "labels": labels, "steps": common["steps_per_epoch"]}
            for kind in ("pretrained", "scratch"):
                row[kind] = evaluate(Path(folder, f"{kind}-{name}"), write=False)["accuracy"]
            rows.append(row)
            say(f"  {fraction:>5.0%} of the labels ({labels}): pre-trained {row['pretrained']:.1f}%, "
                f"scratch {row['scratch']:.1f}%")
    test_labels = [label for _, label in kzoo.data.load_task("stdlib_topics").test]
    facts["majority"] = 100.0 * max(collections.Counter(test_labels).values()) / len(test_labels)
    return rows, facts


def summary(rows):
    """Median over seeds per fraction: `[(fraction, labels, pretrained, scratch, gap, seeds' gaps)]`."""
    table = []
    for fraction in FRACTIONS:
        chosen = [row for row in rows if row["fraction"] == fraction]
        gaps = [row["pretrained"] - row["scratch"] for row in chosen]
        table.append((fraction, chosen[0]["labels"], statistics.median(r["pretrained"] for r in chosen),
                      statistics.median(r["scratch"] for r in chosen), statistics.median(gaps), gaps))
    return table


def format_table(rows, markdown=False):
    header = ["labels", "pre-trained (median)", "scratch (median)", "gap (median)", "gap per seed"]
    body = [[f"{fraction:.0%} ({labels})", f"{pretrained:.1f}%", f"{scratch:.1f}%", f"{gap:+.1f}",
             " / ".join(f"{value:+.1f}" for value in gaps)]
            for fraction, labels, pretrained, scratch, gap, gaps in summary(rows)]
    return table(header, body, markdown)


def markdown_section(rows, facts, info, command):
    mlm = facts["mlm"]
    gap = summary(rows)[0][4]
    verdict = (f"At 1% of the labels pre-training gains {gap:+.1f} points (median): "
               + ("it clears" if gap >= 5 else "short of") + " the +5 points it is meant to show.")
    return "\n".join([
        "## Label efficiency: masked-LM pre-training, then topic classification",
        "",
        f"Command: `{command}`. Machine: {info['cpu']}, {info['cores']}; TensorFlow {info['tensorflow']}, Keras "
        f"{info['keras']}; measured {info['date']}.",
        "",
        f"`mlm_tiny` pre-trained on `python_docs` ({SETTINGS['full'][0]} steps of 32 texts; masked-token accuracy "
        f"{statistics.median(m['masked_token_accuracy'] for m in mlm):.1f}%, perplexity "
        f"{statistics.median(m['perplexity'] for m in mlm):.0f}, median over seeds), then fine-tuned on a seeded "
        "sample of `stdlib_topics`' labels (8 areas, test modules unseen) against `classifier_tiny` from scratch with "
        f"the same budget; test accuracy, median of {len(mlm)} seeds. Always answering the largest area scores "
        f"{facts['majority']:.1f}%. {verdict}",
        "",
        format_table(rows, markdown=True),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.label_efficiency", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed, a few steps: checks the script runs")
    parser.add_argument("--markdown", help="write the section into this file")
    args = parser.parse_args(argv)
    setting = "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="kzoo-label-efficiency-") as folder:
        rows, facts = run(setting, folder)
    print(format_table(rows))
    if args.markdown:
        command = "python -m benchmarks.label_efficiency" + (" --quick" if args.quick else "")
        write_section(args.markdown, SECTION, markdown_section(rows, facts, machine(), command))
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
