"""`kzoo quickstart`: train the default translator, evaluate, export every format, translate.

The path a newcomer runs first (`make demo`): a small Transformer seq2seq on the
bundled English -> German number and date task, trained on the CPU, evaluated on
held-out values (BLEU, chrF, exact match), exported to SavedModel, TFLite (four
variants) and ONNX with parity checks, then used through ONNX Runtime without
TensorFlow's help. A second run reuses the run folder and the bundle unless
`fresh=True`.

Example:
```
kzoo quickstart --epochs 2
```
"""

from pathlib import Path

import numpy as np


def translate_with_onnx(bundle, sources):
    """Greedy translations through the bundle's ONNX files and its tokenizer."""
    import json

    from export.runtime import decoding
    from export.runtime.backends import OnnxBackend
    from kzoo.data import load_tokenizer

    bundle = Path(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    backend = OnnxBackend({part: bundle / name for part, name in manifest["onnx_parts"].items()})
    tokenizer = load_tokenizer(bundle / "tokenizer")
    special = manifest["special_tokens"]
    ids = tokenizer.encode(list(sources))
    width = max(len(i) for i in ids) + 2
    encoder = np.full((len(ids), width), special["pad"], "int32")
    for row, tokens in enumerate(ids):
        encoder[row, : len(tokens) + 2] = [special["start"], *tokens, special["end"]]
    tokens = decoding.generate(
        backend, manifest["decoding"], {"encoder_token_ids": encoder, "encoder_padding_mask": (encoder != special["pad"]).astype("int32")},
        max_new_tokens=manifest["max_new_tokens"], max_length=manifest["max_length"] + 1,
        start_token_id=special["start"], end_token_id=special["end"], pad_token_id=special["pad"],
    )
    return tokenizer.decode_batch(tokens.tolist())


def run(preset="transformer_small", task=None, run_dir=None, out=None, epochs=6, steps_per_epoch=150, batch_size=64, fresh=False):
    """Train, evaluate, export and translate; returns a dict of what it measured."""
    import shutil

    import kzoo.data as data
    from export.cli import export_run
    from kzoo.cli import _table
    from kzoo.training.recipe import RunConfig, evaluate, train

    task = task or data.DEFAULT_TRANSLATION_TASK
    run_dir = Path(run_dir or f"runs/quickstart-{preset}-{task}")
    out = Path(out or f"saved_models/quickstart-{preset}-{task}")
    if fresh:
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    if (run_dir / "model.keras").exists():
        print(f"[1/4] reusing the trained model in {run_dir} (pass --fresh to retrain)")
    else:
        print(f"[1/4] training {preset} on {task} ({epochs} epochs x {steps_per_epoch} steps, batch {batch_size})")
        train(RunConfig(preset=preset, task=task, run_dir=str(run_dir), epochs=epochs, steps_per_epoch=steps_per_epoch,
                        batch_size=batch_size, learning_rate=2e-3, warmup_steps=100), verbose=1)
    print("[2/4] evaluating on held-out values (test split)")
    metrics = evaluate(run_dir)
    print(_table([{"metric": k, "value": f"{metrics[k]:.2f}"} for k in ("bleu", "chrf", "exact_match")], ["metric", "value"]))
    if (out / "manifest.json").exists():
        print(f"[3/4] reusing the bundle in {out} (pass --fresh to export again)")
        from export.cli import sample_batch, summary_rows
        from kzoo.training.recipe import load_run
        import json

        _, tokenizer, _, task_data = load_run(run_dir)
        rows = summary_rows(out, json.loads((out / "manifest.json").read_text()), sample_batch(task_data, tokenizer)[0])
    else:
        print(f"[3/4] exporting every format to {out} with parity checks")
        rows = export_run(run_dir, out=out, onnx_quantize=True, skip_failing=True)  # The table says why a variant is out.
    print(_table(rows, ["format", "size", "max diff", "metric", "latency"]))
    print("[4/4] translating held-out sentences through ONNX Runtime")
    examples = data.load_task(task).test[:5]
    for (source, reference), hypothesis in zip(examples, translate_with_onnx(out, [s for s, _ in examples])):
        print(f"  {source}\n    -> {hypothesis}   (reference: {reference})")
    print(f"\nServe it: kzoo serve {out}")
    return {"metrics": metrics, "rows": rows, "bundle": str(out)}
