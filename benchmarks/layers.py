"""Training throughput of an encoder-decoder built from kzoo layers vs keras-hub's.

Both models are the same seq2seq Transformer (Vaswani et al. 2017, post-layer-norm):
4 encoder and 4 decoder blocks, width 256, 8 heads, feed-forward width 1024, ReLU,
dropout 0.1, a shared `keras.layers.ReversibleEmbedding` whose transpose gives the
tied output logits, sinusoidal positions, sparse categorical crossentropy that ignores
padding, Adam. Only the blocks and the position encoding differ:

- kzoo: `kzoo.layers.TransformerEncoderBlock` / `TransformerDecoderBlock` /
  `SinusoidalPositionEncoding`;
- keras-hub: `keras_hub.layers.TransformerEncoder` / `TransformerDecoder` /
  `SinePositionEncoding`.

Both train with `model.fit` on the same repeated in-memory `tf.data` dataset (batch
32, 64 source + 64 target positions, random lengths padded with 0), the user's path.
Throughput counts source + target token positions per second, padding included
(every position is computed): 32 x (64 + 64) = 4096 per step.

Each model is warmed up first (tracing and the first steps are not timed). Then
each repetition runs one `fit` call of N steps per model, the two models
alternating with the order flipped every repetition (A B, B A, A B, ...), so that
load from other processes falls on both alike. A repetition's throughput is timed
from the end of its first step to the end of its last, so the per-call set-up of
`fit` (iterator, callbacks) is not counted. The table gives the median over
repetitions, the min-max spread, and the spread of the within-repetition ratio;
it also gives tokens per CPU-second of this process (all threads), which moves
less than wall time when other processes compete for the cores.

Example:
```
python -m benchmarks.layers                      # ~3 minutes on 2 cores
python -m benchmarks.layers --quick              # ~1 minute, noisier
python -m benchmarks.layers --jit                # adds jit_compile=True rows
python -m benchmarks.layers --markdown docs/benchmarks.md
```
"""

import argparse
import os
import statistics
import sys
import time

from benchmarks.run_all import load_average, machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "layers"
IMPLEMENTATIONS = ("kzoo", "keras-hub")
REFERENCE = "keras-hub"

CONFIG = dict(
    num_layers=4,
    hidden_dim=256,
    num_heads=8,
    intermediate_dim=1024,
    dropout=0.1,
    vocabulary_size=8000,  # As in the `*_small` presets.
    batch_size=32,
    source_length=64,
    target_length=64,
)

# (warm-up steps, steps per repetition, repetitions)
FULL = (5, 8, 7)
QUICK = (2, 4, 3)


def build_model(implementation, num_heads=CONFIG["num_heads"], seed=0):
    """The benchmark's encoder-decoder from `implementation`'s layers, uncompiled.

    Inputs `encoder_token_ids` [B, S] and `decoder_token_ids` [B, T] (0 = padding);
    output float32 logits [B, T, vocabulary_size].
    """
    import keras
    import keras_hub

    from kzoo import layers as kzoo_layers

    if implementation not in IMPLEMENTATIONS:
        raise ValueError(
            "Received an invalid value for argument `implementation`, expected one of "
            f"{', '.join(IMPLEMENTATIONS)}. Received: implementation={implementation!r}"
        )
    c = CONFIG
    keras.utils.set_random_seed(seed)
    source = keras.Input((c["source_length"],), dtype="int32", name="encoder_token_ids")
    target = keras.Input((c["target_length"],), dtype="int32", name="decoder_token_ids")
    source_mask = keras.ops.not_equal(source, 0)  # [B, S]
    target_mask = keras.ops.not_equal(target, 0)  # [B, T]
    embedding = keras.layers.ReversibleEmbedding(c["vocabulary_size"], c["hidden_dim"], name="token_embedding")
    block_kwargs = dict(num_heads=num_heads, intermediate_dim=c["intermediate_dim"], dropout=c["dropout"])
    if implementation == "kzoo":
        positions = kzoo_layers.SinusoidalPositionEncoding
        encoder_block = kzoo_layers.TransformerEncoderBlock
        decoder_block = kzoo_layers.TransformerDecoderBlock
    else:
        positions = keras_hub.layers.SinePositionEncoding
        encoder_block = keras_hub.layers.TransformerEncoder
        decoder_block = keras_hub.layers.TransformerDecoder

    x = embedding(source)
    x = x + positions(name="encoder_positions")(x)
    for i in range(c["num_layers"]):
        x = encoder_block(**block_kwargs, name=f"encoder_{i}")(x, padding_mask=source_mask)
    y = embedding(target)
    y = y + positions(name="decoder_positions")(y)
    for i in range(c["num_layers"]):
        y = decoder_block(**block_kwargs, name=f"decoder_{i}")(
            y, x, decoder_padding_mask=target_mask, encoder_padding_mask=source_mask
        )
    logits = embedding(y, reverse=True)
    return keras.Model({"encoder_token_ids": source, "decoder_token_ids": target}, logits, name=f"{implementation}_seq2seq")


def compile_model(model, jit_compile=False):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        jit_compile=jit_compile,
    )
    return model


def make_dataset(num_batches=4, seed=0):
    """A repeated, cached dataset of `num_batches` distinct random batches."""
    import numpy as np
    import tensorflow as tf

    c = CONFIG
    rng = np.random.default_rng(seed)
    count = num_batches * c["batch_size"]

    def padded(length):
        ids = rng.integers(1, c["vocabulary_size"], size=(count, length), dtype="int32")
        lengths = rng.integers(length // 2, length + 1, size=(count, 1))
        return np.where(np.arange(length)[None, :] < lengths, ids, 0).astype("int32")

    source = padded(c["source_length"])
    target = padded(c["target_length"] + 1)  # Decoder input and labels shifted by one.
    features = {"encoder_token_ids": source, "decoder_token_ids": target[:, :-1]}
    labels = target[:, 1:]
    dataset = tf.data.Dataset.from_tensor_slices((features, labels))
    return dataset.batch(c["batch_size"], drop_remainder=True).cache().repeat().prefetch(2)


def tokens_per_step():
    c = CONFIG
    return c["batch_size"] * (c["source_length"] + c["target_length"])






def _step_end_times():
    """A callback that records wall and process CPU time at the end of every training step."""
    import keras

    class StepEndTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []  # (wall seconds, this process's CPU seconds over all its threads)

        def on_train_batch_end(self, batch, logs=None):
            self.times.append((time.perf_counter(), time.process_time()))

    return StepEndTimes()


def measure(
    jit_modes=(False,), warmup_steps=FULL[0], steps=FULL[1], repetitions=FULL[2], log=print, load_samples=None
):
    """Tokens/s of every (implementation, jit_compile) pair, interleaved; a list of row dicts.

    `load_samples`, if a list, receives the 1-minute load average after every repetition.
    """
    if steps < 2:
        raise ValueError(f"Received an invalid value for argument `steps`, expected at least 2. Received: steps={steps}")
    dataset = make_dataset()
    per_step = tokens_per_step()
    rows = []
    for jit_compile in jit_modes:
        models = {}
        for implementation in IMPLEMENTATIONS:
            model = compile_model(build_model(implementation), jit_compile=jit_compile)
            started = time.perf_counter()
            model.fit(dataset, epochs=1, steps_per_epoch=warmup_steps, shuffle=False, verbose=0)
            log(
                f"  warm-up {implementation:9s} jit_compile={jit_compile}: {warmup_steps} steps "
                f"(incl. tracing) in {time.perf_counter() - started:.1f} s"
            )
            models[implementation] = model
        rates = {implementation: [] for implementation in IMPLEMENTATIONS}
        cpu_rates = {implementation: [] for implementation in IMPLEMENTATIONS}
        for repetition in range(repetitions):
            order = IMPLEMENTATIONS if repetition % 2 == 0 else IMPLEMENTATIONS[::-1]
            for implementation in order:
                timer = _step_end_times()
                models[implementation].fit(
                    dataset, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0, callbacks=[timer]
                )
                (wall_first, cpu_first), (wall_last, cpu_last) = timer.times[0], timer.times[-1]
                rates[implementation].append((steps - 1) * per_step / (wall_last - wall_first))
                cpu_rates[implementation].append((steps - 1) * per_step / max(cpu_last - cpu_first, 1e-9))
            if load_samples is not None and hasattr(os, "getloadavg"):
                load_samples.append(os.getloadavg()[0])
            log(
                f"  rep {repetition + 1}/{repetitions} jit_compile={jit_compile}: "
                + ", ".join(
                    f"{name} {rates[name][-1]:,.0f} tok/s ({cpu_rates[name][-1]:,.0f} tok/CPU-s)"
                    for name in IMPLEMENTATIONS
                )
                + f" (load {load_average()})"
            )
        reference = statistics.median(rates[REFERENCE])
        for implementation in IMPLEMENTATIONS:
            median = statistics.median(rates[implementation])
            # Pairwise ratio per repetition: the two runs of a repetition saw similar load.
            pairwise = [a / b for a, b in zip(rates[implementation], rates[REFERENCE])]
            rows.append(
                {
                    "implementation": implementation,
                    "jit_compile": jit_compile,
                    "tokens_per_s": median,
                    "tokens_per_s_min": min(rates[implementation]),
                    "tokens_per_s_max": max(rates[implementation]),
                    "ratio_vs_keras_hub": median / reference,
                    "pairwise_ratio_min": min(pairwise),
                    "pairwise_ratio_max": max(pairwise),
                    "tokens_per_cpu_s": statistics.median(cpu_rates[implementation]),
                    "cpu_ratio_vs_keras_hub": statistics.median(cpu_rates[implementation])
                    / statistics.median(cpu_rates[REFERENCE]),
                    "repetitions": repetitions,
                    "steps_per_repetition": steps,
                    "parameters": models[implementation].count_params(),
                }
            )
        del models
    return rows


def format_table(rows, markdown=False):
    header = (
        "implementation",
        "jit_compile",
        "tokens/s (median)",
        "min - max",
        "ratio vs keras-hub",
        "per-rep ratio min - max",
        "tokens/CPU-s",
        "CPU ratio",
    )
    lines = []
    body = [
        (
            row["implementation"],
            str(row["jit_compile"]),
            f"{row['tokens_per_s']:,.0f}",
            f"{row['tokens_per_s_min']:,.0f} - {row['tokens_per_s_max']:,.0f}",
            f"{row['ratio_vs_keras_hub']:.2f}x",
            f"{row['pairwise_ratio_min']:.2f} - {row['pairwise_ratio_max']:.2f}",
            f"{row['tokens_per_cpu_s']:,.0f}",
            f"{row['cpu_ratio_vs_keras_hub']:.2f}x",
        )
        for row in rows
    ]
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        lines.extend("| " + " | ".join(cells) + " |" for cells in body)
    else:
        widths = [max(len(str(cells[i])) for cells in [header] + body) for i in range(len(header))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        lines.append("  ".join("-" * w for w in widths))
        lines.extend("  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in body)
    return "\n".join(lines)


def markdown_section(rows, info, command, settings, loads, load_samples=()):
    c = CONFIG
    warmup, steps, repetitions = settings
    during = (
        f"; 1-minute load {min(load_samples):.1f} - {max(load_samples):.1f} across repetitions"
        if load_samples
        else ""
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    loaded = ""
    if load_samples and statistics.median(load_samples) > cores:
        loaded = (
            f"\n\nThis run was loaded: the median 1-minute load average across repetitions was "
            f"{statistics.median(load_samples):.1f} on {cores} cores, so this process got only part of the "
            "CPU and the wall-clock columns mostly measure scheduling. Read the CPU ratio first."
        )
    parameters = ", ".join(f"{row['implementation']} {row['parameters']:,}" for row in rows if not row["jit_compile"])
    return f"""## Layers: seq2seq training throughput, kzoo vs keras-hub

{c['num_layers']} encoder + {c['num_layers']} decoder blocks, width {c['hidden_dim']}, {c['num_heads']} heads,
feed-forward {c['intermediate_dim']}, dropout {c['dropout']}, vocabulary {c['vocabulary_size']:,} with tied
output logits, batch {c['batch_size']} x ({c['source_length']} source + {c['target_length']} target) tokens, float32,
Adam, `model.fit` on a repeated in-memory `tf.data` dataset. Only the blocks and the position encoding
differ (parameters: {parameters}). Tokens/s counts source + target positions, padding
included ({tokens_per_step():,} per step). {warmup} warm-up steps per model, then {repetitions} repetitions of
one `fit` call of {steps} steps per model, interleaved (order flipped every repetition), each timed from
the end of its first step to the end of its last; median over repetitions.

```
{command}
```

- CPU: {info['cpu']}, {info['cores']} cores
- Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, keras-hub {info['keras_hub']}
- Measured {info['date']}; load average (1/5/15 min) {loads[0]} before, {loads[1]} after{during}

{format_table(rows, markdown=True)}

Noise: "min - max" is the spread of the per-repetition throughput; "per-rep ratio" is kzoo / keras-hub
within each repetition (the two runs of a repetition are adjacent in time, so they saw similar load).
"tokens/CPU-s" divides by the CPU time this process used (all its threads) instead of wall time: it
does not count time the process waited for a core, so it moves less when other processes load the
machine, and "CPU ratio" is the ratio of those medians. A load average above the core count means
other work competed for the cores; the wall-clock numbers are then pessimistic and noisy, and the
ratios are the figures to compare.{loaded}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repetitions (~1 minute)")
    parser.add_argument("--jit", action="store_true", help="also measure with jit_compile=True (adds XLA compile time)")
    parser.add_argument("--markdown", metavar="PATH", help="write/replace this benchmark's section of PATH")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    warmup, steps, repetitions = settings
    info = machine()
    command = "python -m benchmarks.layers" + (" --quick" if args.quick else "") + (" --jit" if args.jit else "")
    print(f"{__doc__.splitlines()[0]}")
    print(f"CPU: {info['cpu']}, {info['cores']} cores")
    print(
        f"Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
        f"keras-hub {info['keras_hub']}; {info['date']}"
    )
    print(f"{warmup} warm-up steps, then {repetitions} x {steps} steps per model, interleaved.", flush=True)
    load_before = load_average()
    load_samples = []
    rows = measure(
        jit_modes=(False, True) if args.jit else (False,),
        warmup_steps=warmup,
        steps=steps,
        repetitions=repetitions,
        log=lambda message: print(message, flush=True),
        load_samples=load_samples,
    )
    load_after = load_average()
    print()
    print(format_table(rows))
    if args.markdown:
        from benchmarks.run_all import write_section

        section = markdown_section(rows, info, command, settings, (load_before, load_after), load_samples)
        write_section(args.markdown, SECTION, section)
        print(f"Wrote section `{SECTION}` of {args.markdown}.")
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
