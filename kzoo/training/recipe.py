"""The fit recipe behind `kzoo train` and `kzoo evaluate`: preset (or --init-from) + task (or data) -> run folder.

`train(RunConfig(...))` validates everything before any work, trains the task's
tokenizer (or takes the tokenizer of the run or checkpoint it starts from, see
`kzoo.training.fine_tuning`), builds the tf.data pipelines and the model inside the
strategy scope, and trains with `model.fit` and kzoo's callbacks. The run folder
(see `kzoo.training.run_folder`):

```
runs/<name>/
  config.json     the resolved configuration
  tokenizer/      the trained tokenizer (absent for images)
  model.keras     the final model, written atomically when training ends
  best.keras      best validation loss so far
  backup/         mid-training backups: the same command resumes from them
  logs/           TensorBoard
  metrics.json    the task metrics on the test split (written by `evaluate`)
  data/           the data file of a run trained with `data=`
```

`model.keras` only appears once training has finished, so a run folder never
claims a model it does not hold.

Example:
```python
from kzoo.training.recipe import RunConfig, train, evaluate
run = train(RunConfig(preset="transformer_tiny", task="numbers_en_de", run_dir="runs/demo", epochs=1))
print(evaluate("runs/demo"))
train(RunConfig(init_from="runs/mlm", task="stdlib_topics", run_dir="runs/topics", freeze_backbone=True))
```
"""

import dataclasses
import os
import random
from pathlib import Path

import numpy as np

from kzoo.runtime.packing import pack_batch
from kzoo.runtime.validation import check_choice, check_positive_float, check_positive_int
from kzoo.training.run_folder import copy_data_file, load_run, prepared_task, resolve_task, write_json

TOKENIZERS = ("sentencepiece", "wordpiece", "byte")


@dataclasses.dataclass
class RunConfig:
    """Everything a run needs; `kzoo train` flags and `--config run.yaml` keys are these names.

    Args:
        preset: model preset (`kzoo list`); optional with `init_from` (then it
            must match the source's architecture).
        task: bundled task (`kzoo list --tasks`).
        run_dir: output folder.
        data: str or None. The user's data file instead of `task` (formats:
            `kzoo.data.task_from_file`); every tenth example validates, every
            tenth tests. Its kind is `kind`, else the preset's or source's.
        kind: str or None. The task kind of `data`, e.g. "classification".
        init_from: str or None. A finished run or a checkpoint folder to start
            from: its architecture, weights and tokenizer (a fresh task head).
        freeze_backbone: bool. With `init_from`: train the new head only.
        epochs: int. Defaults to 3.
        steps_per_epoch: int or None (one pass over the training split).
        batch_size: global batch size. Defaults to 64.
        learning_rate: peak learning rate. Defaults to 1e-3 (1e-4 with `init_from`).
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
        model_options: dict or None. More arguments of the preset's model, e.g.
            `{"position_encoding": "rotary"}` or `{"pooling": "mean"}`; an
            argument the family does not take is named with the valid ones.
        label_fraction: float or None. Train on a seeded random sample of this
            share of the training split (label-efficiency studies: 0.01 is 1%);
            the tokenizer still reads every training text, which needs no labels.
        backup_freq: "epoch" or steps between backups. Defaults to "epoch".
    """

    preset: str = None
    task: str = None
    run_dir: str = None
    data: str = None
    kind: str = None
    init_from: str = None
    freeze_backbone: bool = False
    epochs: int = 3
    steps_per_epoch: int = None
    batch_size: int = 64
    learning_rate: float = None
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
    label_fraction: float = None
    model_options: dict = None
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
    """Check every field before any work; returns (preset dict or None, task kind or None). One sentence per problem.

    The kind is None only for a data file trained from `init_from` without `kind`:
    it then comes from the source model, once loaded.
    """
    from kzoo.data import TASK_KINDS, task_info
    from kzoo.models import FAMILIES, _check_name

    if not config.run_dir:
        raise ValueError("Name the output folder: --run-dir runs/NAME.")
    if not config.preset and not config.init_from:
        raise ValueError("Name a PRESET (see `kzoo list`), or --init-from a run or checkpoint folder to start from.")
    if config.task and config.data:
        raise ValueError("Pass --task or --data, not both.")
    if not config.task and not config.data:
        raise ValueError("Name what to train on: --task TASK (see `kzoo list --tasks`) or --data FILE.")
    if config.freeze_backbone and not config.init_from:
        raise ValueError("--freeze-backbone keeps pretrained weights fixed; it needs --init-from.")
    preset = _check_name(config.preset) if config.preset else None
    check_choice("kind", config.kind, TASK_KINDS, allow_none=True)
    if config.task:
        try:
            kind = task_info(config.task)["kind"]
        except ValueError as error:
            raise ValueError(str(error)) from None
        if config.kind and config.kind != kind:
            raise ValueError(f"The task {config.task!r} is a {kind} task, not {config.kind}; drop --kind.")
    else:
        if not os.path.exists(config.data):
            raise ValueError(f"The data file {config.data} does not exist.")
        kind = config.kind or (FAMILIES[preset["family"]][0].task_kinds[0] if preset else None)
    check_positive_int("epochs", config.epochs)
    check_positive_int("steps_per_epoch", config.steps_per_epoch, allow_none=True)
    check_positive_int("batch_size", config.batch_size)
    check_positive_int("vocabulary_size", config.vocabulary_size)
    check_positive_int("sequence_length", config.sequence_length, allow_none=True)
    check_positive_int("max_examples", config.max_examples, allow_none=True)
    if config.model_options and config.init_from:
        raise ValueError("model_options shape a new model; with --init-from the architecture is the source's, so drop them.")
    if config.model_options and preset:
        from kzoo.models import preset_arguments

        unknown = sorted(set(config.model_options) - preset_arguments(config.preset))
        if unknown:
            raise ValueError(f"Preset {config.preset!r} does not take the model option {', '.join(unknown)}; "
                             f"valid ones: {', '.join(sorted(preset_arguments(config.preset)))}.")
    if config.label_fraction is not None and not 0 < config.label_fraction <= 1:
        raise ValueError(f"label_fraction must be in (0, 1], e.g. 0.01 for 1% of the labels; got {config.label_fraction}.")
    if config.learning_rate is not None:
        check_positive_float("learning_rate", config.learning_rate)
    check_choice("tokenizer", config.tokenizer, TOKENIZERS)
    if preset and kind and kind not in FAMILIES[preset["family"]][0].task_kinds:  # Each family declares its kinds.
        able = [family for family, (task_class, _) in FAMILIES.items() if kind in task_class.task_kinds]
        raise ValueError(
            f"Preset {config.preset!r} is a {preset['family']}, which cannot learn the {kind} task "
            f"{config.task or config.data!r}; use a {' or '.join(able)} preset."
        )
    return preset, kind


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


def _run_tokenizer(config, task, run_dir, source):
    """The run's tokenizer: a resumed run's, the source's (`init_from`), or one trained on the task; None for images."""
    import kzoo.data as data

    if task.kind == "image_classification":
        return None
    folder = run_dir / "tokenizer"
    if (folder / data.tokenizer.CONFIG_FILE).exists():
        saved = data.load_tokenizer(folder)  # A resumed run keeps its vocabulary, unless it is not the source's.
        if source is not None and source.tokenizer is not None and saved.config() != source.tokenizer.config():
            raise ValueError(f"{run_dir} holds a tokenizer other than {source.name}'s (left by an earlier run); "
                             "choose another --run-dir or delete it.")
        return saved
    if source is not None:
        if source.tokenizer is None:
            raise ValueError(f"{source.name} has no tokenizer, which a {task.kind} task needs.")
        tokenizer = source.tokenizer
    else:
        tokenizer = _train_tokenizer(config, task)
    if task.kind == "language_modeling" and (tokenizer.pad_id is None or tokenizer.start_id is None):
        raise ValueError(f"{source.name}'s tokenizer has no pad or start token, which kzoo train's language-modelling "
                         "batches are packed with; fine-tune this model with model.fit on your own batches.")
    tokenizer.save(folder)
    return tokenizer


def _source_kind(source):
    """The task kind of a source model trained for one (what a data file is read as when no kind is named)."""
    kinds = getattr(type(source.model), "task_kinds", ())
    if not kinds:
        raise ValueError(f"{source.name} holds a {type(source.model).__name__} without a task; name the data's task "
                         "kind with --kind (e.g. classification).")
    return kinds[0]


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
    return {**overrides, **(config.model_options or {})}


def _sequence_length(config, kind, source):
    """The padded length: the configured one, else the kind's default, within what a source model can read."""
    from kzoo.data.pipelines import DEFAULT_SEQUENCE_LENGTHS

    if config.sequence_length or kind == "image_classification":
        return config.sequence_length
    length = DEFAULT_SEQUENCE_LENGTHS[kind]
    if source is not None:
        model = source.model
        limit = getattr(getattr(model, "backbone", model), "max_sequence_length", None)
        length = min(length, limit) if limit else length
    return length


def _training_subset(config, task):
    """`task` with its training split cut to a seeded `label_fraction` sample, then to `max_examples`."""
    train = task.train
    if config.label_fraction is not None:
        count = max(1, round(config.label_fraction * len(train)))
        train = random.Random(config.seed).sample(list(train), count)
    if config.max_examples:
        train = train[: config.max_examples]
    return dataclasses.replace(task, train=train)


def _datasets(config, task, tokenizer, sequence_length):
    import tensorflow as tf

    import kzoo.data as data

    options = {"sequence_length": sequence_length} if sequence_length else {}
    train_set = data.task_dataset(task, "train", tokenizer, batch_size=config.batch_size, **options)
    validation = data.task_dataset(task, "validation", tokenizer, batch_size=config.batch_size, **options)
    # Bucketing hides how many batches there are; without the count, Keras's evaluate
    # inside fit warns "Your input ran out of data" at the end of every epoch.
    batches = int(validation.reduce(0, lambda count, _: count + 1))
    validation = validation.apply(tf.data.experimental.assert_cardinality(batches))
    return train_set, validation


def train(config, verbose=1):
    """Train per `config`; returns the run folder (a `Path`). Resumes from `backup/` if present."""
    import keras
    from kzoo.models import create
    from kzoo.training import multi_worker
    from kzoo.training.callbacks import read_backup_state, standard_callbacks
    from kzoo.training.fine_tuning import check_preset, fine_tuning_model, load_initialization
    from kzoo.training.losses import MaskedSparseCategoricalCrossentropy
    from kzoo.training.optimizers import make_optimizer
    from kzoo.training.precision import choose_precision
    from kzoo.training.schedules import WarmupCosineDecay
    from kzoo.training.strategy import check_global_batch_size, make_strategy

    preset, kind = validate(config)
    run_dir = Path(config.run_dir)
    if (run_dir / "model.keras").exists():
        raise ValueError(f"{run_dir} already holds a finished run; choose another --run-dir or delete it.")
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    check_global_batch_size(config.batch_size, strategy)
    choose_precision(config.precision, strategy)
    source = None
    if config.init_from:
        with strategy.scope():  # The source's variables become the run's: they live where training runs.
            source = load_initialization(config.init_from)
        if preset:
            check_preset(config.preset, preset, source)
        kind = kind or _source_kind(source)
    run_dir.mkdir(parents=True, exist_ok=True)
    data_file = copy_data_file(config.data, run_dir) if config.data else None
    task = resolve_task(config.task, run_dir / data_file if data_file else None, kind)
    task = prepared_task(task, source.preprocessing if source is not None else None)
    tokenizer = _run_tokenizer(config, task, run_dir, source)
    sequence_length = _sequence_length(config, task.kind, source)
    subset = _training_subset(config, task)
    train_set, validation = _datasets(config, subset, tokenizer, sequence_length)
    examples = len(subset.train)
    steps = config.steps_per_epoch or max(1, examples // config.batch_size)
    learning_rate = config.learning_rate or (1e-4 if source is not None else 1e-3)

    with strategy.scope():
        if source is not None:
            labels = len(task.label_names) if task.label_names else None
            model = fine_tuning_model(source, task.kind, labels, config.freeze_backbone)
        else:
            model = create(config.preset, **_model_overrides(config, preset, task, tokenizer))
        schedule = WarmupCosineDecay(
            peak_learning_rate=learning_rate,
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
    resolved = dataclasses.asdict(config)
    resolved.update({
        "steps_per_epoch": steps, "learning_rate": learning_rate, "sequence_length": sequence_length,
        "family": type(model).__name__, "kind": task.kind, "metric": task.metric, "data": data_file,
        "label_names": list(task.label_names) if task.label_names else None,
        "generation": source.generation if source is not None else {},
        "preprocessing": source.preprocessing if source is not None else None,
    })
    write_json(run_dir / "config.json", resolved)
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
    write_json(run_dir / "history.json", history.history)
    multi_worker.save_model(model, run_dir / "model.keras", strategy)
    return run_dir


def _batches(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def translate(model, tokenizer, sources, max_new_tokens=None, batch_size=64, target_language=None, **generation):
    """Translations of `sources` as strings: greedy, or any `kzoo.generation.generate` options in `generation`.

    The decoder starts from the tokenizer's `decoder_start_id` and the output is
    read with its target side (`for_targets()`), so a Marian checkpoint's own
    ids work as kzoo's do. `target_language` picks the language of a
    multilingual translator (`tokenizer.target_languages`).
    """
    from kzoo.data.pipelines import DEFAULT_SEQUENCE_LENGTHS

    length = DEFAULT_SEQUENCE_LENGTHS["translation"]
    max_new_tokens = max_new_tokens or length
    sources = tokenizer.with_target_language(list(sources), target_language)
    source_limit = getattr(model, "max_sequence_length", None) or length
    targets = tokenizer.for_targets()
    outputs = []
    for chunk in _batches(sources, batch_size):
        encoder, mask = pack_batch(tokenizer.encode(chunk), start_id=tokenizer.start_id, end_id=tokenizer.end_id,
                                   pad_id=tokenizer.pad_id, max_length=source_limit)
        inputs = {"encoder_token_ids": encoder, "encoder_padding_mask": mask}
        tokens = model.generate(
            inputs, max_new_tokens, start_token_id=tokenizer.decoder_start_id, end_token_id=tokenizer.end_id,
            pad_token_id=tokenizer.pad_id, **generation,
        )
        outputs.extend(targets.decode_batch(tokens))
    return outputs


def evaluate(run_dir, split="test", limit=None, write=True, task=None, data=None):
    """Task metrics of a finished run on `split` of its task (or of `task` / all of `data`); a dict.

    Written to the run's `metrics.json` when it is the run's own task. Translation
    decodes with the run's generation defaults (an imported checkpoint's beam search).
    """
    import kzoo.data as data_module
    from kzoo import metrics

    run = load_run(run_dir, task=task, data=data)
    if run.task is None:
        raise ValueError(f"{run_dir} has no task of its own to evaluate on; pass --task TASK or --data FILE.")
    model, tokenizer, chosen = run.model, run.tokenizer, run.task
    examples = chosen.split(split)[:limit] if limit else chosen.split(split)
    results = {"task": chosen.name, "split": split, "examples": len(examples)}
    if chosen.kind == "translation":
        sources, references = [s for s, _ in examples], [t for _, t in examples]
        # A run trained on longer targets than the default may decode as long as it trained.
        max_new_tokens = run.config.get("max_new_tokens") or run.config.get("sequence_length")
        hypotheses = translate(model, tokenizer, sources, max_new_tokens=max_new_tokens,
                               **(run.config.get("generation") or {}))
        results["bleu"] = metrics.bleu(hypotheses, references)
        results["chrf"] = metrics.chrf(hypotheses, references)
        results["exact_match"] = 100.0 * float(np.mean([h == r for h, r in zip(hypotheses, references)]))
        results["samples"] = [{"source": s, "reference": r, "hypothesis": h} for s, r, h in list(zip(sources, references, hypotheses))[:5]]
    else:
        if chosen.kind == "masked_lm":
            import keras

            # Seeds keras-hub's masking; its unseeded draws inside a parallel map still vary
            # slightly from one evaluation to the next (about 1% of perplexity on 64 texts).
            keras.utils.set_random_seed(0)
        length = run.config.get("sequence_length")
        dataset = data_module.task_dataset(chosen if not limit else _limited(chosen, split, limit), split, tokenizer,
                                           batch_size=64, shuffle=False, **({"sequence_length": length} if length else {}))
        if chosen.kind == "language_modeling":
            results.update(_perplexity(model, dataset))
        elif chosen.kind == "masked_lm":
            results.update(_masked_lm_metrics(model, dataset))
        elif chosen.kind == "tagging":
            results["entity_f1"] = _entity_f1(model, dataset, run.label_names)
        else:
            predictions, labels = [], []
            for inputs, targets, *_ in dataset:
                predictions.extend(np.asarray(model(inputs, training=False)).argmax(-1).tolist())
                labels.extend(np.asarray(targets).tolist())
            results["accuracy"] = 100.0 * metrics.accuracy(predictions, labels)
    if write and not (task or data):
        write_json(Path(run_dir) / "metrics.json", results)
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


def _masked_lm_metrics(model, dataset):
    """Masked-token accuracy (%) and perplexity over the selected positions, and how many there were."""
    import keras

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    total, correct, count = 0.0, 0.0, 0.0
    for inputs, targets, weights in dataset:
        logits = model(inputs, training=False)
        targets, weights = np.asarray(targets), np.asarray(weights)
        total += float((np.asarray(loss(targets, logits)) * weights).sum())
        correct += float(((np.asarray(logits).argmax(-1) == targets) * weights).sum())
        count += float(weights.sum())
    count = max(count, 1.0)
    return {"masked_token_accuracy": 100.0 * correct / count, "perplexity": float(np.exp(total / count)),
            "masked_tokens": int(count)}


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
