"""Model throughput: every `*_tiny` preset, and a 4-layer encoder against the fp32 matmul peak.

Two tables.

1. Every `*_tiny` preset (`kzoo.create(name)`, preset defaults, float32), on one
   synthetic batch of 32 examples: 64 tokens (token models), 64 source + 64 target
   tokens (seq2seq models), or one 8x8x1 image (ViT, 2x2 patches: 16 patches + the
   class token = 17 positions). Token ids are random, each row has a random length
   between half and all of the positions and is padded with 0 after it (masks say
   so); tokens/s counts every position, padding included, since every position is
   computed.
   - forward: `model(inputs, training=False)` inside one `tf.function`, N calls;
   - train step: `model.fit` on that batch repeated (`tf.data`, `steps_per_epoch`),
     Adam, sparse categorical cross-entropy on the logits of every position (one
     label per example for the classifiers), `jit_compile=False`; timed from the
     end of a `fit` call's first step to the end of its last, so neither tracing nor
     `fit`'s per-call set-up is counted.
   Every model is warmed up (traced) first; then each repetition measures every
   preset once, forward then train, the preset order reversed every other
   repetition. Medians over repetitions, with the min - max spread.

2. Forward GFLOP/s of a BERT-style encoder, 4 layers, width 512, 8 heads,
   feed-forward 2048, vocabulary 8,000, 128 positions, dropout 0, batch 32 x 128
   tokens (all real), float32, `model(inputs, training=False)` in a `tf.function`:
   - kzoo `EncoderBackbone` with `activation="gelu_approximate"`, because keras-hub's
     `BertBackbone` hard-codes the tanh GELU (same parameter count, checked);
   - kzoo `EncoderBackbone` with its default `activation="gelu"` (exact, erf);
   - keras-hub `BertBackbone` with the same sizes, random weights, built from its
     arguments (no download);
   - the peak: `tf.matmul` of two 2048 x 2048 float32 matrices in a `tf.function`,
     called 6 times per measurement (6 x 2 x 2048^3 = 103 GFLOP, about one encoder
     forward).
   The four are measured in turn within each repetition (order reversed every other
   repetition), one forward (or the 6 matmuls) per measurement; medians over
   repetitions. "fraction of peak" is median / median peak; "per-rep" columns divide
   each measurement by the peak (or keras-hub) measured next to it.

FLOPs counted (2*m*n*k per matmul), per encoder block, B=32, T=128, D=512, H=8,
K=D/H=64, F=2048: fused Q/K/V projection 2*B*T*D*3D, attention output projection
2*B*T*D*D, scores Q.K^T 2*B*H*T*T*K, context P.V 2*B*H*T*T*K, feed-forward
2 * 2*B*T*D*F. Total 26.84 GFLOP per block, 107.37 GFLOP per forward. Not counted:
embedding lookups, layer norms, softmax, GELU, bias and residual adds, masking, and
the pooler (2*B*D*D = 0.017 GFLOP, 0.02%).

The machine is shared, so every timing also records the process's CPU time:
"GFLOP per CPU-second" divides the FLOPs by the CPU time the process was given, and
"CPU share" is CPU time / (wall time x usable cores); under load the wall-clock
numbers drop with the CPU share, while the per-CPU-second figures mostly do not.

Example:
```
python -m benchmarks.models                  # ~2 CPU-minutes; 5-6 minutes of wall time on 2 shared cores
python -m benchmarks.models --quick          # ~1.3 CPU-minutes (most of a run is tracing), noisier
python -m benchmarks.models --profile        # adds a per-op-type time breakdown of the encoder forward
python -m benchmarks.models --markdown docs/benchmarks.md
```
"""

import argparse
import collections
import glob
import os
import re
import statistics
import sys
import tempfile
import time

from benchmarks.run_all import load_average, usable_cores
from benchmarks.run_all import machine as _shared_machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "models"
TINY_PRESETS = (
    "classifier_tiny",
    "tagger_tiny",
    "mlm_tiny",
    "causal_lm_tiny",
    "transformer_tiny",
    "gru_tiny",
    "vit_tiny",
)
TINY_BATCH = dict(batch_size=32, sequence_length=64)

ENCODER = dict(
    vocabulary_size=8000,
    num_layers=4,
    num_heads=8,
    hidden_dim=512,
    intermediate_dim=2048,
    dropout=0.0,
    max_sequence_length=128,
)
ENCODER_BATCH = dict(batch_size=32, sequence_length=128)
PEAK_SIZE = 2048
PEAK_MATMULS = 6

KZOO = "kzoo EncoderBackbone"
KZOO_EXACT = "kzoo EncoderBackbone, exact GELU"
KERAS_HUB = "keras-hub BertBackbone"
PEAK = "tf.matmul 2048^3 (peak)"
ENCODER_ITEMS = (PEAK, KZOO, KZOO_EXACT, KERAS_HUB)

# warm-up train steps, forward calls and train steps per repetition, repetitions
# (tiny presets), repetitions (encoder).
FULL = dict(warmup_steps=2, forward_calls=10, train_steps=6, tiny_repetitions=5, encoder_repetitions=7)
QUICK = dict(warmup_steps=1, forward_calls=5, train_steps=4, tiny_repetitions=3, encoder_repetitions=3)


def machine():
    """`benchmarks.run_all.machine()` plus numpy and the oneDNN setting, which move matmul peaks."""
    import numpy as np

    info = _shared_machine()
    info.update({"numpy": np.__version__, "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")})
    return info


def encoder_flops(batch_size=None, sequence_length=None):
    """Matmul FLOPs of one encoder forward, as a dict of named parts (see the module docstring)."""
    b = batch_size or ENCODER_BATCH["batch_size"]
    t = sequence_length or ENCODER_BATCH["sequence_length"]
    d, h, f, layers = ENCODER["hidden_dim"], ENCODER["num_heads"], ENCODER["intermediate_dim"], ENCODER["num_layers"]
    k = d // h
    per_layer = {
        "qkv_projection": 2 * b * t * d * 3 * d,
        "output_projection": 2 * b * t * d * d,
        "attention_scores": 2 * b * h * t * t * k,
        "attention_context": 2 * b * h * t * t * k,
        "feed_forward": 2 * (2 * b * t * d * f),
    }
    return {name: layers * value for name, value in per_layer.items()}








def _spread(values, digits=0, scale=1.0):
    return f"{min(values) * scale:,.{digits}f} - {max(values) * scale:,.{digits}f}"


def _forward_function(model):
    import tensorflow as tf

    @tf.function(autograph=False)
    def forward(inputs):
        return model(inputs, training=False)

    return forward


# --------------------------------------------------------------------------- tiny presets


def synthetic_batch(name, batch_size=TINY_BATCH["batch_size"], length=TINY_BATCH["sequence_length"], seed=0):
    """(features, labels, tokens_per_example) for preset `name`, as numpy arrays.

    Feature names are the model's input names; labels are class ids for the
    classifiers and per-position ids [B, T] for the taggers and language models.
    """
    import numpy as np

    from kzoo.presets import PRESETS

    preset = PRESETS[name]
    family, config = preset["family"], preset["config"]
    rng = np.random.default_rng(seed)

    def padded_ids(vocabulary_size):
        ids = rng.integers(1, vocabulary_size, size=(batch_size, length), dtype="int32")
        lengths = rng.integers(length // 2, length + 1, size=(batch_size, 1))
        mask = (np.arange(length)[None, :] < lengths).astype("int32")
        return ids * mask, mask

    if family == "ViTClassifier":
        height, width, channels = config["image_shape"]
        images = rng.random((batch_size, height, width, channels), dtype="float32")
        patches = (height // config["patch_size"]) * (width // config["patch_size"])
        labels = rng.integers(0, config["num_classes"], size=(batch_size,), dtype="int32")
        return {"images": images}, labels, patches + 1
    vocabulary_size = config["vocabulary_size"]
    if family in ("TransformerSeq2Seq", "GRUSeq2Seq"):
        source, source_mask = padded_ids(vocabulary_size)
        target, target_mask = padded_ids(vocabulary_size)
        features = {
            "encoder_token_ids": source,
            "encoder_padding_mask": source_mask,
            "decoder_token_ids": target,
            "decoder_padding_mask": target_mask,
        }
        labels = rng.integers(1, vocabulary_size, size=(batch_size, length), dtype="int32") * target_mask
        return features, labels, 2 * length
    token_ids, padding_mask = padded_ids(vocabulary_size)
    features = {"token_ids": token_ids, "padding_mask": padding_mask}
    if family in ("TextClassifier", "TokenTagger", "MaskedLM"):
        second_half = (np.arange(length)[None, :] >= length // 2).astype("int32")
        features["segment_ids"] = np.broadcast_to(second_half, (batch_size, length)) * padding_mask
    if family == "TextClassifier":
        labels = rng.integers(0, config["num_classes"], size=(batch_size,), dtype="int32")
    elif family == "TokenTagger":
        labels = rng.integers(0, config["num_tags"], size=(batch_size, length), dtype="int32")
    else:  # MaskedLM, CausalLM: a token id per position.
        labels = rng.integers(1, vocabulary_size, size=(batch_size, length), dtype="int32")
    return features, labels, length


def _step_end_times():
    """A callback that records `time.perf_counter()` at the end of every training step."""
    import keras

    class StepEndTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter())

    return StepEndTimes()


def measure_presets(settings, presets=TINY_PRESETS, log=print):
    """Forward and train-step throughput of every preset, interleaved; one row dict per preset."""
    import warnings

    import keras
    import tensorflow as tf

    import kzoo
    from kzoo.presets import PRESETS

    # The taggers and the masked LM do not use the backbone's pooler, so it gets no gradient; expected.
    warnings.filterwarnings("ignore", message="Gradients do not exist for variables", category=UserWarning)
    if settings["train_steps"] < 2:
        raise ValueError(
            "Received an invalid value for argument `train_steps`, expected at least 2. "
            f"Received: train_steps={settings['train_steps']}"
        )
    batch_size = TINY_BATCH["batch_size"]
    items = {}
    for name in presets:
        keras.utils.set_random_seed(0)
        features, labels, tokens = synthetic_batch(name)
        model = kzoo.create(name)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-4),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=False,
        )
        inputs = {key: tf.constant(value) for key, value in features.items()}
        dataset = tf.data.Dataset.from_tensors((features, labels)).repeat().prefetch(2)
        forward = _forward_function(model)
        started = time.perf_counter()
        forward(inputs)
        model.fit(dataset, epochs=1, steps_per_epoch=settings["warmup_steps"], shuffle=False, verbose=0)
        elapsed = time.perf_counter() - started
        log(f"  warm-up {name}: traced forward and {settings['warmup_steps']} train steps in {elapsed:.1f} s")
        items[name] = dict(model=model, inputs=inputs, dataset=dataset, forward=forward, tokens=tokens)

    forward_rates = {name: [] for name in presets}
    train_rates = {name: [] for name in presets}
    calls, steps = settings["forward_calls"], settings["train_steps"]
    phase_wall, phase_cpu = time.perf_counter(), time.process_time()
    for repetition in range(settings["tiny_repetitions"]):
        order = presets if repetition % 2 == 0 else presets[::-1]
        for name in order:
            item = items[name]
            started = time.perf_counter()
            for _ in range(calls):
                item["forward"](item["inputs"])
            forward_rates[name].append(calls * batch_size / (time.perf_counter() - started))
            timer = _step_end_times()
            item["model"].fit(
                item["dataset"], epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0, callbacks=[timer]
            )
            train_rates[name].append((steps - 1) * batch_size / (timer.times[-1] - timer.times[0]))
        log(
            f"  rep {repetition + 1}/{settings['tiny_repetitions']}: "
            + ", ".join(f"{name} {forward_rates[name][-1]:,.0f}/{train_rates[name][-1]:,.0f}" for name in presets)
            + f" ex/s (forward/train; load {load_average()})"
        )
    cpu_share = (time.process_time() - phase_cpu) / ((time.perf_counter() - phase_wall) * usable_cores())

    rows = []
    for name in presets:
        tokens = items[name]["tokens"]
        forward, train = forward_rates[name], train_rates[name]
        rows.append(
            {
                "benchmark": "preset",
                "preset": name,
                "family": PRESETS[name]["family"],
                "parameters": items[name]["model"].count_params(),
                "tokens_per_example": tokens,
                "forward_examples_per_s": statistics.median(forward),
                "forward_examples_per_s_min": min(forward),
                "forward_examples_per_s_max": max(forward),
                "forward_tokens_per_s": statistics.median(forward) * tokens,
                "train_examples_per_s": statistics.median(train),
                "train_examples_per_s_min": min(train),
                "train_examples_per_s_max": max(train),
                "train_tokens_per_s": statistics.median(train) * tokens,
                "repetitions": settings["tiny_repetitions"],
                "cpu_share": cpu_share,
            }
        )
    return rows


# --------------------------------------------------------------------------- encoder vs peak


def build_encoders(seed=0):
    """{item name: keras model} for the encoder comparison (all uncompiled, float32)."""
    import keras
    import keras_hub

    from kzoo.models import EncoderBackbone

    keras.utils.set_random_seed(seed)
    models = {
        KZOO: EncoderBackbone(**ENCODER, activation="gelu_approximate"),
        KZOO_EXACT: EncoderBackbone(**ENCODER),
        KERAS_HUB: keras_hub.models.BertBackbone(**ENCODER),
    }
    counts = {name: model.count_params() for name, model in models.items()}
    if len(set(counts.values())) != 1:
        raise RuntimeError(f"The encoders differ in size, so they are not the same configuration: {counts}")
    return models


def encoder_inputs(seed=0):
    import numpy as np
    import tensorflow as tf

    b, t = ENCODER_BATCH["batch_size"], ENCODER_BATCH["sequence_length"]
    rng = np.random.default_rng(seed)
    return {
        "token_ids": tf.constant(rng.integers(1, ENCODER["vocabulary_size"], size=(b, t), dtype="int32")),
        "segment_ids": tf.zeros((b, t), "int32"),
        "padding_mask": tf.ones((b, t), "int32"),
    }


def _peak_function():
    """A callable running `PEAK_MATMULS` float32 2048 x 2048 matmuls, and their FLOPs."""
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(0)
    a = generator.normal((PEAK_SIZE, PEAK_SIZE))
    b = generator.normal((PEAK_SIZE, PEAK_SIZE)) / PEAK_SIZE**0.5

    @tf.function(autograph=False)
    def matmul(a, b):
        return tf.matmul(a, b)

    def run(_inputs=None):
        for _ in range(PEAK_MATMULS):
            matmul(a, b)  # Eager calls return once the result is computed (CPU is synchronous).

    return run, PEAK_MATMULS * 2 * PEAK_SIZE**3


def measure_encoder(settings, log=print):
    """Forward GFLOP/s of each encoder and of the matmul peak, interleaved; one row dict per item."""
    models = build_encoders()
    inputs = encoder_inputs()
    flops = sum(encoder_flops().values())
    functions = {name: _forward_function(model) for name, model in models.items()}
    peak, peak_flops = _peak_function()
    functions[PEAK] = peak
    item_flops = {name: flops for name in models}
    item_flops[PEAK] = peak_flops
    for name in ENCODER_ITEMS:
        started = time.perf_counter()
        functions[name](inputs)
        functions[name](inputs)
        log(f"  warm-up {name}: {time.perf_counter() - started:.1f} s (two calls, the first traces)")

    wall = {name: [] for name in ENCODER_ITEMS}
    cpu = {name: [] for name in ENCODER_ITEMS}
    phase_wall, phase_cpu = time.perf_counter(), time.process_time()
    for repetition in range(settings["encoder_repetitions"]):
        order = ENCODER_ITEMS if repetition % 2 == 0 else ENCODER_ITEMS[::-1]
        for name in order:
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            functions[name](inputs)
            wall[name].append(item_flops[name] / (time.perf_counter() - started_wall) / 1e9)
            cpu[name].append(item_flops[name] / max(time.process_time() - started_cpu, 1e-9) / 1e9)
        log(
            f"  rep {repetition + 1}/{settings['encoder_repetitions']}: "
            + ", ".join(f"{name} {wall[name][-1]:.1f}" for name in ENCODER_ITEMS)
            + f" GFLOP/s (load {load_average()})"
        )
    cpu_share = (time.process_time() - phase_cpu) / ((time.perf_counter() - phase_wall) * usable_cores())

    peak_median = statistics.median(wall[PEAK])
    peak_cpu_median = statistics.median(cpu[PEAK])
    rows = []
    for name in ENCODER_ITEMS:
        fractions = [value / peak for value, peak in zip(wall[name], wall[PEAK])]
        versus_hub = [value / hub for value, hub in zip(wall[name], wall[KERAS_HUB])]
        rows.append(
            {
                "benchmark": "encoder",
                "item": name,
                "flops": item_flops[name],
                "gflops_per_s": statistics.median(wall[name]),
                "gflops_per_s_min": min(wall[name]),
                "gflops_per_s_max": max(wall[name]),
                "fraction_of_peak": statistics.median(wall[name]) / peak_median,
                "per_rep_fraction_median": statistics.median(fractions),
                "per_rep_fraction_min": min(fractions),
                "per_rep_fraction_max": max(fractions),
                "per_rep_ratio_vs_keras_hub_median": statistics.median(versus_hub),
                "per_rep_ratio_vs_keras_hub_min": min(versus_hub),
                "per_rep_ratio_vs_keras_hub_max": max(versus_hub),
                "gflop_per_cpu_s": statistics.median(cpu[name]),
                "cpu_fraction_of_peak": statistics.median(cpu[name]) / peak_cpu_median,
                "cpu_share": cpu_share,
                "repetitions": settings["encoder_repetitions"],
                "parameters": models[name].count_params() if name in models else None,
            }
        )
    return rows


def profile_encoders(calls=3, top=15, log=print):
    """Print where each encoder's forward spends its time, by innermost scope and op type (`tf.profiler`).

    Times are summed op execution times per forward (ops can overlap, and a loaded
    machine stretches them all); read the shares, not the milliseconds.
    """
    import tensorflow as tf

    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError as error:
        raise RuntimeError(
            f"--profile needs TensorFlow's profiler protos, which this install lacks ({error})."
        ) from None

    models = build_encoders()
    inputs = encoder_inputs()
    for name, model in models.items():
        forward = _forward_function(model)
        forward(inputs)
        forward(inputs)
        with tempfile.TemporaryDirectory() as directory:
            tf.profiler.experimental.start(directory)
            for _ in range(calls):
                forward(inputs)
            tf.profiler.experimental.stop()
            space = xplane_pb2.XSpace()
            with open(glob.glob(os.path.join(directory, "**", "*.xplane.pb"), recursive=True)[0], "rb") as handle:
                space.ParseFromString(handle.read())
        by_type = collections.Counter()
        for plane in space.planes:
            names = {key: value.name for key, value in plane.event_metadata.items()}
            for line in plane.lines:
                for event in line.events:
                    label = names.get(event.metadata_id, "")
                    if ":" in label and "/" in label:  # TensorFlow op events are "scope/.../name:Type".
                        op_name, op_type = label.rsplit(":", 1)
                        scope = re.sub(r"_\d+$", "", op_name.split("/")[-2])  # The innermost layer or op scope.
                        by_type[f"{scope}:{op_type}"] += event.duration_ps / 1e9 / calls
        total = sum(by_type.values())
        log(f"  {name}: {total:.0f} ms of op time per forward")
        for op_type, milliseconds in by_type.most_common(top):
            log(f"    {op_type:48s} {milliseconds:8.1f} ms  {milliseconds / total:6.1%}")


# --------------------------------------------------------------------------- output


def _table(header, body, markdown, align_left=1):
    if markdown:
        lines = ["| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join(["---"] * align_left + ["---:"] * (len(header) - align_left)) + "|")
        lines.extend("| " + " | ".join(cells) + " |" for cells in body)
        return "\n".join(lines)
    widths = [max(len(str(cells[i])) for cells in [header] + body) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in body)
    return "\n".join(lines)


def format_presets(rows, markdown=False):
    header = (
        "preset",
        "family",
        "parameters",
        "tokens/example",
        "forward ex/s",
        "forward tokens/s",
        "forward ex/s min - max",
        "train ex/s",
        "train tokens/s",
        "train ex/s min - max",
    )
    body = [
        (
            row["preset"],
            row["family"],
            f"{row['parameters']:,}",
            str(row["tokens_per_example"]),
            f"{row['forward_examples_per_s']:,.0f}",
            f"{row['forward_tokens_per_s']:,.0f}",
            _spread([row["forward_examples_per_s_min"], row["forward_examples_per_s_max"]]),
            f"{row['train_examples_per_s']:,.0f}",
            f"{row['train_tokens_per_s']:,.0f}",
            _spread([row["train_examples_per_s_min"], row["train_examples_per_s_max"]]),
        )
        for row in rows
    ]
    return _table(header, body, markdown, align_left=2)


def format_encoder(rows, markdown=False):
    header = (
        "",
        "GFLOP/s (median)",
        "min - max",
        "fraction of peak (medians)",
        "fraction of peak per rep: median (min - max)",
        "vs keras-hub per rep: median (min - max)",
        "GFLOP per CPU-s",
        "fraction of peak per CPU-s",
    )
    body = []
    for row in rows:
        versus = (
            "-"
            if row["item"] in (PEAK, KERAS_HUB)
            else f"{row['per_rep_ratio_vs_keras_hub_median']:.2f}x ({row['per_rep_ratio_vs_keras_hub_min']:.2f} - "
            f"{row['per_rep_ratio_vs_keras_hub_max']:.2f})"
        )
        body.append(
            (
                row["item"],
                f"{row['gflops_per_s']:.1f}",
                _spread([row["gflops_per_s_min"], row["gflops_per_s_max"]], digits=1),
                f"{row['fraction_of_peak']:.2f}",
                "-"
                if row["item"] == PEAK
                else f"{row['per_rep_fraction_median']:.2f} ({row['per_rep_fraction_min']:.2f} - "
                f"{row['per_rep_fraction_max']:.2f})",
                versus,
                f"{row['gflop_per_cpu_s']:.1f}",
                f"{row['cpu_fraction_of_peak']:.2f}",
            )
        )
    return _table(header, body, markdown)


def verdict(rows):
    """Sentences on the issue's goal: kzoo >= 0.9 of the matmul peak and not below keras-hub.

    Judged twice: by wall clock (per-repetition ratios to the neighbouring measurement)
    and per CPU-second, which is what stays comparable when other processes take most
    of the cores.
    """
    by_item = {row["item"]: row for row in rows}
    kzoo, hub = by_item[KZOO], by_item[KERAS_HUB]
    ratio = kzoo["per_rep_ratio_vs_keras_hub_median"]
    low, high = kzoo["per_rep_ratio_vs_keras_hub_min"], kzoo["per_rep_ratio_vs_keras_hub_max"]
    cpu_ratio = kzoo["gflop_per_cpu_s"] / hub["gflop_per_cpu_s"]
    if low > 1.0:
        against = "faster than keras-hub in every repetition"
    elif high < 1.0:
        against = "slower than keras-hub in every repetition"
    else:
        against = "level with keras-hub within the noise"
    wall_met = kzoo["per_rep_fraction_median"] >= 0.9 and ratio >= 1.0
    cpu_met = kzoo["cpu_fraction_of_peak"] >= 0.9 and cpu_ratio >= 1.0
    if wall_met == cpu_met:
        goal = "met by both measures" if wall_met else "not met by either measure"
    else:
        goal = "met by wall clock only" if wall_met else "met per CPU-second only"
    return (
        f"By wall clock ({kzoo['cpu_share']:.0%} of the cores for this process), kzoo reaches "
        f"{kzoo['per_rep_fraction_median']:.2f} of the matmul peak measured next to it (keras-hub "
        f"{hub['per_rep_fraction_median']:.2f}) and is {against} ({ratio:.2f}x median, {low:.2f} - {high:.2f} "
        f"per repetition). Per CPU-second, kzoo reaches {kzoo['cpu_fraction_of_peak']:.2f} of the peak "
        f"(keras-hub {hub['cpu_fraction_of_peak']:.2f}; kzoo / keras-hub {cpu_ratio:.2f}x). "
        f"The goal (>= 0.9 of peak, not below keras-hub) is {goal}."
    )


def markdown_section(preset_rows, encoder_rows, info, command, settings, loads):
    b, t = TINY_BATCH["batch_size"], TINY_BATCH["sequence_length"]
    parts = encoder_flops()
    total = sum(parts.values())
    per_part = ", ".join(f"{name.replace('_', ' ')} {value / 1e9:.2f}" for name, value in parts.items())
    c, eb = ENCODER, ENCODER_BATCH
    shares = preset_rows[0]["cpu_share"], encoder_rows[0]["cpu_share"]
    return f"""## Models: tiny-preset throughput, and encoder forward GFLOP/s against the matmul peak

```
{command}
```

- CPU: {info['cpu']}, {info['cores']} cores; oneDNN: {info['onednn']}
- Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, keras-hub {info['keras_hub']}, NumPy {info['numpy']}
- Measured {info['date']}; load average (1/5/15 min) {loads[0]} before, {loads[1]} after

### Every `*_tiny` preset

`kzoo.create(name)` with the preset's defaults (dropout included), float32, one synthetic batch of {b}
examples: {t} tokens, {t} source + {t} target tokens for the seq2seq models, one 8x8x1 image for ViT
(16 patches + class token = 17 positions). Rows have random lengths ({t // 2} to {t}) padded with 0;
tokens/s counts every position, padding included. Forward: `model(inputs, training=False)` in a
`tf.function`, {settings['forward_calls']} calls per repetition. Train: `model.fit` on the batch repeated, Adam,
sparse categorical cross-entropy, `jit_compile=False`, {settings['train_steps']} steps per repetition timed from the
end of the first step to the end of the last (tracing and `fit` set-up not counted). {settings['tiny_repetitions']} repetitions,
presets interleaved (order reversed every other repetition); medians, min - max over repetitions.

{format_presets(preset_rows, markdown=True)}

### Encoder forward against the fp32 matmul peak

BERT-style encoder: {c['num_layers']} layers, width {c['hidden_dim']}, {c['num_heads']} heads, feed-forward {c['intermediate_dim']},
vocabulary {c['vocabulary_size']:,}, dropout {c['dropout']}, float32, batch {eb['batch_size']} x {eb['sequence_length']} tokens,
`model(inputs, training=False)` in a `tf.function`, {encoder_rows[1]['parameters']:,} parameters each. "{KZOO}" uses
`activation="gelu_approximate"` to match keras-hub's `BertBackbone` (which hard-codes the tanh GELU); "{KZOO_EXACT}"
is kzoo's default `activation="gelu"`. Peak: `tf.matmul` of two {PEAK_SIZE} x {PEAK_SIZE} float32 matrices in a `tf.function`,
{PEAK_MATMULS} calls per measurement. {settings['encoder_repetitions']} repetitions, the four items measured in turn within
each (order reversed every other repetition); medians. "per-rep" columns divide each measurement by the peak
(or keras-hub) measured next to it.

FLOPs counted per forward (2mnk per matmul, GFLOP): {per_part}; total {total / 1e9:.2f}.
Not counted: embedding lookups, layer norms, softmax, GELU, bias and residual adds, masking, the pooler (0.02%).

{format_encoder(encoder_rows, markdown=True)}

{verdict(encoder_rows)}
`python -m benchmarks.models --profile` also prints where each forward's time goes, by layer and op type.

Noise: other processes shared the machine; this process got {shares[0]:.0%} of the {usable_cores()} cores while the preset
table was measured and {shares[1]:.0%} during the encoder table (CPU time / wall time / cores), so every wall-clock
figure is below what an idle machine gives and the min - max spreads are wide. The ratios to the adjacent peak or keras-hub measurement,
and the per-CPU-second figures (FLOPs over the CPU time the process was given), are the figures to compare.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, steps and repetitions (noisier)")
    parser.add_argument("--profile", action="store_true", help="also print the encoders' forward time by op type")
    parser.add_argument("--markdown", metavar="PATH", help="write/replace this benchmark's section of PATH")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    info = machine()
    command = "python -m benchmarks.models" + (" --quick" if args.quick else "")
    print(__doc__.splitlines()[0])
    print(f"CPU: {info['cpu']}, {info['cores']} cores; oneDNN: {info['onednn']}")
    print(
        f"Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
        f"keras-hub {info['keras_hub']}, NumPy {info['numpy']}; {info['date']}",
        flush=True,
    )

    def log(message):
        print(message, flush=True)

    import tensorflow as tf

    # Building one `tf.function` per model makes TensorFlow warn about retracing; expected here.
    tf.get_logger().setLevel("ERROR")
    load_before = load_average()
    started = time.perf_counter()
    print("Tiny presets:", flush=True)
    preset_rows = measure_presets(settings, log=log)
    print(f"Tiny presets took {time.perf_counter() - started:.0f} s. Encoder vs matmul peak:", flush=True)
    started = time.perf_counter()
    encoder_rows = measure_encoder(settings, log=log)
    print(f"Encoder table took {time.perf_counter() - started:.0f} s.")
    load_after = load_average()
    print()
    print(format_presets(preset_rows))
    print()
    print(format_encoder(encoder_rows))
    print(f"FLOPs counted per encoder forward: {sum(encoder_flops().values()) / 1e9:.2f} GFLOP.")
    print(verdict(encoder_rows))
    print(
        f"CPU share of this process: {preset_rows[0]['cpu_share']:.0%} during the preset table, "
        f"{encoder_rows[0]['cpu_share']:.0%} during the encoder table; "
        f"load {load_before} -> {load_after}"
    )
    if args.profile:
        print("Encoder forward by op type:", flush=True)
        profile_encoders(log=log)
    if args.markdown:
        from benchmarks.run_all import write_section

        section = markdown_section(preset_rows, encoder_rows, info, command, settings, (load_before, load_after))
        write_section(args.markdown, SECTION, section)
        print(f"Wrote section `{SECTION}` of {args.markdown}.")
    return preset_rows + encoder_rows


if __name__ == "__main__":
    main()
    sys.exit(0)
