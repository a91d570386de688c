"""The fit recipe behind `kzoo train` and `kzoo evaluate`: preset + task -> run folder.

`train(RunConfig(...))` validates everything before any work, trains the task's
tokenizer, builds the tf.data pipelines and the model inside the strategy scope,
and trains with `model.fit` and kzoo's callbacks. The run folder:

```
runs/<name>/
  config.json     the resolved configuration
  tokenizer/      the trained tokenizer (absent for images)
  model.keras     the final model, written atomically when training ends
  best.keras      best validation loss so far
  backup/         mid-training backups: the same command resumes from them
  logs/           TensorBoard
  metrics.json    the task metrics on the test split (written by `evaluate`)
```

`model.keras` only appears once training has finished, so a run folder never
claims a model it does not hold.

Example:
```python
from kzoo.training.recipe import RunConfig, train, evaluate
run = train(RunConfig(preset="transformer_tiny", task="numbers_en_de", run_dir="runs/demo", epochs=1))
print(evaluate("runs/demo"))
```
"""

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from kzoo.runtime.packing import pack_batch
from kzoo.runtime.validation import check_choice, check_positive_float, check_positive_int

TOKENIZERS = ("sentencepiece", "wordpiece", "byte")


@dataclasses.dataclass
class RunConfig:
    """Everything a run needs; `kzoo train` flags and `--config run.yaml` keys are these names.

    Args:
        preset: model preset (`kzoo list`).
        task: bundled task (`kzoo list --tasks`).
        run_dir: output folder.
        epochs: int. Defaults to 3.
        steps_per_epoch: int or None (one pass over the training split).
        batch_size: global batch size. Defaults to 64.
        learning_rate: peak learning rate. Defaults to 1e-3.
        warmup_steps: linear warm-up steps before cosine decay. Defaults to 200.
        label_smoothing: float. Defaults to 0.1 for translation, 0 otherwise.
        tokenizer: one of `TOKENIZERS`. Defaults to "sentencepiece".
        vocabulary_size: tokenizer vocabulary. Defaults to 1000.
        sequence_length: padded length; None uses the pipeline default.
        precision: "float32" (default), "mixed_bfloat16", "mixed_float16" or "auto".
        strategy: "auto" (default) or a `kzoo.training.strategy` name.
        jit_compile: bool. XLA-compile the train step. Defaults to False.
        seed: int. Defaults to 0.
        max_examples: int or None. Use only the first N training examples.
        backup_freq: "epoch" or steps between backups. Defaults to "epoch".
    """

    preset: str
    task: str
    run_dir: str
    epochs: int = 3
    steps_per_epoch: int = None
    batch_size: int = 64
    learning_rate: float = 1e-3
    warmup_steps: int = 200
    label_smoothing: float = None
    tokenizer: str = "sentencepiece"
    vocabulary_size: int = 1000
    sequence_length: int = None
    precision: str = "float32"
    strategy: str = "auto"
    jit_compile: bool = False
    seed: int = 0
    max_examples: int = None
    backup_freq: object = "epoch"

    @classmethod
    def from_file(cls, path, **overrides):
        """Read a YAML or JSON run config; `overrides` (not None) win over the file."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise ValueError(f"The run config {path} does not exist.")
        values = yaml.safe_load(path.read_text()) or {}
        if not isinstance(values, dict):
            raise ValueError(f"The run config {path} must hold a mapping of RunConfig fields.")
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"The run config {path} has unknown keys {', '.join(unknown)}.")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def validate(config):
    """Check every field before any work; returns (preset dict, task info). One sentence per problem."""
    from kzoo.data import task_info
    from kzoo.models import FAMILIES, _check_name

    preset = _check_name(config.preset)
    try:
        info = task_info(config.task)
    except ValueError as error:
        raise ValueError(str(error)) from None
    check_positive_int("epochs", config.epochs)
    check_positive_int("steps_per_epoch", config.steps_per_epoch, allow_none=True)
    check_positive_int("batch_size", config.batch_size)
    check_positive_int("vocabulary_size", config.vocabulary_size)
    check_positive_int("sequence_length", config.sequence_length, allow_none=True)
    check_positive_int("max_examples", config.max_examples, allow_none=True)
    check_positive_float("learning_rate", config.learning_rate)
    check_choice("tokenizer", config.tokenizer, TOKENIZERS)
    kind = info["kind"]
    if kind not in FAMILIES[preset["family"]][0].task_kinds:  # Each family declares the task kinds it learns.
        able = [family for family, (task_class, _) in FAMILIES.items() if kind in task_class.task_kinds]
        raise ValueError(
            f"Preset {config.preset!r} is a {preset['family']}, which cannot learn the {kind} task {config.task!r}; "
            f"use a {' or '.join(able)} preset."
        )
    return preset, info


def _train_tokenizer(config, task):
    import kzoo.data as data

    texts = task.texts("train")
    if config.max_examples:
        texts = texts[: 4 * config.max_examples]
    if config.tokenizer == "byte":
        return data.ByteTokenizer()
    if config.tokenizer == "wordpiece":
        return data.WordPieceTokenizer.train(texts, vocabulary_size=config.vocabulary_size)
    return data.SentencePieceTokenizer.train(texts, vocabulary_size=config.vocabulary_size)


def _model_overrides(config, preset, task, tokenizer):
    overrides = {"dropout": 0.1} if preset["family"] != "ViTClassifier" else {}
    if tokenizer is not None:
        overrides["vocabulary_size"] = tokenizer.vocabulary_size
    if task.kind == "classification":
        overrides["num_classes"] = len(task.label_names)
    elif task.kind == "tagging":
        overrides["num_tags"] = len(task.label_names)
    elif task.kind == "image_classification":
        overrides["num_classes"] = len(task.label_names)
    return overrides


def _datasets(config, task, tokenizer):
    import tensorflow as tf

    import kzoo.data as data

    if config.max_examples:
        task = dataclasses.replace(task, train=task.train[: config.max_examples])
    options = {"sequence_length": config.sequence_length} if config.sequence_length else {}
    train_set = data.task_dataset(task, "train", tokenizer, batch_size=config.batch_size, **options)
    validation = data.task_dataset(task, "validation", tokenizer, batch_size=config.batch_size, **options)
    # Bucketing hides how many batches there are; without the count, Keras's evaluate
    # inside fit warns "Your input ran out of data" at the end of every epoch.
    batches = int(validation.reduce(0, lambda count, _: count + 1))
    validation = validation.apply(tf.data.experimental.assert_cardinality(batches))
    return train_set, validation


def _write_json(path, value):
    temporary = Path(str(path) + ".partial")
    temporary.write_text(json.dumps(value, indent=2, default=str))
    os.replace(temporary, path)


def train(config, verbose=1):
    """Train per `config`; returns the run folder (a `Path`). Resumes from `backup/` if present."""
    import keras
    import kzoo.data as data
    from kzoo.models import create
    from kzoo.training import multi_worker
    from kzoo.training.callbacks import read_backup_state, standard_callbacks
    from kzoo.training.losses import MaskedSparseCategoricalCrossentropy
    from kzoo.training.optimizers import make_optimizer
    from kzoo.training.precision import choose_precision
    from kzoo.training.schedules import WarmupCosineDecay
    from kzoo.training.strategy import check_global_batch_size, make_strategy

    preset, info = validate(config)
    run_dir = Path(config.run_dir)
    if (run_dir / "model.keras").exists():
        raise ValueError(f"{run_dir} already holds a finished run; choose another --run-dir or delete it.")
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    check_global_batch_size(config.batch_size, strategy)
    choose_precision(config.precision, strategy)

    task = data.load_task(config.task)
    tokenizer = None
    if task.kind != "image_classification":
        tokenizer_dir = run_dir / "tokenizer"
        if (tokenizer_dir / data.tokenizer.CONFIG_FILE).exists():
            tokenizer = data.load_tokenizer(tokenizer_dir)  # A resumed run keeps its vocabulary.
        else:
            tokenizer = _train_tokenizer(config, task)
            tokenizer.save(tokenizer_dir)
    train_set, validation = _datasets(config, task, tokenizer)
    steps = config.steps_per_epoch or max(1, len(task.train if not config.max_examples else task.train[: config.max_examples]) // config.batch_size)
    resolved = dataclasses.asdict(config)
    resolved.update({"steps_per_epoch": steps, "family": preset["family"], "kind": task.kind, "metric": task.metric})
    _write_json(run_dir / "config.json", resolved)

    with strategy.scope():
        model = create(config.preset, **_model_overrides(config, preset, task, tokenizer))
        schedule = WarmupCosineDecay(
            peak_learning_rate=config.learning_rate,
            warmup_steps=min(config.warmup_steps, steps * config.epochs // 2),
            decay_steps=max(1, steps * config.epochs),
        )
        smoothing = config.label_smoothing if config.label_smoothing is not None else (0.1 if task.kind == "translation" else 0.0)
        model.compile(
            optimizer=make_optimizer("adamw", learning_rate=schedule, global_clipnorm=1.0),
            loss=MaskedSparseCategoricalCrossentropy(from_logits=True, label_smoothing=smoothing),
            weighted_metrics=["accuracy"],
            jit_compile=config.jit_compile,
        )
    callbacks = standard_callbacks(run_dir, backup_freq=config.backup_freq, strategy=strategy)
    # `fit` resumes at the backup's epoch; the endless stream must resume there too, or
    # the resumed epochs would see other batches than an uninterrupted run.
    batches = train_set.repeat()
    backup = read_backup_state(str(run_dir / "backup"))
    if backup is not None:
        batches = batches.skip(backup["epoch"] * steps)
        if verbose:
            print(f"Resuming {run_dir} from its backup: epoch {backup['epoch'] + 1}, optimizer step {backup['iterations']}.")
    history = model.fit(
        batches,
        epochs=config.epochs,
        steps_per_epoch=steps,
        validation_data=validation,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # The pipeline shuffles (seeded); Keras would only warn that it cannot.
    )
    _write_json(run_dir / "history.json", history.history)
    multi_worker.save_model(model, run_dir / "model.keras", strategy)
    return run_dir


def load_run(run_dir):
    """(model, tokenizer or None, resolved config dict, task) of a finished run."""
    import kzoo.data as data
    from kzoo.training import load_model

    run_dir = Path(run_dir)
    for required in ("config.json", "model.keras"):
        if not (run_dir / required).exists():
            raise ValueError(f"{run_dir} is not a finished kzoo run: {required} is missing.")
    config = json.loads((run_dir / "config.json").read_text())
    model = load_model(run_dir / "model.keras")
    tokenizer = data.load_tokenizer(run_dir / "tokenizer") if (run_dir / "tokenizer").exists() else None
    return model, tokenizer, config, data.load_task(config["task"])


def _batches(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def translate(model, tokenizer, sources, max_new_tokens=None, batch_size=64, **generation):
    """Greedy (or any `kzoo.generation` strategy) translation of `sources` to strings."""
    from kzoo.data.pipelines import DEFAULT_SEQUENCE_LENGTHS

    length = DEFAULT_SEQUENCE_LENGTHS["translation"]
    max_new_tokens = max_new_tokens or length
    outputs = []
    for chunk in _batches(list(sources), batch_size):
        encoder, mask = pack_batch(tokenizer.encode(chunk), start_id=tokenizer.start_id, end_id=tokenizer.end_id,
                                   pad_id=tokenizer.pad_id, max_length=length)
        inputs = {"encoder_token_ids": encoder, "encoder_padding_mask": mask}
        tokens = model.generate(
            inputs, max_new_tokens, start_token_id=tokenizer.start_id, end_token_id=tokenizer.end_id,
            pad_token_id=tokenizer.pad_id, **generation,
        )
        outputs.extend(tokenizer.decode_batch(tokens))
    return outputs


def evaluate(run_dir, split="test", limit=None, write=True):
    """Task metrics of a finished run on `split`; written to `metrics.json`. Returns a dict."""
    import kzoo.data as data
    from kzoo import metrics

    model, tokenizer, config, task = load_run(run_dir)
    examples = task.split(split)[:limit] if limit else task.split(split)
    results = {"task": task.name, "split": split, "examples": len(examples)}
    if task.kind == "translation":
        sources, references = [s for s, _ in examples], [t for _, t in examples]
        hypotheses = translate(model, tokenizer, sources)
        results["bleu"] = metrics.bleu(hypotheses, references)
        results["chrf"] = metrics.chrf(hypotheses, references)
        results["exact_match"] = 100.0 * float(np.mean([h == r for h, r in zip(hypotheses, references)]))
        results["samples"] = [{"source": s, "reference": r, "hypothesis": h} for s, r, h in list(zip(sources, references, hypotheses))[:5]]
    else:
        dataset = data.task_dataset(task.name if not limit else _limited(task, split, limit), split, tokenizer,
                                    batch_size=64, shuffle=False)
        if task.kind == "language_modeling":
            results.update(_perplexity(model, dataset))
        elif task.kind == "tagging":
            results["entity_f1"] = _entity_f1(model, dataset, task.label_names)
        else:
            predictions, labels = [], []
            for inputs, targets, *_ in dataset:
                predictions.extend(np.asarray(model(inputs, training=False)).argmax(-1).tolist())
                labels.extend(np.asarray(targets).tolist())
            results["accuracy"] = 100.0 * metrics.accuracy(predictions, labels)
    if write:
        _write_json(Path(run_dir) / "metrics.json", results)
    return results


def _limited(task, split, limit):
    return dataclasses.replace(task, **{split: task.split(split)[:limit]})


def _perplexity(model, dataset):
    import keras

    total, count = 0.0, 0.0
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    for inputs, targets, weights in dataset:
        values = np.asarray(loss(targets, model(inputs, training=False)))
        weights = np.asarray(weights)
        total += float((values * weights).sum())
        count += float(weights.sum())
    return {"perplexity": float(np.exp(total / max(count, 1.0))), "tokens": int(count)}


def _entity_f1(model, dataset, label_names):
    from kzoo import metrics

    predictions, references = [], []
    for inputs, targets, weights in dataset:
        predicted = np.asarray(model(inputs, training=False)).argmax(-1)
        targets, weights = np.asarray(targets), np.asarray(weights)
        for row in range(len(targets)):
            keep = weights[row] > 0  # First sub-token of each word.
            predictions.append([label_names[i] for i in predicted[row][keep]])
            references.append([label_names[i] for i in targets[row][keep]])
    return 100.0 * metrics.entity_f1(predictions, references)
