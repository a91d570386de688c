"""Position encodings compared: one translator per `position_encoding`, same data, budget and seed.

Each value of the Transformer families' `position_encoding` argument trains a
`transformer_tiny` on the bundled `numbers_en_de` task through the recipe
(`kzoo train ... --model-option position_encoding=VALUE`: same tokenizer
settings, steps, learning rate and seed), then decodes the test split greedily;
the table gives BLEU, chrF and exact match. "none" leaves the encoder a bag of
tokens (the decoder still has its causal order), which is what the gap to the
others measures. A quality measurement, not a timing: load does not change it.

Example:
```
python -m benchmarks.position_encodings                 # 5 runs, about 12 minutes on 2 cores
python -m benchmarks.position_encodings --quick         # a few steps each: checks the script runs
python -m benchmarks.position_encodings --markdown docs/benchmarks.md
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

SECTION = "position_encodings"
# name -> (steps, test sentences)
SETTINGS = {"full": (1500, 1000), "quick": (10, 20)}
RUN = dict(preset="transformer_tiny", task="numbers_en_de", vocabulary_size=500, batch_size=64, learning_rate=3e-3,
           warmup_steps=100, seed=0)


def run(setting, folder, say=print):
    """One run per encoding; returns rows `{position_encoding, bleu, chrf, exact_match, seconds}`."""
    from kzoo.layers.position_encodings import POSITION_ENCODINGS
    from kzoo.training.recipe import RunConfig, evaluate, train

    steps, limit = SETTINGS[setting]
    rows = []
    for encoding in POSITION_ENCODINGS:
        started = time.perf_counter()
        run_dir = Path(folder, encoding)
        train(RunConfig(run_dir=str(run_dir), epochs=1, steps_per_epoch=steps,
                        model_options={"position_encoding": encoding}, **RUN), verbose=0)
        scores = evaluate(run_dir, limit=limit, write=False)
        rows.append({"position_encoding": encoding, "bleu": scores["bleu"], "chrf": scores["chrf"],
                     "exact_match": scores["exact_match"], "examples": scores["examples"],
                     "seconds": time.perf_counter() - started})
        say(f"{encoding:<18} BLEU {scores['bleu']:5.1f}  chrF {scores['chrf']:5.1f}  exact {scores['exact_match']:5.1f}%")
    return rows


def format_table(rows, markdown=False):
    header = ["position_encoding", "BLEU", "chrF", "exact match", "train + eval"]
    body = [[row["position_encoding"], f"{row['bleu']:.1f}", f"{row['chrf']:.1f}", f"{row['exact_match']:.1f}%",
             f"{row['seconds']:.0f} s"] for row in rows]
    return table(header, body, markdown)


def markdown_section(rows, info, command, setting):
    steps, _ = SETTINGS[setting]
    return "\n".join([
        "## Position encodings: one translator per `position_encoding`",
        "",
        f"Command: `{command}`. Machine: {info['cpu']}, {info['cores']}; TensorFlow {info['tensorflow']}, Keras "
        f"{info['keras']}; measured {info['date']}.",
        "",
        f"`transformer_tiny` on `numbers_en_de`, {steps} steps of {RUN['batch_size']}, learning rate "
        f"{RUN['learning_rate']}, seed {RUN['seed']}, SentencePiece {RUN['vocabulary_size']}; greedy decoding of "
        f"{rows[0]['examples']} test phrases. Seconds are wall time on a shared machine, for scale only.",
        "",
        format_table(rows, markdown=True),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.position_encodings", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps per run: checks the script runs")
    parser.add_argument("--markdown", help="write the section into this file")
    args = parser.parse_args(argv)
    setting = "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="kzoo-positions-") as folder:
        rows = run(setting, folder)
    print(format_table(rows))
    if args.markdown:
        command = "python -m benchmarks.position_encodings" + (" --quick" if args.quick else "")
        write_section(args.markdown, SECTION, markdown_section(rows, machine(), command, setting))
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
