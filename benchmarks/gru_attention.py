"""The GRU seq2seq's attention wirings compared on long sources: BLEU by source length.

Each value of `GRUSeq2Seq`'s `attention` argument (Luong's concat, general and
dot scores, Bahdanau's wiring, and no attention) trains a `gru_tiny` on the
bundled `numbers_long_en_de` task (1 to 8 number and date phrases joined, sources
up to about 125 SentencePiece pieces) through the recipe (`kzoo train ...
--model-option attention=VALUE`: same tokenizer settings, steps, learning rate
and seed), then decodes the test split greedily. The table gives corpus BLEU
within each band of source length (`kzoo.metrics.bleu_by_length`): the claim of
Bahdanau et al. (2015) is that a fixed-size summary of the source (no attention)
falls apart as sources grow, and attention does not. A quality measurement, not
a timing: load does not change it.

Example:
```
python -m benchmarks.gru_attention                 # 5 runs, about 30 minutes on 2 cores
python -m benchmarks.gru_attention --quick         # a few steps each: checks the script runs
python -m benchmarks.gru_attention --markdown docs/benchmarks.md
```
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run_all import machine, table, write_section

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "gru_attention"
# name -> (steps, test examples)
SETTINGS = {"full": (1200, 400), "quick": (5, 16)}
LENGTH_EDGES = (20, 40, 60, 80)
SEQUENCE_LENGTH = 128  # Padded length of sources and targets: the longest test source has 125 pieces.
RUN = dict(preset="gru_tiny", task="numbers_long_en_de", vocabulary_size=500, batch_size=64, learning_rate=3e-3,
           warmup_steps=100, seed=0, sequence_length=SEQUENCE_LENGTH)


def run(setting, folder, say=print):
    """One run per wiring; returns rows `{attention, bleu, bands: [{band, examples, bleu}], seconds}`."""
    from kzoo import metrics
    from kzoo.models.gru_seq2seq import ATTENTIONS
    from kzoo.training.recipe import RunConfig, train, translate
    from kzoo.training.run_folder import load_run

    steps, limit = SETTINGS[setting]
    rows = []
    for attention in ATTENTIONS:
        started = time.perf_counter()
        run_dir = Path(folder, attention)
        train(RunConfig(run_dir=str(run_dir), epochs=1, steps_per_epoch=steps,
                        model_options={"attention": attention, "max_sequence_length": SEQUENCE_LENGTH}, **RUN),
              verbose=0)
        finished = load_run(run_dir)
        sources, references = zip(*finished.task.test[:limit])
        hypotheses = translate(finished.model, finished.tokenizer, sources, max_new_tokens=SEQUENCE_LENGTH)
        lengths = [len(ids) for ids in finished.tokenizer.encode(list(sources))]
        bands = metrics.bleu_by_length(hypotheses, references, lengths, edges=LENGTH_EDGES)
        rows.append({"attention": attention, "bleu": metrics.bleu(hypotheses, references), "bands": bands,
                     "examples": len(sources), "parameters": finished.model.count_params(),
                     "seconds": time.perf_counter() - started})
        say(f"{attention:<14} BLEU {rows[-1]['bleu']:5.1f}  " + "  ".join(
            f"{band['band']}: {_score(band)}" for band in bands))
    return rows


def _score(band):
    return "-" if band["bleu"] is None else f"{band['bleu']:.1f}"


def format_table(rows, markdown=False):
    bands = rows[0]["bands"]
    header = ["attention", "parameters", "BLEU"] + [f"{band['band']} ({band['examples']})" for band in bands] + [
        "train + eval"]
    body = [[row["attention"], f"{row['parameters']:,}", f"{row['bleu']:.1f}"]
            + [_score(band) for band in row["bands"]] + [f"{row['seconds']:.0f} s"] for row in rows]
    return table(header, body, markdown)


def markdown_section(rows, info, command, setting):
    steps, _ = SETTINGS[setting]
    return "\n".join([
        "## GRU attention wirings: BLEU by source length",
        "",
        f"Command: `{command}`. Machine: {info['cpu']}, {info['cores']}; TensorFlow {info['tensorflow']}, Keras "
        f"{info['keras']}; measured {info['date']}.",
        "",
        f"`gru_tiny` with each `attention` value on `numbers_long_en_de` (1-8 phrases joined), {steps} steps of "
        f"{RUN['batch_size']}, learning rate {RUN['learning_rate']}, seed {RUN['seed']}, SentencePiece "
        f"{RUN['vocabulary_size']}, sequences padded to {SEQUENCE_LENGTH}; greedy decoding of {rows[0]['examples']} "
        "test examples. Columns after BLEU: corpus BLEU of the examples whose source has that many pieces (their "
        "count in brackets). Seconds are wall time, for scale only.",
        "",
        format_table(rows, markdown=True),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gru_attention", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps per run: checks the script runs")
    parser.add_argument("--markdown", help="write the section into this file")
    args = parser.parse_args(argv)
    setting = "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="kzoo-gru-attention-") as folder:
        rows = run(setting, folder)
    print(format_table(rows))
    if args.markdown:
        command = "python -m benchmarks.gru_attention" + (" --quick" if args.quick else "")
        write_section(args.markdown, SECTION, markdown_section(rows, machine(), command, setting))
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
