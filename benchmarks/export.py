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
2. A translator (`transformer_small`; `transformer_tiny` with `--quick`), one
   sentence (batch 1, 16 random source tokens), greedy, no end token so every call
   decodes exactly N new tokens: milliseconds per generated token of a whole call
   (encoding included) through the runtime's numpy loop over the KV-cache
   `decode_step` (ONNX Runtime, LiteRT fp32), against the SavedModel `generate`
   signature and Keras `model.generate` (warm: its traced loop reused); and one
   `decode_step` call alone, mid-sequence.

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
python -m benchmarks.export                      # ~2 CPU-minutes, 3-5 minutes wall on a busy 2-core machine
python -m benchmarks.export --quick              # tiny models, few repetitions: ~35 CPU-seconds
python -m benchmarks.export --markdown docs/benchmarks.md
```
"""

import argparse
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
SOURCE_LENGTH = 16
SPECIAL = {"pad": 0, "start": 1}  # No end token: every decoding call generates exactly N tokens.

# name -> (classifier preset, translator preset, new tokens, warm-up calls, classifier repetitions,
#          translator repetitions)
SETTINGS = {
    "full": ("classifier_small", "transformer_small", 32, 5, 100, 30),
    "quick": ("classifier_tiny", "transformer_tiny", 8, 2, 5, 5),
}

# (manifest variant, runtime, format label, variant label, fp32 variant of the same runtime)
VARIANTS = (
    ("savedmodel", "TensorFlow", "SavedModel", "fp32", "savedmodel"),
    ("onnx", "ONNX Runtime", "ONNX", "fp32", "onnx"),
    ("onnx_dynamic_int8", "ONNX Runtime", "ONNX", "dynamic_int8", "onnx"),
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


def export_translator(folder, preset, new_tokens, say=print):
    """(bundle folder, manifest, model, source) of a random-weight translator bundle (float formats)."""
    import keras
    import numpy as np

    import kzoo
    from export.bundle import ExportOptions, export_bundle

    keras.utils.set_random_seed(SEED)
    model = kzoo.create(preset)
    rng = np.random.default_rng(SEED)
    ids = rng.integers(5, model.vocabulary_size, size=(2, SOURCE_LENGTH)).astype("int32")
    sample = {"encoder_token_ids": ids, "encoder_padding_mask": np.ones_like(ids)}
    out = Path(folder) / "translator"
    started = time.perf_counter()
    # The cache holds exactly the decoded positions, as in the SavedModel `generate` loop.
    manifest = export_bundle(
        model, out, sample, ExportOptions(quantize=("fp32",), task={"name": "synthetic", "kind": "translation"},
        special_tokens=SPECIAL, max_new_tokens=new_tokens, max_length=new_tokens,
        progress=lambda message: say(f"[export] translator: {message}")),
    )
    source = {name: value[:1] for name, value in sample.items()}
    return out, manifest, model, source, time.perf_counter() - started


def translator_items(out, manifest, model, source, new_tokens, threads):
    """Whole-call items {(name, "generate")} returning tokens, and one-step items {(name, "step")}."""
    import numpy as np
    import tensorflow as tf

    from kzoo.runtime import decoding
    from kzoo.runtime.backends import open_backend

    layout = manifest["decoding"]
    max_length = decoding.decoded_positions(manifest["max_length"], encoder=True)
    loaded = tf.saved_model.load(str(out / "savedmodel"))
    backends = {name: open_backend(out, manifest["exports"][name], threads=threads) for name in ("onnx", "tflite_fp32")}
    options = decoding.DecodingOptions(start_token_id=SPECIAL["start"], pad_token_id=SPECIAL["pad"])
    start = SPECIAL["start"]
    generate = {
        "savedmodel": _savedmodel_call(loaded, "generate", source, "tokens"),
        "keras": lambda: model.generate(source, new_tokens, start_token_id=start),
    }
    for name, backend in backends.items():
        generate[name] = lambda backend=backend: decoding.generate(backend, layout, source, new_tokens, max_length, options)
    # One decode_step mid-sequence, on the state the ONNX encoder gives (same for every runtime).
    state = decoding.start_state(backends["onnx"], layout, source, 1)
    feeds = dict(state, token_ids=np.full((1, 1), start, "int32"), positions=np.full(1, new_tokens // 2, "int32"),
                 beam_parents=np.zeros(1, "int32"))
    step = {"savedmodel": _savedmodel_call(loaded, "decode_step", feeds, "logits")}
    for name, backend in backends.items():
        step[name] = lambda backend=backend: backend.run("decode_step", feeds)["logits"]
    items = {(name, "generate"): call for name, call in generate.items()}
    items.update({(name, "step"): call for name, call in step.items()})
    return items, loaded


TRANSLATOR_LABELS = {
    "savedmodel": ("TensorFlow", "SavedModel `generate` signature (whole loop in the graph)"),
    "keras": ("TensorFlow", "Keras `model.generate` (traced loop reused)"),
    "onnx": ("ONNX Runtime", "numpy loop over `encoder` + `decoder_step` (fp32)"),
    "tflite_fp32": ("LiteRT", "numpy loop over `encode` + `decode_step` signatures (fp32)"),
}


def translator_rows(items, times, new_tokens, reference_tokens):
    import numpy as np

    rows = []
    reference = statistics.median(times["savedmodel", "generate"]) / new_tokens
    for name, (runtime, how) in TRANSLATOR_LABELS.items():
        call = times[name, "generate"]
        per_token = statistics.median(call) / new_tokens
        tokens = items[name, "generate"]()
        step = times.get((name, "step"))
        rows.append({
            "table": "translator",
            "variant": name,
            "runtime": runtime,
            "how": how,
            "new_tokens": new_tokens,
            "ms_per_token": 1000 * per_token,
            "min_ms_per_token": 1000 * min(call) / new_tokens,
            "p90_ms_per_token": 1000 * percentile(call, 90) / new_tokens,
            "call_ms": 1000 * statistics.median(call),
            "runs": len(call),
            "speedup": reference / per_token,
            "speedup_min": min(times["savedmodel", "generate"]) / min(call),
            "step_ms": 1000 * statistics.median(step) if step else None,
            "same_tokens": bool(np.array_equal(np.ravel(tokens), np.ravel(reference_tokens))),
        })
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


def format_translator_table(rows, markdown=False):
    header = ("runtime", "decoding", "new tokens", "ms / token (p50)", "min", "p90", "runs", "speed-up vs SavedModel",
              "same, by min", "one decode_step (ms)", "same tokens as Keras")
    body = [
        (r["runtime"], r["how"], str(r["new_tokens"]), f"{r['ms_per_token']:.2f}", f"{r['min_ms_per_token']:.2f}",
         f"{r['p90_ms_per_token']:.2f}",
         str(r["runs"]), f"{r['speedup']:.2f}x", f"{r['speedup_min']:.2f}x",
         "" if r["step_ms"] is None else f"{r['step_ms']:.2f}",
         "yes" if r["same_tokens"] else "no")
        for r in rows
    ]
    return _table(header, body, markdown, right=range(2, 10))


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
    if translator:
        fastest = min(translator, key=lambda r: r["ms_per_token"])
        lines.append(f"- Decoding: fastest {fastest['runtime']} ({fastest['how']}), "
                     f"{fastest['ms_per_token']:.2f} ms/token, "
                     f"{fastest['speedup']:.2f}x the SavedModel `generate` signature.")
        differing = [r["variant"] for r in translator if not r["same_tokens"]]
        lines.append("- Greedy tokens identical to Keras's in every decoding row." if not differing
                     else f"- Greedy tokens differ from Keras's: {', '.join(differing)}.")
    return "\n".join(lines)


def markdown_section(rows, translator, manifest, setting, info, extra, command):
    classifier, translator_preset, new_tokens, warmup, repetitions, translator_repetitions = setting
    c = extra
    translator_part = ""
    if translator:
        translator_part = f"""
### Translator decoding, one sentence (batch 1)

`{translator_preset}` ({c['translator_parameters']:,} parameters, random weights), {SOURCE_LENGTH} random source
tokens, greedy, no end token: every call decodes exactly {new_tokens} tokens. ms / token = one whole call (encoding
included) / {new_tokens}; {warmup} warm-up calls, then {translator_repetitions} interleaved repetitions. The
runtime loops (ONNX Runtime, LiteRT) are the bundle runtime's numpy loop (`kzoo.runtime.decoding.generate`) over a
KV cache of {new_tokens} positions, as the SavedModel `generate` signature's. "One decode_step" is a single call of
the exported step graph at position {new_tokens // 2} (SavedModel `decode_step` signature, ONNX `decoder_step`,
LiteRT `decode_step`), state from the encoder, median of the same repetitions.

{format_translator_table(translator, markdown=True)}
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
        setting[4] = args.repetitions
    classifier, translator_preset, new_tokens, warmup, repetitions, translator_repetitions = setting
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
            out, t_manifest, model, source, t_export_s = export_translator(scratch, translator_preset, new_tokens, say)
            extra.update(translator_parameters=model.count_params(), translator_export_s=t_export_s)
            t_items, _ = translator_items(out, t_manifest, model, source, new_tokens, threads)
            say(f"[export] timing {len(t_items)} decoding items: "
                f"{warmup} warm-up + {translator_repetitions} calls each")
            t_times = time_items(t_items, warmup, translator_repetitions, loads)
            keras_tokens = t_items["keras", "generate"]()
            translator = translator_rows(t_items, t_times, new_tokens, keras_tokens)
            print(f"\nTranslator decoding, batch 1:\n{format_translator_table(translator)}", flush=True)
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
