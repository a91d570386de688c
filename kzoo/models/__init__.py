"""The model families and the preset registry (`create`, `list_models`).

Example:
```python
import kzoo
model = kzoo.create("transformer_small", vocabulary_size=512)
[row["name"] for row in kzoo.list_models()][:3]
```
"""

import difflib
import inspect

from kzoo.models.attention_weights import attention_weights
from kzoo.models.causal_lm import CausalLM
from kzoo.models.decoder_backbone import DecoderBackbone
from kzoo.models.encoder_backbone import EncoderBackbone
from kzoo.models.export_description import ExportDescription
from kzoo.models.gru_seq2seq import GRUSeq2Seq
from kzoo.models.masked_lm import MaskedLM
from kzoo.models.text_classifier import TextClassifier
from kzoo.models.token_tagger import TokenTagger
from kzoo.models.transformer_seq2seq import TransformerSeq2Seq
from kzoo.models.vit_backbone import ViTBackbone
from kzoo.models.vit_classifier import ViTClassifier
from kzoo.presets import PRESETS

# family -> (task class, backbone class or None when the family is one model)
FAMILIES = {
    "TextClassifier": (TextClassifier, EncoderBackbone),
    "TokenTagger": (TokenTagger, EncoderBackbone),
    "MaskedLM": (MaskedLM, EncoderBackbone),
    "CausalLM": (CausalLM, DecoderBackbone),
    "TransformerSeq2Seq": (TransformerSeq2Seq, None),
    "GRUSeq2Seq": (GRUSeq2Seq, None),
    "ViTClassifier": (ViTClassifier, ViTBackbone),
}


def _arguments(cls):
    return {name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "kwargs")}


def _check_name(name):
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name), PRESETS, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else " See `kzoo list`."
        raise ValueError(f"Unknown model preset {name!r}.{hint}")
    return PRESETS[name]


def preset_arguments(name):
    """The argument names `create(name, ...)` accepts: the family's backbone and head arguments.

    Example: `"position_encoding" in preset_arguments("transformer_tiny")`.
    """
    task_class, backbone_class = FAMILIES[_check_name(name)["family"]]
    valid = _arguments(task_class) | (_arguments(backbone_class) if backbone_class else set())
    valid.discard("backbone")
    return valid


def create(name, **overrides):
    """Build the model of preset `name`, with any config argument overridden.

    Backbone arguments (`vocabulary_size`, `num_layers`, `dropout`, `dtype`, ...)
    and head arguments (`num_classes`, `num_tags`) are accepted alike; anything
    else raises a `ValueError` listing what the family takes.
    """
    preset = _check_name(name)
    task_class, backbone_class = FAMILIES[preset["family"]]
    config = {**preset["config"], **overrides}
    valid = preset_arguments(name)
    unknown = sorted(set(config) - valid - {"name"})
    if unknown:
        raise ValueError(
            f"Preset {name!r} ({preset['family']}) does not take {', '.join(unknown)}; "
            f"valid arguments: {', '.join(sorted(valid))}."
        )
    if backbone_class is None:
        return task_class(**config)
    backbone_arguments = _arguments(backbone_class)
    backbone = backbone_class(**{k: v for k, v in config.items() if k in backbone_arguments})
    head = {k: v for k, v in config.items() if k not in backbone_arguments and k != "name"}
    return task_class(backbone, **head)


def list_models():
    """One dict per preset: name, family, parameters, description."""
    return [
        {"name": name, "family": p["family"], "parameters": p["parameters"], "description": p["description"]}
        for name, p in PRESETS.items()
    ]


__all__ = [
    "CausalLM",
    "DecoderBackbone",
    "EncoderBackbone",
    "ExportDescription",
    "FAMILIES",
    "GRUSeq2Seq",
    "MaskedLM",
    "TextClassifier",
    "TokenTagger",
    "TransformerSeq2Seq",
    "ViTBackbone",
    "ViTClassifier",
    "attention_weights",
    "create",
    "list_models",
    "preset_arguments",
]
