"""Export formats: file size and latency of every format and quantization variant, and decoding speed.

Two bundles are written with `export.bundle.export_bundle` into a temporary folder
(fixed seed, random weights: the models are untrained, which changes neither file
sizes nor latencies, but makes the parity figures those of a random model):

1. An encoder classifier (BERT-style `classifier_small`; `classifier_tiny` with
   `--quick`) at sequence length 128, every format and variant: the TF SavedModel
   (the reference: `tf.saved_model.load`, `serving_default` signature called with
   `tf.constant` inputs), ONNX Runtime fp32 and dynamic int8 (the bundle's
   `onnx_quantize` output), and LiteRT fp32, fp16, dynamic-range int8 and full int8
   (ai-edge-litert signature runners). Timed at batch 1 and batch 8 on rows of 128
   random token ids (no padding). Size ratio = file size / the fp32 file of the same
   runtime; speed-up = SavedModel p50 / format p50 at the same batch, measured in
   the same run; max abs diff and argmax agreement come from the bundle's parity
   report (manifest), on the 8 sample rows.
2. A translator of the Transformer-base shape (`transformer_base` with a 4,001-token
   vocabulary; `transformer_tiny` with `--quick`) exported to every variant (ONNX
   fp32, dynamic int8, int4; TFLite fp32, fp16, dynamic int8, full int8; fewer with
   `--quick`), 32 random source tokens per row, no end token so every call decodes
   exactly N new tokens: tokens/s of whole calls (encoding included) at batch 1 and
   16, greedy and beam-4, through Keras `model.generate` (warm: its traced loop
   reused), the SavedModel `generate` signature (greedy) and the runtime's numpy loop
   over the KV-cache `decode_step` of every variant; with each path's ratio to
   Keras, beam to greedy, LiteRT to ONNX Runtime, quantized to fp32, and the share
   of rows that decode Keras's tokens.

ONNX Runtime (intra-op threads; inter-op 1, unused in its sequential mode), LiteRT
(`num_threads`) and TensorFlow (intra-op and inter-op threads, when the TF runtime
has not started yet in this process) all get `--threads` threads (default: the
usable cores). Each timed item gets warm-up calls first; then the repetitions are
interleaved across all items (order reversed every other repetition) so that load
from other processes falls on all of them; the tables give the median (p50), the
fastest call and p90 over the repetitions, and the section the 1-minute load
average sampled at every repetition.

Example:
```
python -m benchmarks.export                      # ~25 minutes on a quiet 2-core machine
python -m benchmarks.export --quick              # tiny models, few repetitions: ~35 CPU-seconds
python -m benchmarks.export --markdown docs/benchmarks.md
```
"""

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run_all import load_average, machine, usable_cores

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "export"
SEED = 0
SEQUENCE_LENGTH = 128
BATCHES = (1, 8)
SAMPLE_ROWS = 8  # Parity and int8 calibration rows (also the batch-8 input).
SPECIAL = {"pad": 0, "start": 1}  # No end token: every decoding call generates exactly N tokens.



@dataclasses.dataclass(frozen=True)
class DecodingSetting:
    """The decoding benchmark's translator: its shape, the variants exported, and how often each path is timed."""

    preset: str
    vocabulary_size: int
    source_length: int
    new_tokens: int
    tflite_variants: tuple
    onnx_variants: tuple
    warmup: int
    repetitions: int


# name -> (classifier preset, warm-up calls, classifier repetitions, decoding setting). The full decoding setting
# is the Transformer-base shape of the speed issue: 6+6 layers, d=512, 8 heads, ff 2048, a 4,001-token
# vocabulary, 32 source tokens, exactly 32 new tokens (no end token), a cache of 32 positions.
SETTINGS = {
    "full": ("classifier_small", 5, 100, DecodingSetting("transformer_base", 4001, 32, 32,
                                                         ("fp32", "fp16", "dynamic_int8", "int8"),
                                                         ("dynamic_int8", "int4"), warmup=1, repetitions=5)),
    "quick": ("classifier_tiny", 2, 5, DecodingSetting("transformer_tiny", None, 8, 8, ("fp32", "dynamic_int8"),
                                                       ("dynamic_int8",), warmup=1, repetitions=2)),
}

# (manifest variant, runtime, format label, variant label, fp32 variant of the same runtime)
VARIANTS = (
    ("savedmodel", "TensorFlow", "SavedModel", "fp32", "savedmodel"),
    ("onnx", "ONNX Runtime", "ONNX", "fp32", "onnx"),
    ("onnx_dynamic_int8", "ONNX Runtime", "ONNX", "dynamic_int8", "onnx"),
    ("onnx_int4", "ONNX Runtime", "ONNX", "int4", "onnx"),
    ("tflite_fp32", "LiteRT", "TFLite", "fp32", "tflite_fp32"),
    ("tflite_fp16", "LiteRT", "TFLite", "fp16", "tflite_fp32"),
    ("tflite_dynamic_int8", "LiteRT", "TFLite", "dynamic_int8", "tflite_fp32"),
    ("tflite_int8", "LiteRT", "TFLite", "int8", "tflite_fp32"),
)
VARIANT_NAMES = tuple(v[0] for v in VARIANTS)


def set_tf_threads(threads):
    """`threads` intra-op and inter-op threads for TensorFlow; returns (intra, inter, applied: bool).

    TensorFlow takes thread settings only before its runtime starts; in a process that
    already ran TF ops (a test session) the current settings are kept and reported.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        applied = True
    except RuntimeError:
        applied = False
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    return intra, inter, applied


def classifier_inputs(vocabulary_size, rows, length, seed=SEED):
    """Full-length rows of random token ids (ids 5.. so none is a special token)."""
    import numpy as np

    ids = np.random.default_rng(seed).integers(5, vocabulary_size, size=(rows, length)).astype("int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": np.ones_like(ids)}


def _folder_bytes(path):
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_classifier(folder, preset, length, say=print):
    """(bundle folder, manifest, sample inputs, parameter count) of a random-weight classifier bundle."""
    import keras

    import kzoo
    from export.bundle import ExportOptions, export_bundle

    keras.utils.set_random_seed(SEED)
    model = kzoo.create(preset, max_sequence_length=length)
    inputs = classifier_inputs(model.backbone.vocabulary_size, SAMPLE_ROWS, length)
    model(inputs)
    out = Path(folder) / "classifier"
    started = time.perf_counter()
    manifest = export_bundle(
        model, out, inputs, ExportOptions(onnx_quantize=True, task={"name": "synthetic", "kind": "classification"},
        special_tokens=SPECIAL, progress=lambda message: say(f"[export] classifier: {message}")),
    )
    return out, manifest, inputs, model.count_params(), time.perf_counter() - started


def _sizes(out, manifest):
    """Manifest variant -> bytes on disk (the SavedModel folder, or the variant's files)."""
    sizes = {}
    for name in manifest["parity"]["variants"]:
        sizes[name] = sum(_folder_bytes(out / f) for f in set(manifest["exports"][name]["parts"].values()))
    return sizes


def _savedmodel_call(loaded, signature, feeds, output):
    """A callable running a SavedModel signature on fixed `tf.constant` inputs; returns numpy."""
    import tensorflow as tf

    function = loaded.signatures[signature]
    specs = function.structured_input_signature[1]
    arguments = {name: tf.constant(feeds[name], dtype=spec.dtype) for name, spec in specs.items()}
    return lambda: function(**arguments)[output].numpy()


def classifier_items(out, manifest, inputs, threads):
    """{(variant, batch): callable} running the serving graph of every variant on fixed inputs."""
    import tensorflow as tf

    from kzoo.runtime.backends import open_backend

    variants = manifest["parity"]["variants"]
    loaded = tf.saved_model.load(str(out / "savedmodel"))
    items = {}
    for batch in BATCHES:
        feeds = {name: value[:batch] for name, value in inputs.items()}
        for name in VARIANT_NAMES:
            if name not in variants:
                continue
            if name == "savedmodel":
                items[name, batch] = _savedmodel_call(loaded, "serving_default", feeds, "logits")
                continue
            # One session or interpreter per batch size, so no call resizes its tensors.
            backend = open_backend(out, manifest["exports"][name], threads=threads)
            items[name, batch] = (lambda backend=backend, feeds=feeds: backend.run("serving_default", feeds)["logits"])
    return items, loaded


def time_items(items, warmup, repetitions, loads=None):
    """Warm-up calls, then `repetitions` interleaved timed calls per item; {key: [seconds]}.

    The 1-minute load average is appended to `loads` at every repetition.
    """
    keys = list(items)
    for key in keys:
        for _ in range(warmup):
            items[key]()
    times = {key: [] for key in keys}
    for repetition in range(repetitions):
        if loads is not None and hasattr(os, "getloadavg"):
            loads.append(os.getloadavg()[0])
        for key in keys if repetition % 2 == 0 else reversed(keys):
            started = time.perf_counter()
            items[key]()
            times[key].append(time.perf_counter() - started)
    return times


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def classifier_rows(manifest, sizes, times):
    """One row per (variant, batch): size, size ratio, p50/p90 ms, speed-up vs SavedModel, parity."""
    variants = manifest["parity"]["variants"]
    rows = []
    for batch in BATCHES:
        reference = statistics.median(times["savedmodel", batch]) if ("savedmodel", batch) in times else None
        fastest_reference = min(times["savedmodel", batch]) if ("savedmodel", batch) in times else None
        for name, runtime, label, variant, fp32 in VARIANTS:
            if (name, batch) not in times:
                continue
            p50 = statistics.median(times[name, batch])
            report = variants[name]
            rows.append({
                "table": "classifier",
                "variant": name,
                "format": label,
                "quantization": variant,
                "runtime": runtime,
                "batch": batch,
                "size_bytes": sizes[name],
                "size_ratio": sizes[name] / sizes[fp32],
                "p50_ms": 1000 * p50,
                "min_ms": 1000 * min(times[name, batch]),
                "p90_ms": 1000 * percentile(times[name, batch], 90),
                "runs": len(times[name, batch]),
                "speedup": reference / p50 if reference else float("nan"),
                "speedup_min": fastest_reference / min(times[name, batch]) if fastest_reference else float("nan"),
                "max_abs_diff": report.get("max_abs_diff"),
                "agreement": report.get("metric"),
                "weight_type": report.get("weight_type"),
            })
    return rows


def export_translator(folder, setting, say=print):
    """(bundle folder, manifest, model, source) of a random-weight translator bundle with every decoding variant."""
    import keras
    import numpy as np

    import kzoo
    from export.bundle import ExportOptions, export_bundle

    keras.utils.set_random_seed(SEED)
    model = kzoo.create(setting.preset, **({"vocabulary_size": setting.vocabulary_size} if setting.vocabulary_size else {}))
    rng = np.random.default_rng(SEED)
    ids = rng.integers(5, model.vocabulary_size, size=(max(BEAM_BATCHES), setting.source_length)).astype("int32")
    source = {"encoder_token_ids": ids, "encoder_padding_mask": np.ones_like(ids)}
    out = Path(folder) / "translator"
    started = time.perf_counter()
    # The cache holds exactly the decoded positions, as in the SavedModel `generate` loop.
    manifest = export_bundle(
        model, out, {name: value[:2] for name, value in source.items()},
        ExportOptions(quantize=setting.tflite_variants, onnx_quantize=setting.onnx_variants, skip_failing=True,
                      task={"name": "synthetic", "kind": "translation"}, special_tokens=SPECIAL,
                      max_new_tokens=setting.new_tokens, max_length=setting.new_tokens,
                      progress=lambda message: say(f"[export] translator: {message}")),
    )
    return out, manifest, model, source, time.perf_counter() - started


def decoding_items(out, manifest, model, source, new_tokens, threads):
    """{(path, batch, strategy): callable returning the new tokens} for every decoding path of the bundle.

    Paths: Keras `model.generate` (greedy and beam), the SavedModel `generate`
    signature (greedy only: the graph holds the greedy loop) and the runtime's
    numpy loop (`kzoo.runtime.decoding.generate`) over every exported variant.
    """
    import tensorflow as tf

    from kzoo.runtime import decoding
    from kzoo.runtime.backends import open_backend

    layout = manifest["decoding"]
    max_length = decoding.decoded_positions(manifest["max_length"], encoder=True)
    loaded = tf.saved_model.load(str(out / "savedmodel"))
    variants = [name for name in DECODING_PATHS if name in manifest["parity"]["variants"] and name != "savedmodel"]
    start = SPECIAL["start"]
    items = {}
    for batch in BEAM_BATCHES:
        # One session or interpreter per batch size, as for the classifier: no call resizes another's tensors.
        backends = {name: open_backend(out, manifest["exports"][name], threads=threads) for name in variants}
        rows = {name: value[:batch] for name, value in source.items()}
        items["savedmodel", batch, "greedy"] = _savedmodel_call(loaded, "generate", rows, "tokens")
        for strategy, options in STRATEGIES.items():
            items["keras", batch, strategy] = (
                lambda rows=rows, options=options: model.generate(rows, new_tokens, start_token_id=start, **options))
            runtime_options = decoding.DecodingOptions(start_token_id=start, pad_token_id=SPECIAL["pad"], **options)
            for name, backend in backends.items():
                items[name, batch, strategy] = (
                    lambda backend=backend, rows=rows, runtime_options=runtime_options:
                    decoding.generate(backend, layout, rows, new_tokens, max_length, runtime_options))
    return items, loaded


# path -> (runtime, precision), in table order: Keras, then every variant of VARIANTS.
DECODING_PATHS = {"keras": ("TensorFlow", "Keras `generate`"), "savedmodel": ("TensorFlow", "SavedModel `generate`")}
DECODING_PATHS.update({name: (runtime, precision) for name, runtime, _, precision, _ in VARIANTS if name != "savedmodel"})
FP32_TWIN = {name: fp32 for name, *_, fp32 in VARIANTS if name != "savedmodel"}
STRATEGIES = {"greedy": {}, "beam": {"strategy": "beam", "num_beams": 4}}
BEAM_BATCHES = (1, 16)


def decoding_rows(items, times, new_tokens):
    """One row per (path, batch, strategy): tokens/s and its ratios, and agreement with Keras's tokens."""
    import numpy as np

    tokens = {key: np.asarray(call()) for key, call in items.items()}
    rows = []
    for (name, batch, strategy), call in items.items():
        seconds = statistics.median(times[name, batch, strategy])
        rate = batch * new_tokens / seconds
        rows.append({"table": "decoding", "variant": name, "runtime": DECODING_PATHS[name][0],
                     "precision": DECODING_PATHS[name][1], "batch": batch, "strategy": strategy,
                     "new_tokens": new_tokens, "tokens_per_s": rate, "call_ms": 1000 * seconds,
                     "min_call_ms": 1000 * min(times[name, batch, strategy]),
                     "runs": len(times[name, batch, strategy]),
                     "same_rows": float(np.mean(np.all(tokens[name, batch, strategy] == tokens["keras", batch, strategy],
                                                       axis=1)))})
    by = {(r["variant"], r["batch"], r["strategy"]): r for r in rows}
    for row in rows:
        keras_row = by["keras", row["batch"], row["strategy"]]
        greedy = by.get((row["variant"], row["batch"], "greedy"))
        onnx_twin = next((name for name, (runtime, precision) in DECODING_PATHS.items()
                          if runtime == "ONNX Runtime" and precision == row["precision"]), None)
        same_precision_onnx = by.get((onnx_twin, row["batch"], row["strategy"]))
        row["vs_keras"] = row["tokens_per_s"] / keras_row["tokens_per_s"]
        row["beam_vs_greedy"] = row["tokens_per_s"] / greedy["tokens_per_s"] if row["strategy"] == "beam" else None
        reference = same_precision_onnx if row["runtime"] == "LiteRT" else None
        row["litert_vs_onnx"] = row["tokens_per_s"] / reference["tokens_per_s"] if reference else None
        fp32 = by.get((FP32_TWIN.get(row["variant"]), row["batch"], row["strategy"]))
        row["vs_fp32"] = row["tokens_per_s"] / fp32["tokens_per_s"] if fp32 else None
    return rows


def _bytes(value):
    return f"{value / 2**20:.2f} MB" if value >= 2**20 else f"{value / 2**10:.0f} KB"


def _diff(value):
    return "" if value is None else f"{value:.1e}"


def format_classifier_table(rows, markdown=False):
    header = ("format", "variant", "runtime", "batch", "size", "size / fp32", "p50 ms", "min ms", "p90 ms", "runs",
              "speed-up vs SavedModel", "same, by min", "max abs diff vs Keras", "argmax agrees %")
    body = [
        (r["format"], r["quantization"], r["runtime"], str(r["batch"]), _bytes(r["size_bytes"]),
         f"{r['size_ratio']:.2f}", f"{r['p50_ms']:.2f}", f"{r['min_ms']:.2f}", f"{r['p90_ms']:.2f}", str(r["runs"]),
         f"{r['speedup']:.2f}x", f"{r['speedup_min']:.2f}x", _diff(r["max_abs_diff"]),
         "" if r["agreement"] is None else f"{r['agreement']:.1f}")
        for r in rows
    ]
    return _table(header, body, markdown, right=range(3, 14))


def _ratio(value):
    return "" if value is None else f"{value:.2f}x"


def format_decoding_table(rows, markdown=False):
    header = ("runtime", "variant", "batch", "decoding", "tokens/s", "call ms (p50)", "fastest call ms", "runs",
              "vs Keras", "beam / greedy", "vs fp32", "LiteRT / ONNX Runtime", "rows = Keras")
    body = [
        (r["runtime"], r["precision"], str(r["batch"]), "beam-4" if r["strategy"] == "beam" else "greedy",
         f"{r['tokens_per_s']:,.0f}", f"{r['call_ms']:.0f}", f"{r['min_call_ms']:.0f}", str(r["runs"]),
         _ratio(r["vs_keras"]), _ratio(r["beam_vs_greedy"]), _ratio(r["vs_fp32"]), _ratio(r["litert_vs_onnx"]),
         f"{100 * r['same_rows']:.0f}%")
        for r in sorted(rows, key=lambda r: (r["batch"], r["strategy"] == "beam", list(DECODING_PATHS).index(r["variant"])))
    ]
    return _table(header, body, markdown, right=range(2, 13))


def _table(header, body, markdown, right=()):
    if markdown:
        align = ["---:" if i in right else "---" for i in range(len(header))]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]

    def fmt(row):
        return "  ".join(str(cell).rjust(w) if i in right else str(cell).ljust(w)
                         for i, (cell, w) in enumerate(zip(row, widths)))

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, body)])


def summary(rows, translator, manifest):
    """Bullet lines: what stands out in this run's numbers."""
    lines = []
    by = {(r["variant"], r["batch"]): r for r in rows}
    for batch in BATCHES:
        present = [r for r in rows if r["batch"] == batch]
        if present:
            fastest = min(present, key=lambda r: r["p50_ms"])
            lines.append(
                f"- Batch {batch}: fastest {fastest['format']} {fastest['quantization']} ({fastest['runtime']}), "
                f"{fastest['p50_ms']:.2f} ms, {fastest['speedup']:.2f}x the SavedModel's "
                f"{by['savedmodel', batch]['p50_ms']:.2f} ms."
            )
    for batch in BATCHES:
        fp32 = by.get(("tflite_fp32", batch))
        int8 = [by.get((v, batch)) for v in ("tflite_dynamic_int8", "tflite_int8")]
        slower = [r for r in int8 if r and fp32 and r["p50_ms"] > fp32["p50_ms"]]
        if slower:
            lines.append(
                f"- Batch {batch}: LiteRT "
                + " and ".join(f"{r['quantization']} ({r['p50_ms']:.2f} ms)" for r in slower)
                + f" slower than LiteRT fp32 ({fp32['p50_ms']:.2f} ms) on this CPU."
            )
        onnx, onnx_int8 = by.get(("onnx", batch)), by.get(("onnx_dynamic_int8", batch))
        if onnx and onnx_int8 and onnx_int8["p50_ms"] > onnx["p50_ms"]:
            lines.append(f"- Batch {batch}: ONNX Runtime dynamic int8 ({onnx_int8['p50_ms']:.2f} ms) slower than fp32 "
                         f"({onnx['p50_ms']:.2f} ms) on this CPU.")
    variants = manifest["parity"]["variants"]
    if "onnx_dynamic_int8" in variants:
        lines.append(f"- ONNX dynamic int8 kept {variants['onnx_dynamic_int8'].get('weight_type')} weights "
                     "(the bundle tries QInt8 and QUInt8 and keeps the better metric).")
    if "tflite_int8" in variants:
        fallback = variants["tflite_int8"].get("float_fallback_ops") or []
        lines.append("- LiteRT full int8 runs these ops in float (no int8 kernel): " + (", ".join(fallback) or "none")
                     + ".")
    skipped = manifest["parity"].get("skipped") or {}
    for name, reason in skipped.items():
        lines.append(f"- {name} left out: {reason}")
    by_decoding = {(r["variant"], r["batch"], r["strategy"]): r for r in translator}
    for (name, batch, strategy), row in by_decoding.items():
        if strategy == "beam" and row["beam_vs_greedy"] is not None and name != "keras":
            keras_beam = by_decoding["keras", batch, "beam"]["tokens_per_s"]
            lines.append(f"- {row['runtime']} {row['precision']}, batch {batch}: beam-4 {row['tokens_per_s']:,.0f} tokens/s, "
                         f"{row['beam_vs_greedy']:.2f}x its greedy and {row['tokens_per_s'] / keras_beam:.2f}x Keras's beam.")
    differing = sorted({f"{r['variant']} ({r['strategy']}, batch {r['batch']}: {100 * r['same_rows']:.0f}%)"
                        for r in translator if r["same_rows"] < 1.0})
    if translator:
        lines.append("- Every decoding path gave Keras's tokens on every row." if not differing
                     else "- Rows decoded exactly as Keras: " + "; ".join(differing) + ".")
    return "\n".join(lines)


def markdown_section(rows, translator, manifest, setting, info, extra, command):
    classifier, warmup, repetitions, decoding_setting = setting
    d = decoding_setting
    c = extra
    translator_part = ""
    if translator:
        skipped = "; ".join(f"{name} ({reason})" for name, reason in sorted(c["translator_skipped"].items())) or "none"
        translator_part = f"""
### Translator decoding: every runtime and variant, batch {' and '.join(map(str, BEAM_BATCHES))}, greedy and beam-4

`{d.preset}` with a {c['translator_vocabulary']:,}-token vocabulary ({c['translator_parameters']:,} parameters,
random weights), {d.source_length} random source tokens per row, no end token: every call decodes exactly
{d.new_tokens} new tokens per row, over a KV cache of {d.new_tokens} positions (exported with
`skip_failing=True`; {c['translator_export_s']:.0f} s; variants left out: {skipped}). Tokens/s = batch rows x
{d.new_tokens} / the median call (encoding included; beams are not counted). Each path: {d.warmup} warm-up call,
then {d.repetitions} repetitions interleaved with every other path. Keras: `model.generate` (its traced loop
reused); SavedModel: its `generate` signature (greedy only); ONNX Runtime and LiteRT: the bundle runtime's numpy
loop (`kzoo.runtime.decoding.generate`) over `encode` + `decode_step` (decode-step contract 2: one prefill call;
the step reads the KV caches the runtime keeps, which writes the new keys and values in place and reorders beams
itself). vs Keras: against Keras's path of the same batch and decoding; beam /
greedy: against the same variant's greedy at the same batch; vs fp32: against the same runtime's fp32; LiteRT /
ONNX Runtime: against ONNX Runtime at the same precision. Rows = Keras: the share of rows whose tokens equal
Keras's (random weights leave many near-tied logits, which any rounding may flip).

{format_decoding_table(translator, markdown=True)}
"""
    return f"""## Export: size and latency per format and quantization variant

`{classifier}` ({c['classifier_parameters']:,} parameters, BERT-style encoder classifier, random weights: the model is
untrained, which changes neither sizes nor latencies, but the parity columns are those of a random model) at
sequence length {SEQUENCE_LENGTH}, exported with `export.bundle.export_bundle` (every format, every TFLite variant,
`onnx_quantize=True`; {c['classifier_export_s']:.0f} s) with seed {SEED}. Inputs: rows of {SEQUENCE_LENGTH} random
token ids, no padding. {warmup} warm-up calls per item, then {repetitions} repetitions interleaved across all items
(order reversed every other repetition); p50, fastest call (min) and p90 over those. Reference: the SavedModel
loaded with `tf.saved_model.load`, its `serving_default` signature called with `tf.constant` inputs. Speed-up =
SavedModel p50 / format p50 at the same batch, in this run; "same, by min" divides the fastest calls instead (the
calls least disturbed by other processes). Size / fp32 = file size / the fp32 file of the same runtime (SavedModel:
the whole folder). Max abs diff of the logits vs Keras and argmax agreement with Keras come from the bundle's parity
report (manifest), on {SAMPLE_ROWS} sample rows (also the int8 calibration data).

Threads: ONNX Runtime {c['threads']} intra-op (inter-op 1, unused in its default sequential mode), LiteRT
`num_threads={c['threads']}` (its default XNNPACK delegate on), TensorFlow {c['tf_threads']}. ONNX Runtime's graph
optimisation level "all" (the runtime's default).

```
{command}
```

- CPU: {info['cpu']}, {info['cores']} cores
- Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, ONNX Runtime {c['onnxruntime']},
  ai-edge-litert {c['litert']}, tf2onnx {c['tf2onnx']}
- Measured {info['date']}; load average (1/5/15 min) {c['load_before']} before, {c['load_after']} after;
  took {c['took']}
- 1-minute load average while timing: {c['load_during']}

### Encoder classifier, sequence length {SEQUENCE_LENGTH}

{format_classifier_table(rows, markdown=True)}
{translator_part}
{summary(rows, translator, manifest)}

Other processes shared the machine (see the load average), so absolute latencies are pessimistic and move from run
to run; the speed-ups, measured interleaved in the same run, are the figures to compare.{c['loaded_note']}
"""


def _load_text(loads, cores):
    """The 1-minute load average over the timed repetitions, as a sentence."""
    if not loads:
        return "not sampled"
    text = (f"median {statistics.median(loads):.1f} (min {min(loads):.1f}, max {max(loads):.1f}) "
            f"over {len(loads)} repetitions")
    if statistics.median(loads) > cores:
        text += f", above the {cores} cores: other processes took part of the CPU"
    return text


def _version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "n/a"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny presets, few repetitions")
    parser.add_argument("--repetitions", type=int, help="timed calls per classifier item (default 50, 5 with --quick)")
    parser.add_argument("--threads", type=int, help="threads for every runtime (default: the usable cores)")
    parser.add_argument("--no-translator", action="store_true", help="only the classifier table")
    parser.add_argument("--markdown", metavar="PATH", help="write/replace this benchmark's section of PATH")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to PATH as JSON")
    args = parser.parse_args(argv)
    for name in ("repetitions", "threads"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name} must be a positive integer; received {value}.")
    setting = list(SETTINGS["quick" if args.quick else "full"])
    if args.repetitions:
        setting[2] = args.repetitions
    classifier, warmup, repetitions, decoding_setting = setting
    threads = args.threads or usable_cores()
    intra, inter, applied = set_tf_threads(threads)
    command = "python -m benchmarks.export" + (" --quick" if args.quick else "")
    command += f" --repetitions {args.repetitions}" if args.repetitions else ""
    command += f" --threads {args.threads}" if args.threads else ""
    command += " --no-translator" if args.no_translator else ""

    info = machine()
    print(__doc__.splitlines()[0])
    print(f"CPU: {info['cpu']}, {info['cores']} cores; {threads} threads per runtime "
          f"(TensorFlow intra {intra or 'default'}, inter {inter or 'default'}"
          f"{'' if applied else ', already started: left as they were'}).",
          flush=True)
    load_before = load_average()
    started, cpu_started = time.perf_counter(), os.times()

    def say(line):
        print(line, flush=True)

    extra = {"threads": threads, "tf_threads": f"{intra or 'default'} intra-op, {inter or 'default'} inter-op" + (
             "" if applied else " (the TF runtime had already started in this process: its settings were kept)")}
    with tempfile.TemporaryDirectory(prefix="kzoo-export-bench-") as scratch:
        out, manifest, inputs, parameters, export_s = export_classifier(scratch, classifier, SEQUENCE_LENGTH, say)
        extra.update(classifier_parameters=parameters, classifier_export_s=export_s)
        items, _ = classifier_items(out, manifest, inputs, threads)
        say(f"[export] timing {len(items)} classifier items: {warmup} warm-up + {repetitions} calls each")
        loads = []
        times = time_items(items, warmup, repetitions, loads)
        rows = classifier_rows(manifest, _sizes(out, manifest), times)
        print(f"\nEncoder classifier, sequence length {SEQUENCE_LENGTH}:\n{format_classifier_table(rows)}", flush=True)
        translator = []
        if not args.no_translator:
            d = decoding_setting
            out, t_manifest, model, source, t_export_s = export_translator(scratch, d, say)
            extra.update(translator_parameters=model.count_params(), translator_export_s=t_export_s,
                         translator_vocabulary=model.vocabulary_size,
                         translator_skipped=t_manifest["parity"].get("skipped") or {})
            t_items, _ = decoding_items(out, t_manifest, model, source, d.new_tokens, threads)
            say(f"[export] timing {len(t_items)} decoding items: {d.warmup} warm-up + {d.repetitions} calls each")
            t_times = time_items(t_items, d.warmup, d.repetitions, loads)
            translator = decoding_rows(t_items, t_times, d.new_tokens)
            print(f"\nTranslator decoding:\n{format_decoding_table(translator)}", flush=True)
            for name, reason in extra["translator_skipped"].items():
                print(f"Left out {name}: {reason}", flush=True)
    cpu = os.times()
    loaded = bool(loads) and statistics.median(loads) > usable_cores()
    extra.update(
        load_before=load_before, load_after=load_average(), load_during=_load_text(loads, usable_cores()),
        loaded_note=" This run was loaded (1-minute load above the core count): the p50 and p90 columns largely "
        "measure waiting for a core, and the fastest calls (min, \"same, by min\") are closer to an idle "
        "machine's figures."
        if loaded else "",
        took=f"{time.perf_counter() - started:.0f} s wall, "
             f"{cpu.user + cpu.system - cpu_started.user - cpu_started.system:.0f} s CPU (this process), "
             "exports included",
        onnxruntime=_version("onnxruntime"), litert=_version("ai-edge-litert"), tf2onnx=_version("tf2onnx"),
    )
    text = summary(rows, translator, manifest)
    print(f"\n{text}\nTook {extra['took']}.")
    if args.markdown:
        from benchmarks.run_all import write_section

        section = markdown_section(rows, translator, manifest, setting, info, extra, command)
        write_section(args.markdown, SECTION, section)
        print(f"Wrote section `{SECTION}` of {args.markdown}.")
    if args.json:
        from benchmarks.run_all import write_json

        write_json(args.json, rows + translator)
    return rows + translator


if __name__ == "__main__":
    main()
    sys.exit(0)
