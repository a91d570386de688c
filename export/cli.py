"""`kzoo export RUN_DIR`: a finished run to a bundle, with a summary table.

The parity data is the first batch of the task's test split (32 examples, never
seen in training), tokenized with the run's own tokenizer; full-int8 calibration
uses the same batch, with the input dtypes the model takes.

Example:
```python
rows = export_run("runs/transformer_small-numbers_en_de", formats=["onnx"])
```
"""

import time
from pathlib import Path

import numpy as np

PARITY_EXAMPLES = 64


def sample_batch(task, tokenizer, examples=PARITY_EXAMPLES):
    """(inputs, labels) of the first test batch, as numpy arrays named like the model inputs."""
    import kzoo.data as data

    dataset = data.task_dataset(task, "test", tokenizer, batch_size=examples, shuffle=False)
    inputs, labels, *_ = next(iter(dataset))
    inputs = {name: np.asarray(value) for name, value in inputs.items()}
    if task.kind == "translation":
        return {k: inputs[k] for k in ("encoder_token_ids", "encoder_padding_mask")}, None
    if task.kind == "language_modeling":
        # Prompts of equal length: the first eight tokens of each test passage.
        return {"token_ids": inputs["token_ids"][:, :8], "padding_mask": np.ones_like(inputs["token_ids"][:, :8])}, None
    if "segment_ids" not in inputs and "token_ids" in inputs:
        inputs["segment_ids"] = np.zeros_like(inputs["token_ids"])
    return inputs, np.asarray(labels)


def _latency(backend, manifest, inputs):
    """Milliseconds for one batch-1 call (a whole greedy decode for generative models)."""
    from export.runtime import decoding

    one = {name: value[:1] for name, value in inputs.items()}
    layout = manifest.get("decoding")
    special = manifest["special_tokens"]

    def call():
        if layout:
            extra = 1 if "encoder_token_ids" in one else 0
            decoding.generate(backend, layout, one, manifest["max_new_tokens"], manifest["max_length"] + extra,
                              start_token_id=special.get("start"), end_token_id=special.get("end"),
                              pad_token_id=special.get("pad", 0))
        else:
            backend.run("serving_default", {name: one[name] for name in backend.input_names("serving_default")})

    call()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))


def _backend(bundle, variant, report):
    from export.bundle import _SavedModelBackend
    from export.runtime.backends import OnnxBackend, TFLiteBackend

    if variant == "savedmodel":
        return _SavedModelBackend(bundle / "savedmodel")
    if variant.startswith("tflite"):
        return TFLiteBackend(bundle / report["files"][0])
    names = {"model": "serving_default", "encoder": "encode", "decoder_step": "decode_step"}
    mapping = {}
    for filename in report["files"]:
        stem = Path(filename).stem.replace("_qint8", "").replace("_quint8", "")
        mapping[names[stem]] = bundle / filename
    return OnnxBackend(mapping)


def summary_rows(bundle, manifest, inputs):
    """One row per variant: format, size, max diff, metric, latency (batch 1)."""
    rows = []
    for variant, report in manifest["parity"]["variants"].items():
        size = sum(manifest["files"][f]["bytes"] for f in report.get("files", [])) if report.get("files") else None
        if variant == "savedmodel":
            size = sum(p.stat().st_size for p in (bundle / "savedmodel").rglob("*") if p.is_file())
        rows.append({
            "format": variant,
            "size": f"{size / 1e6:.2f} MB",
            "max diff": f"{report.get('max_abs_diff', 0.0):.1e}",
            "metric": f"{report.get('metric', float('nan')):.1f} {report.get('metric_name', '')}",
            "latency": f"{_latency(_backend(bundle, variant, report), manifest, inputs):.1f} ms",
        })
    for variant, reason in manifest["parity"]["skipped"].items():
        rows.append({"format": variant, "size": "-", "max diff": "-", "metric": "skipped", "latency": reason})
    return rows


def export_run(run_dir, out=None, formats=("savedmodel", "tflite", "onnx"), quantize=("fp32", "fp16", "dynamic_int8", "int8"),
               skip_failing=False, allow_select_ops=False, onnx_quantize=False, progress=print):
    """Export a finished run; returns the summary rows. Raises ValueError with one sentence on bad input."""
    from export.bundle import check_options, export_bundle
    from kzoo.training.recipe import load_run

    check_options(formats, quantize)  # Before loading the model: a typo fails at once.
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a folder; pass the run folder written by `kzoo train`.")
    model, tokenizer, config, task = load_run(run_dir)
    out = Path(out) if out else Path("saved_models") / run_dir.name
    inputs, labels = sample_batch(task, tokenizer)
    metric = None
    if task.kind == "translation":
        # The task metric itself: BLEU of the decoded greedy output against the reference texts.
        from kzoo import metrics

        references = [target for _, target in task.test[:PARITY_EXAMPLES]]
        metric = ("bleu", lambda tokens: metrics.bleu(tokenizer.decode_batch(tokens.tolist()), references))
    special = {} if tokenizer is None else {
        "pad": tokenizer.pad_id, "start": tokenizer.start_id, "end": tokenizer.end_id,
        "unknown": tokenizer.unknown_id, "mask": tokenizer.mask_id,
    }
    task_info = {"name": task.name, "kind": task.kind, "metric": task.metric,
                 "label_names": list(task.label_names) if task.label_names else None}
    manifest = export_bundle(
        model, out, inputs, formats=formats, quantize=quantize, onnx_quantize=onnx_quantize, labels=labels, metric=metric,
        task=task_info, special_tokens=special, tokenizer_dir=run_dir / "tokenizer" if tokenizer else None,
        max_new_tokens=24 if task.kind == "translation" else 16, skip_failing=skip_failing,
        allow_select_ops=allow_select_ops, progress=lambda message: progress(f"  {message}"),
    )
    return summary_rows(out, manifest, inputs)
