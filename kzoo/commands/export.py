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
from kzoo.runtime.decoding import TOKEN_RULES, DecodingOptions, decoded_positions, generate
from kzoo.runtime.packing import pack_batch

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
    rules = {key: value for key, value in (manifest.get("generation") or {}).items() if key in TOKEN_RULES}
    options = DecodingOptions.from_special_tokens(manifest["special_tokens"], **rules)
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


def random_batch(model, tokenizer, kind, examples=PARITY_EXAMPLES, seed=0):
    """Inputs of token ids drawn from the vocabulary (special tokens aside), for a run without task or data.

    Float parity only needs inputs the model reads as it would read text; full
    int8 needs real text to calibrate on, and is left out without it.
    """
    rng = np.random.default_rng(seed)
    if kind == "image_classification":
        shape = [examples] + [int(size) for size in model.inputs[0].shape[1:]]
        return {"images": rng.uniform(0.0, 1.0, shape).astype("float32")}
    special = set(tokenizer.special_ids.values())
    ordinary = np.array([i for i in range(tokenizer.vocabulary_size) if i not in special], "int32")
    prompt = kind == "language_modeling"
    rows = [list(rng.choice(ordinary, size=8 if prompt else int(rng.integers(4, 13)))) for _ in range(examples)]
    token_ids, padding_mask = pack_batch(rows, start_id=tokenizer.start_id, end_id=None if prompt else tokenizer.end_id,
                                         pad_id=tokenizer.pad_id if tokenizer.pad_id is not None else 0)
    if kind == "translation":
        return {"encoder_token_ids": token_ids, "encoder_padding_mask": padding_mask}
    if prompt:
        return {"token_ids": token_ids, "padding_mask": padding_mask}
    return {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": padding_mask}


def export_run(run_dir, options=None, out=None, progress=print, task=None, data=None):
    """Exports a finished run to `out` (default saved_models/RUN_NAME); returns the summary rows.

    Args:
        run_dir: str or path. A folder `kzoo train` or `kzoo import` finished.
        options: `ExportOptions` for the formats and variants (the task,
            tokenizer, special tokens, decoding defaults and parity data come
            from the run).
        out: str, path or None. The bundle folder.
        progress: callable(str) told about each step.
        task, data: str or None. Check parity on this bundled task or data
            file instead of the run's own. A run with neither checks parity
            on token ids drawn from the vocabulary, leaves full int8 out (it
            needs calibration text) and leaves out, with the reason in the
            table, a quantized variant those random inputs push off its
            tolerance.

    Raises:
        ValueError: one sentence on bad input (no such run, an unfinished run).
    """
    import dataclasses

    from kzoo.training.run_folder import load_run

    options = options or ExportOptions()
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a folder; pass the run folder written by `kzoo train` or `kzoo import`.")
    run = load_run(run_dir, task=task, data=data)
    model, tokenizer, chosen = run.model, run.tokenizer, run.task
    if run.kind is None:
        raise ValueError(f"{run_dir} holds a model trained for no task kind kzoo serves (a bare backbone); "
                         "fine-tune it first: kzoo train --init-from RUN --task TASK.")
    out = Path(out) if out else Path("saved_models") / run_dir.name
    metric, labels = None, None
    if chosen is not None:
        inputs, labels = sample_batch(chosen, tokenizer)
        if chosen.kind == "translation":
            from kzoo import metrics

            references = [target for _, target in chosen.test[:PARITY_EXAMPLES]]
            targets = tokenizer.for_targets()
            metric = ("bleu", lambda tokens: metrics.bleu(targets.decode_batch(tokens), references))
        task_fields = {"name": chosen.name, "metric": chosen.metric}
    else:
        inputs = random_batch(model, tokenizer, run.kind)
        task_fields = {"name": None}
        if "int8" in options.quantize:
            progress(f"  full int8 left out: it calibrates on real inputs, and {run_dir} has no task or data; "
                     "pass --task or --data to export it")
            options = dataclasses.replace(options, quantize=tuple(q for q in options.quantize if q != "int8"))
        # Random ids are a fair test of float files, not of quantized ones: one that fails is left out, with why.
        options = dataclasses.replace(options, skip_failing=True)
    options = dataclasses.replace(
        options, labels=labels, metric=metric,
        task={**task_fields, "kind": run.kind, "label_names": run.label_names,
              **({"preprocessing": run.config["preprocessing"]} if run.config.get("preprocessing") else {})},
        special_tokens={} if tokenizer is None else dict(tokenizer.special_ids),  # Marian's decoder_start included.
        generation=run.config.get("generation") or {},
        tokenizer_dir=run_dir / "tokenizer" if tokenizer else None,
        max_new_tokens=24 if run.kind == "translation" else 16,
        progress=lambda message: progress(f"  {message}"),
    )
    manifest = export_bundle(model, out, inputs, options)
    return summary_rows(out, manifest, inputs)

