"""The `kzoo` command: argument parsing and one handler per subcommand.

Every subcommand fails with one sentence on stderr and a non-zero exit code on bad
input; tracebacks are for bugs only. Heavy imports (TensorFlow) happen inside the
handlers that need them, through `import_tensorflow_quietly`, so `kzoo --help`,
`kzoo list` and `kzoo serve` never load TensorFlow and the others show no
start-up notices.

Example:
```
kzoo --help
python -m kzoo.commands list
```
"""

import argparse
import json
import os
import sys

from kzoo import __version__
from kzoo.commands.table import format_table
from kzoo.commands.tensorflow_startup import import_tensorflow_quietly
from kzoo.serve.command import add_serve_arguments, run_from_args  # TF-free: answers --help at once.


class UsageError(Exception):
    """A mistake in what the user asked for; printed as one sentence, exit code 2."""


def _list(args):
    if args.tasks:
        from kzoo.data import list_tasks

        rows = list_tasks()
        print(format_table(rows, list(rows[0])))
        return 0
    from kzoo.presets import PRESETS  # Plain data: no TensorFlow needed to list.

    rows = [
        {"name": name, "family": p["family"], "parameters": f"{p['parameters']:,}", "description": p["description"]}
        for name, p in PRESETS.items()
    ]
    print(format_table(rows, ["name", "family", "parameters", "description"]))
    return 0


def _model_options(pairs):
    """`["position_encoding=rotary", "dropout=0.2"]` -> `{"position_encoding": "rotary", "dropout": 0.2}` (None if none)."""
    if not pairs:
        return None
    options = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise UsageError(f"--model-option {pair!r} is not NAME=VALUE; write e.g. --model-option position_encoding=rotary.")
        try:
            options[name] = json.loads(value)  # Numbers, booleans, null; anything else stays text.
        except json.JSONDecodeError:
            options[name] = value
    return options


def _train(args):
    fields = {
        "preset": args.preset, "task": args.task, "data": args.data, "kind": args.kind, "init_from": args.init_from,
        "freeze_backbone": args.freeze_backbone or None, "run_dir": args.run_dir, "epochs": args.epochs,
        "steps_per_epoch": args.steps_per_epoch, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "tokenizer": args.tokenizer, "vocabulary_size": args.vocabulary_size, "precision": args.precision,
        "strategy": args.strategy, "seed": args.seed, "max_examples": args.max_examples, "jit_compile": args.jit_compile,
        "label_fraction": args.label_fraction, "model_options": _model_options(args.model_option),
    }
    if not args.config and not (args.preset or args.init_from):
        raise UsageError("name a PRESET (or --init-from RUN_OR_CHECKPOINT) and --task TASK, or give --config run.yaml.")
    if not args.config and not (args.task or args.data):
        raise UsageError("name what to train on: --task TASK (see `kzoo list --tasks`) or --data FILE.")
    import_tensorflow_quietly()
    from kzoo.training.recipe import RunConfig, train

    try:
        if args.config:
            config = RunConfig.from_file(args.config, **fields)
        else:
            model_name = args.preset or os.path.basename(os.path.normpath(args.init_from))
            data_name = args.task or os.path.splitext(os.path.basename(os.path.normpath(args.data)))[0]
            fields["run_dir"] = fields["run_dir"] or f"runs/{model_name}-{data_name}"
            config = RunConfig(**{k: v for k, v in fields.items() if v is not None})
        run_dir = train(config, verbose=1 if sys.stdout.isatty() else 2)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(f"Trained {config.preset or config.init_from} on {config.task or config.data}: {run_dir}")
    print(f"Next: kzoo evaluate {run_dir}   |   kzoo export {run_dir}")
    return 0


def _check_task_or_data(args):
    if args.task and args.data:
        raise UsageError("pass --task or --data, not both.")
    if args.data and not os.path.exists(args.data):
        raise UsageError(f"the data file {args.data} does not exist.")


def _evaluate(args):
    if not os.path.isdir(args.run_dir):  # One sentence before TensorFlow loads.
        raise UsageError(f"{args.run_dir} is not a finished kzoo run: there is no such folder.")
    _check_task_or_data(args)
    import_tensorflow_quietly()
    from kzoo.training.recipe import evaluate

    try:
        results = evaluate(args.run_dir, split=args.split, limit=args.limit, task=args.task, data=args.data)
    except ValueError as error:
        raise UsageError(str(error)) from None
    rows = [{"metric": k, "value": f"{v:.2f}" if isinstance(v, float) else v} for k, v in results.items() if k != "samples"]
    print(format_table(rows, ["metric", "value"]))
    for sample in results.get("samples", []):
        print(f"  {sample['source']!r} -> {sample['hypothesis']!r} (reference {sample['reference']!r})")
    return 0


def _export(args):
    _check_task_or_data(args)
    import_tensorflow_quietly()
    from export.bundle import ExportOptions
    from kzoo.commands.export import SUMMARY_COLUMNS, export_run

    try:
        # The options are checked before the run folder or the model is read: a typo fails at once.
        onnx_quantize = () if args.onnx_quantize is None else (args.onnx_quantize or ["dynamic_int8"])
        options = ExportOptions(formats=args.formats, quantize=args.quantize, onnx_quantize=onnx_quantize,
                                skip_failing=args.skip_failing, allow_select_ops=args.allow_select_ops)
        rows = export_run(args.run_dir, options, out=args.out, task=args.task, data=args.data)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(format_table(rows, SUMMARY_COLUMNS))
    return 0


def _import(args):
    if not os.path.isdir(args.path):  # One sentence before TensorFlow loads.
        raise UsageError(f"{args.path} is not a folder; pass a checkpoint folder (config.json and its weights).")
    _check_task_or_data(args)
    import_tensorflow_quietly()
    from kzoo.checkpoints import CheckpointError, import_checkpoint
    from kzoo.training.run_folder import write_imported_run

    run_dir = args.run_dir or f"runs/{os.path.basename(os.path.normpath(args.path))}"
    try:
        imported = import_checkpoint(args.path)
        write_imported_run(imported, run_dir, task=args.task, data=args.data)
    except (CheckpointError, ValueError) as error:
        raise UsageError(str(error)) from None
    parameters = imported.model.count_params()
    print(f"Imported {imported.architecture or imported.family} as a {imported.family} "
          f"({parameters:,} parameters): {run_dir}")
    if imported.unused_tensors:
        print(f"  not used: {', '.join(imported.unused_tensors)}")
    if imported.initialized_layers:
        print(f"  not in the checkpoint, left as initialized: {', '.join(imported.initialized_layers)}")
    if imported.decoding:
        print(f"  decodes by default with {imported.decoding}")
    if imported.preprocessing:
        print(f"  expects images as {imported.preprocessing}")
    # A run imported with its own task or data evaluates on it; otherwise evaluate needs one.
    evaluate_on = "" if args.task or args.data else " --data FILE"
    print(f"Next: kzoo evaluate {run_dir}{evaluate_on}   |   kzoo export {run_dir}   |   "
          f"kzoo train --init-from {run_dir} --task TASK")
    return 0


def _quickstart(args):
    import_tensorflow_quietly()
    from kzoo.commands.quickstart import run

    try:
        run(preset=args.preset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, fresh=args.fresh)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return 0


def _bench(args):
    from kzoo.commands.bench import run_benchmarks

    try:
        return run_benchmarks(only=args.only, quick=args.quick, markdown=args.markdown)
    except ValueError as error:
        raise UsageError(str(error)) from None


def build_parser():
    """The `kzoo` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="kzoo",
        description="Train Keras Transformers and ship them to TFLite and ONNX Runtime.",
    )
    parser.add_argument("--version", action="version", version=f"kzoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    listing = commands.add_parser("list", help="list the model presets (or, with --tasks, the bundled tasks)")
    listing.add_argument("--tasks", action="store_true", help="list the bundled datasets instead")
    listing.set_defaults(handler=_list)

    training = commands.add_parser("train", help="train a preset (or fine-tune a run or checkpoint) into a run folder")
    training.add_argument("preset", nargs="?", help="model preset (see `kzoo list`); optional with --init-from")
    training.add_argument("--task", help="bundled task (see `kzoo list --tasks`)")
    training.add_argument("--data", help="your data file instead of a bundled task (TSV, JSONL, CoNLL, text)")
    training.add_argument("--kind", help="the task kind of --data (e.g. classification) when the model does not say")
    training.add_argument("--init-from", metavar="RUN_OR_CHECKPOINT",
                          help="start from a finished run or a checkpoint folder: its architecture, weights, tokenizer")
    training.add_argument("--freeze-backbone", action="store_true", help="with --init-from: train the new head only")
    training.add_argument("--config", help="a YAML/JSON run config; flags override its keys")
    training.add_argument("--run-dir", help="output folder (default runs/PRESET-TASK)")
    training.add_argument("--epochs", type=int)
    training.add_argument("--steps-per-epoch", type=int)
    training.add_argument("--batch-size", type=int, help="global batch size")
    training.add_argument("--learning-rate", type=float)
    training.add_argument("--tokenizer", choices=("sentencepiece", "wordpiece", "byte"))
    training.add_argument("--vocabulary-size", type=int)
    training.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16", "mixed_float16"))
    training.add_argument("--strategy", help="auto, default, one_device, mirrored, multi_worker or tpu")
    training.add_argument("--seed", type=int)
    training.add_argument("--max-examples", type=int, help="train on the first N examples only")
    training.add_argument("--model-option", action="append", metavar="NAME=VALUE",
                          help="another argument of the preset's model, e.g. position_encoding=rotary (repeatable)")
    training.add_argument("--label-fraction", type=float, help="train on a seeded sample of this share of the labels, e.g. 0.01")
    training.add_argument("--jit-compile", action="store_true", default=None, help="XLA-compile the train step")
    training.set_defaults(handler=_train)

    evaluation = commands.add_parser("evaluate", help="print the task metrics of a finished run")
    evaluation.add_argument("run_dir")
    evaluation.add_argument("--split", default="test", choices=("train", "validation", "test"))
    evaluation.add_argument("--limit", type=int, help="evaluate the first N examples only")
    evaluation.add_argument("--task", help="evaluate on this bundled task instead of the run's")
    evaluation.add_argument("--data", help="evaluate on all of this data file instead")
    evaluation.set_defaults(handler=_evaluate)

    exporting = commands.add_parser("export", help="export a finished run to SavedModel, TFLite and ONNX with parity checks")
    exporting.add_argument("run_dir")
    exporting.add_argument("--out", help="bundle folder (default saved_models/RUN_NAME)")
    exporting.add_argument("--formats", nargs="+", default=["savedmodel", "tflite", "onnx"])
    exporting.add_argument("--quantize", nargs="+", default=["fp32", "fp16", "dynamic_int8", "int8"])
    exporting.add_argument("--onnx-quantize", nargs="*", metavar="VARIANT",
                           help="also write these ONNX Runtime variants: dynamic_int8 (the default when none is "
                                "named), int4 (weight-only, blockwise)")
    exporting.add_argument("--skip-failing", action="store_true", help="leave out variants that fail parity")
    exporting.add_argument("--allow-select-ops", action="store_true", help="allow Select TF ops in TFLite")
    exporting.add_argument("--task", help="check parity on this bundled task instead of the run's")
    exporting.add_argument("--data", help="check parity (and calibrate int8) on this data file instead")
    exporting.set_defaults(handler=_export)

    importing = commands.add_parser("import", help="a Hugging Face or keras-hub checkpoint folder as a run folder")
    importing.add_argument("path", help="the checkpoint folder (config.json, model.safetensors or tf_model.h5, tokenizer)")
    importing.add_argument("--run-dir", help="output folder (default runs/FOLDER_NAME)")
    importing.add_argument("--task", help="the bundled task the run evaluates and exports with")
    importing.add_argument("--data", help="the data file the run evaluates and exports with (copied into the run)")
    importing.set_defaults(handler=_import)

    serving = commands.add_parser("serve", help="serve a bundle over HTTP with ONNX Runtime (no TensorFlow)")
    add_serve_arguments(serving)
    serving.set_defaults(handler=run_from_args)

    triton = commands.add_parser("triton", help="write a Triton Inference Server model repository from a bundle")
    triton.add_argument("bundle", help="bundle folder written by `kzoo export` (with its ONNX export)")
    triton.add_argument("out", help="model repository folder (the model's folder in it is replaced)")
    triton.add_argument("--name", help="the model's name in Triton (default: the bundle folder's name)")
    triton.set_defaults(handler=_triton)

    bench = commands.add_parser("bench", help="run the benchmarks and rewrite docs/benchmarks.md (what `make bench` runs)")
    bench.add_argument("--markdown", default="docs/benchmarks.md", help="file whose sections are rewritten")
    bench.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    bench.add_argument("--only", nargs="+", metavar="AREA", help="only these areas (layers, data, models, ...)")
    bench.set_defaults(handler=_bench)

    quick = commands.add_parser("quickstart", help="train, evaluate, export and use the default translator")
    quick.add_argument("--preset", default="transformer_small")
    quick.add_argument("--epochs", type=int, default=6)
    quick.add_argument("--steps-per-epoch", type=int, default=150)
    quick.add_argument("--fresh", action="store_true", help="retrain and export again instead of reusing")
    quick.set_defaults(handler=_quickstart)
    return parser


def _triton(args):
    """`kzoo triton BUNDLE OUT`: TF-free, like `kzoo serve`."""
    from kzoo.runtime import BundleError
    from kzoo.serve.triton_repository import write_triton_repository

    try:
        folder = write_triton_repository(args.bundle, args.out, name=args.name)
    except (BundleError, ValueError) as error:
        raise UsageError(str(error)) from None
    print(f"Wrote {folder}; serve it with: tritonserver --model-repository {folder.parent}")
    return 0


def main(argv=None):
    """Runs the `kzoo` command; returns its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"kzoo {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kzoo {args.command}: interrupted.", file=sys.stderr)
        return 130
