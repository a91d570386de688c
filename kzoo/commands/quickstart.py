"""`kzoo quickstart`: train the default translator, evaluate, export every format, translate.

The path a newcomer runs first (`make demo`): a small Transformer seq2seq on the
bundled English -> German number and date task, trained on the CPU, evaluated on
held-out values (BLEU, chrF, exact match), exported to SavedModel, TFLite (four
variants) and ONNX with parity checks, then used the way a serving host uses it:
`kzoo.runtime.load(bundle).translate(...)`, ONNX Runtime and the bundle's own
tokenizer, no TensorFlow in the path. A second run reuses the run folder and the
bundle unless `fresh=True`.

Example:
```
kzoo quickstart --epochs 2
```
"""

import json
import shutil
from pathlib import Path

from kzoo.commands.table import format_table

EXAMPLES = 5


def run(preset="transformer_small", task=None, run_dir=None, out=None, epochs=6, steps_per_epoch=150, batch_size=64, fresh=False):
    """Train, evaluate, export and translate; returns a dict of what it measured."""
    import kzoo.data as data
    from export.bundle import ExportOptions
    from kzoo.commands.export import SUMMARY_COLUMNS, export_run, sample_batch, summary_rows
    from kzoo.runtime import load
    from kzoo.training.recipe import RunConfig, evaluate, load_run, train

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
    print(format_table([{"metric": k, "value": f"{metrics[k]:.2f}"} for k in ("bleu", "chrf", "exact_match")],
                       ["metric", "value"]))
    if (out / "manifest.json").exists():
        print(f"[3/4] reusing the bundle in {out} (pass --fresh to export again)")
        run = load_run(run_dir)
        rows = summary_rows(out, json.loads((out / "manifest.json").read_text()), sample_batch(run.task, run.tokenizer)[0])
    else:
        print(f"[3/4] exporting every format to {out} with parity checks")
        # skip_failing: the table says why a variant is out.
        rows = export_run(run_dir, ExportOptions(onnx_quantize=True, skip_failing=True), out=out)
    print(format_table(rows, SUMMARY_COLUMNS))
    print("[4/4] translating held-out sentences with kzoo.runtime (ONNX Runtime, no TensorFlow in the path)")
    examples = data.load_task(task).test[:EXAMPLES]
    translations = load(out, backend="onnx").translate([source for source, _ in examples])
    for (source, reference), hypothesis in zip(examples, translations):
        print(f"  {source}\n    -> {hypothesis}   (reference: {reference})")
    print(f"\nServe it: kzoo serve {out}")
    return {"metrics": metrics, "rows": rows, "bundle": str(out), "translations": translations}
