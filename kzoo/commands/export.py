"""`kzoo export RUN_DIR`: a finished run to a bundle, with a summary table.

The glue between a run folder (`kzoo.training.recipe`) and the converters
(`export.bundle`): the parity data is the first batch of the task's test split
(64 examples, never seen in training), tokenized with the run's own tokenizer;
full-int8 calibration uses the same batch, with the input dtypes the model
takes. Translation runs are scored with the task metric itself (BLEU of the
decoded greedy output against the reference texts).

Example:
```python
rows = export_run("runs/transformer_small-numbers_en_de", ExportOptions(formats=["onnx"]))
```
"""

import time
from pathlib import Path

import numpy as np

from export.bundle import ExportOptions, export_bundle
from export.savedmodel import SavedModelBackend
from kzoo.runtime.backends import open_backend
from kzoo.runtime.decoding import DecodingOptions, decoded_positions, generate

PARITY_EXAMPLES = 64
SUMMARY_COLUMNS = ["format", "size", "max diff", "metric", "latency"]


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
    one = {name: value[:1] for name, value in inputs.items()}
    layout = manifest.get("decoding")
    special = manifest["special_tokens"]
    options = DecodingOptions(start_token_id=special.get("start"), end_token_id=special.get("end"),
                              pad_token_id=special.get("pad", 0))
    positions = decoded_positions(manifest["max_length"], "encode" in manifest["signatures"]) if layout else None

    def call():
        if layout:
            generate(backend, layout, one, manifest["max_new_tokens"], positions, options)
        else:
            backend.run("serving_default", {name: one[name] for name in backend.input_names("serving_default")})

    call()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000.0 * float(np.median(times))


def _backend(bundle, entry):
    if entry["format"] == "savedmodel":
        return SavedModelBackend(bundle / "savedmodel")
    return open_backend(bundle, entry)


def _size(bundle, manifest, entry):
    if entry["format"] == "savedmodel":
        return sum(p.stat().st_size for p in (bundle / "savedmodel").rglob("*") if p.is_file())
    return sum(manifest["files"][f]["bytes"] for f in set(entry["parts"].values()))


def summary_rows(bundle, manifest, inputs):
    """One row per variant: format, size, max diff, metric, latency (batch 1)."""
    bundle = Path(bundle)
    rows = []
    for variant, report in manifest["parity"]["variants"].items():
        entry = manifest["exports"][variant]
        rows.append({
            "format": variant,
            "size": f"{_size(bundle, manifest, entry) / 1e6:.2f} MB",
            "max diff": f"{report.get('max_abs_diff', 0.0):.1e}",
            "metric": f"{report.get('metric', float('nan')):.1f} {report.get('metric_name', '')}",
            "latency": f"{_latency(_backend(bundle, entry), manifest, inputs):.1f} ms",
        })
    for variant, reason in manifest["parity"]["skipped"].items():
        rows.append({"format": variant, "size": "-", "max diff": "-", "metric": "skipped", "latency": reason})
    return rows


def export_run(run_dir, options=None, out=None, progress=print):
    """Exports a finished run to `out` (default saved_models/RUN_NAME); returns the summary rows.

    Args:
        run_dir: str or path. A folder `kzoo train` finished.
        options: `ExportOptions` for the formats and variants (the task,
            tokenizer, special tokens and parity data come from the run).
        out: str, path or None. The bundle folder.
        progress: callable(str) told about each step.

    Raises:
        ValueError: one sentence on bad input (no such run, an unfinished run).
    """
    import dataclasses

    from kzoo.training.recipe import load_run

    options = options or ExportOptions()
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a folder; pass the run folder written by `kzoo train`.")
    model, tokenizer, config, task = load_run(run_dir)
    out = Path(out) if out else Path("saved_models") / run_dir.name
    inputs, labels = sample_batch(task, tokenizer)
    metric = None
    if task.kind == "translation":
        from kzoo import metrics

        references = [target for _, target in task.test[:PARITY_EXAMPLES]]
        metric = ("bleu", lambda tokens: metrics.bleu(tokenizer.decode_batch(tokens), references))
    options = dataclasses.replace(
        options, labels=labels, metric=metric,
        task={"name": task.name, "kind": task.kind, "metric": task.metric,
              "label_names": list(task.label_names) if task.label_names else None},
        special_tokens={} if tokenizer is None else tokenizer.special_ids,
        tokenizer_dir=run_dir / "tokenizer" if tokenizer else None,
        max_new_tokens=24 if task.kind == "translation" else 16,
        progress=lambda message: progress(f"  {message}"),
    )
    manifest = export_bundle(model, out, inputs, options)
    return summary_rows(out, manifest, inputs)
