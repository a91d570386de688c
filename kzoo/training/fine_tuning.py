"""`kzoo train --init-from`: start a run from a finished run or a checkpoint folder instead of random weights.

The architecture and the tokenizer come from the source; the task decides what
is kept:

| task kind             | source model                           | the new run's model                       |
|-----------------------|----------------------------------------|-------------------------------------------|
| classification        | any BERT-style encoder (MaskedLM, TextClassifier, TokenTagger, a backbone) | `TextClassifier` on its backbone, a fresh head |
| tagging               | the same                               | `TokenTagger` on its backbone, a fresh head |
| masked_lm             | the same                               | `MaskedLM` (the source itself when it is one) |
| image_classification  | a ViT                                  | `ViTClassifier` on its backbone, a fresh head |
| translation           | `TransformerSeq2Seq`, `GRUSeq2Seq`     | the source model, every weight kept       |
| language_modeling     | `CausalLM`                             | the source model                          |

A classifier pools by the mean of the token states (`TextClassifier(pooling="mean")`)
when the source never trained BERT's first-token pooler — a `MaskedLM`, a
`TokenTagger`, a mean-pooled classifier — whose output would be a random
projection; a cls-pooled classifier or a checkpoint's `BertModel` keeps its pooler.

`freeze_backbone=True` trains the fresh head only. A preset named as well must
describe the same architecture; the first differing setting is named.

Example:
```python
source = load_initialization("runs/mlm-python_docs")
model = fine_tuning_model(source, "classification", num_labels=8)
```
"""

import dataclasses
from pathlib import Path

from kzoo.training.run_folder import CONFIG_FILE, MODEL_FILE

# Settings a preset and a source must share to be the same architecture.
ARCHITECTURE_KEYS = ("num_layers", "num_heads", "hidden_dim", "intermediate_dim", "patch_size", "image_size",
                     "num_encoder_layers", "num_decoder_layers")
_WHOLE_MODELS = {"translation": ("TransformerSeq2Seq", "GRUSeq2Seq"), "language_modeling": ("CausalLM",)}


@dataclasses.dataclass
class Initialization:
    """What a run starts from: the source `model`, its `tokenizer`, `generation` defaults and a `name` for messages."""

    model: object
    tokenizer: object
    name: str
    generation: dict = dataclasses.field(default_factory=dict)
    preprocessing: dict = None


def load_initialization(path):
    """The model and tokenizer of a finished run folder or of a checkpoint folder (`kzoo.import_checkpoint`)."""
    path = Path(path)
    if (path / CONFIG_FILE).is_file() and (path / MODEL_FILE).is_file():
        from kzoo.training.run_folder import load_run

        run = load_run(path)
        return Initialization(run.model, run.tokenizer, str(path), run.config.get("generation") or {},
                              run.config.get("preprocessing"))
    if not path.is_dir():
        raise ValueError(f"--init-from {path}: there is no such folder; pass a run folder or a checkpoint folder.")
    from kzoo.checkpoints import CheckpointError, import_checkpoint

    try:
        imported = import_checkpoint(path)
    except CheckpointError as error:
        raise ValueError(str(error)) from None
    return Initialization(imported.model, imported.tokenizer, str(path), imported.decoding, imported.preprocessing)


def _backbone(model):
    return getattr(model, "backbone", None) or model


def _pooler_trained(model):
    """Whether a source's first-token pooler was trained: a classifier's with "cls" pooling, or a bare backbone's
    (a checkpoint's BertModel, whose pooler its pre-training trained). MLMs and taggers never train it."""
    from kzoo.models import MaskedLM, TextClassifier, TokenTagger

    if isinstance(model, TextClassifier):
        return model.pooling == "cls"
    return not isinstance(model, (MaskedLM, TokenTagger))


def architecture(model):
    """The `ARCHITECTURE_KEYS` settings of a model (its backbone's, for task models)."""
    config = _backbone(model).get_config()
    return {key: config[key] for key in ARCHITECTURE_KEYS if key in config}


def check_preset(preset_name, preset, source):
    """Raises `ValueError` naming the first setting where the preset differs from the source's architecture."""
    from kzoo.models import FAMILIES

    family = preset["family"]
    source_family = type(source.model).__name__
    task_class, backbone_class = FAMILIES[family]
    source_backbone = type(_backbone(source.model))
    if source_family != family and (backbone_class is None or source_backbone is not backbone_class):
        raise ValueError(f"Preset {preset_name!r} is a {family}, but {source.name} holds a {source_family}; "
                         "drop the preset (the architecture comes from --init-from) or pick a matching one.")
    have = architecture(source.model)
    for key, value in preset["config"].items():
        if key in have and have[key] != value:
            raise ValueError(f"Preset {preset_name!r} has {key}={value}, but {source.name} has {key}={have[key]}; "
                             "drop the preset (the architecture comes from --init-from) or pick a matching one.")


def fine_tuning_model(source, kind, num_labels=None, freeze_backbone=False):
    """The model a run of `kind` trains, built on `source.model` (see the module docstring).

    Raises `ValueError` in one sentence when the source cannot learn `kind`.
    """
    from kzoo.models import MaskedLM, TextClassifier, TokenTagger, ViTClassifier

    model = source.model
    family = type(model).__name__
    backbone = _backbone(model)
    if kind in _WHOLE_MODELS:
        if family not in _WHOLE_MODELS[kind]:
            raise ValueError(f"{source.name} holds a {family}, which cannot learn a {kind} task; "
                             f"--init-from needs a {' or '.join(_WHOLE_MODELS[kind])} for it.")
        if freeze_backbone:
            raise ValueError(f"--freeze-backbone needs a fresh task head, but a {family} is fine-tuned whole; drop it.")
        return model
    backbone_family = type(backbone).__name__
    expected = "ViTBackbone" if kind == "image_classification" else "EncoderBackbone"
    if backbone_family != expected:
        raise ValueError(f"{source.name} holds a {family}, which cannot learn a {kind} task; --init-from needs a "
                         f"model with a {expected} for it.")
    backbone.trainable = not freeze_backbone
    if kind == "masked_lm":
        return model if isinstance(model, MaskedLM) else MaskedLM(backbone)
    if kind == "classification":
        pooling = "cls" if _pooler_trained(model) else "mean"
        return TextClassifier(backbone, num_classes=num_labels, pooling=pooling)
    if kind == "tagging":
        return TokenTagger(backbone, num_tags=num_labels)
    return ViTClassifier(backbone, num_classes=num_labels)
