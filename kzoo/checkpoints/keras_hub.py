"""Import keras-hub BERT, GPT-2 and ViT backbones into the matching kzoo family.

A user with a downloaded keras-hub preset (or a backbone already in memory)
gets a kzoo backbone with the same weights, and so the same outputs, which kzoo
can then fine-tune and export:

| keras-hub backbone | kzoo backbone     | tasks (`task=`)                            |
|--------------------|-------------------|--------------------------------------------|
| `BertBackbone`     | `EncoderBackbone` | text_classifier, token_tagger, masked_lm   |
| `GPT2Backbone`     | `DecoderBackbone` | causal_lm                                  |
| `ViTBackbone`      | `ViTBackbone`     | vit_classifier                             |

Only local folders are read (`keras_hub.models.Backbone.from_preset(folder)`);
remote handles (`kaggle://`, `hf://`, ...) and bare preset names are refused,
so an import never downloads. The configuration comes from the keras-hub
backbone's `get_config()` and, for what keras-hub hard-codes (activation, layer
norm epsilon, pre/post layer norm), from its layers. Every variable of both
models is copied exactly once, each copy checks the shape and names the
variable on a mismatch, and a variable left over on either side is an error: a
keras-hub release that adds a weight fails loudly instead of importing wrongly.

Task heads are new (randomly initialized): a keras-hub backbone has none.
Dropout positions differ in one place: keras-hub's ViT MLP also drops after its
first dense layer, kzoo's feed-forward only after the second; inference is
unaffected.

Example:
```python
import keras_hub
from kzoo.checkpoints.keras_hub import import_keras_hub

keras_hub.models.Backbone.from_preset("bert_tiny_en_uncased").save_to_preset("bert_tiny")  # once, online
classifier = import_keras_hub("bert_tiny", task="text_classifier", num_classes=3)
```
"""

import inspect
import json
import os

import keras_hub
from keras import ops

from kzoo.layers.utils import ACTIVATIONS, copy_weights
from kzoo.models.causal_lm import CausalLM
from kzoo.models.decoder_backbone import DecoderBackbone
from kzoo.models.encoder_backbone import EncoderBackbone
from kzoo.models.masked_lm import MaskedLM
from kzoo.models.text_classifier import TextClassifier
from kzoo.models.token_tagger import TokenTagger
from kzoo.models.vit_backbone import ViTBackbone
from kzoo.models.vit_classifier import ViTClassifier

_REMOTE_SCHEMES = ("kaggle", "hf", "gs", "modelscope", "http", "https", "s3")


def import_keras_hub(source, task=None, *, dtype=None, backbone_dropout=None, **task_arguments):
    """A kzoo backbone (or task) with the weights of a keras-hub BERT, GPT-2 or ViT backbone.

    Args:
        source: a `keras_hub.models.BertBackbone`, `GPT2Backbone` or
            `ViTBackbone`, or the path of a local keras-hub preset folder (what
            `backbone.save_to_preset(folder)` writes).
        task: str or None. None returns the backbone; otherwise one of
            "text_classifier", "token_tagger", "masked_lm" (BERT),
            "causal_lm" (GPT-2), "vit_classifier" (ViT), built on the imported
            backbone with `**task_arguments` (e.g. `num_classes=3`). Its head
            is newly initialized.
        dtype: dtype policy of the kzoo model. Defaults to the source's.
        backbone_dropout: float or None. Dropout of the kzoo backbone; defaults
            to the source's (keras-hub ViT's `dropout_rate`, which must then
            equal its `attention_dropout`: kzoo has one rate).
        **task_arguments: arguments of the task class, e.g. `num_classes`,
            `num_tags`, `dropout` (the head's).

    Returns:
        `EncoderBackbone`, `DecoderBackbone` or `ViTBackbone`, or the task model.

    Raises:
        ValueError: an unsupported backbone class or option, a remote handle or
            preset name, a shape mismatch (naming the variable), an unknown task.
        FileNotFoundError: `source` names a folder that does not exist.
    """
    if task_arguments and task is None:
        raise ValueError(
            f"Received task arguments {', '.join(sorted(task_arguments))} without a `task`; "
            "pass `task=` (e.g. task=\"text_classifier\", num_classes=3) or drop them."
        )
    reference = _load_reference(source)
    spec = _spec_for_class(type(reference))
    if reference.dtype_policy.quantization_mode is not None:
        raise ValueError(
            f"Cannot import a quantized backbone (quantization_mode="
            f"{reference.dtype_policy.quantization_mode!r}); import the float weights and quantize "
            "at export time."
        )
    task_class = None if task is None else _task_class(spec, task, task_arguments)  # Fail before the copy.
    config = spec["config"](reference, backbone_dropout)
    if backbone_dropout is not None:
        config["dropout"] = backbone_dropout
    config["dtype"] = dtype if dtype is not None else reference.dtype_policy.name
    backbone = spec["backbone"](**config)
    load_keras_hub_weights(backbone, reference)
    return backbone if task_class is None else task_class(backbone, **task_arguments)


def load_keras_hub(folder, dtype=None):
    """A keras-hub preset folder as an `ImportedCheckpoint`: the kzoo backbone and, for BERT and GPT-2, the tokenizer.

    `kzoo.import_checkpoint` sends preset folders (their config.json names a Keras
    class) here. The tokenizer is rebuilt from the preset's vocabulary files
    (`assets/tokenizer/`) with the `tokenizers` library, with the preset's ids.
    """
    from kzoo.checkpoints.imported_checkpoint import ImportedCheckpoint

    backbone = import_keras_hub(str(folder.path), dtype=dtype)
    return ImportedCheckpoint(model=backbone, tokenizer=_preset_tokenizer(folder.path), family=type(backbone).__name__,
                              source=str(folder.path), architecture=folder.config.get("class_name", ""))


def _preset_tokenizer(path):
    """The preset's BERT or GPT-2 tokenizer from `assets/tokenizer/`, or None (ViT, or no saved tokenizer)."""
    from kzoo.checkpoints.hugging_face_tokenizers import bert_vocabulary_tokenizer, gpt2_vocabulary_tokenizer

    assets = os.path.join(path, "assets", "tokenizer")
    config_path = os.path.join(path, "tokenizer.json")
    if not os.path.isfile(config_path):
        return None
    with open(config_path) as file:
        config = json.load(file)
    settings = config.get("config", {})
    if config.get("class_name") == "BertTokenizer" and os.path.isfile(os.path.join(assets, "vocabulary.txt")):
        return bert_vocabulary_tokenizer(os.path.join(assets, "vocabulary.txt"), settings.get("lowercase", False),
                                         settings.get("strip_accents") or None, where=path)
    if config.get("class_name") == "GPT2Tokenizer" and os.path.isfile(os.path.join(assets, "vocabulary.json")):
        return gpt2_vocabulary_tokenizer(os.path.join(assets, "vocabulary.json"), os.path.join(assets, "merges.txt"),
                                         where=path)
    return None


def load_keras_hub_weights(backbone, reference):
    """Copy every weight of keras-hub backbone `reference` into the kzoo `backbone`, checked.

    The two must have the same configuration (`import_keras_hub` builds one that
    has); any shape difference raises a `ValueError` naming the variable.
    """
    spec = _spec_for_class(type(reference))
    if not isinstance(backbone, spec["backbone"]):
        raise ValueError(
            f"Cannot load a keras-hub {type(reference).__name__} into {type(backbone).__name__}; "
            f"it maps to {spec['backbone'].__name__}."
        )
    copier = _WeightCopier(backbone, reference)
    spec["load"](copier, backbone, reference)
    copier.finish()


class _WeightCopier:
    """Copies weights pair by pair, checking shapes, and tracks what is left on either side."""

    def __init__(self, target, reference):
        self.target_name = target.name
        self.reference_name = reference.name
        self.target_left = {id(variable): variable for variable in target.weights}
        self.reference_left = {id(variable): variable for variable in reference.weights}

    def _done(self, target_weights, reference_weights):
        for variable in target_weights:
            self.target_left.pop(id(variable), None)
        for variable in reference_weights:
            self.reference_left.pop(id(variable), None)

    def layer(self, target, reference):
        """Same-structure layers (Dense, LayerNormalization, Embedding, Conv2D)."""
        copy_weights(target, reference)
        self._done(target.weights, reference.weights)

    def attention(self, target, reference):
        """kzoo fused `MultiHeadAttention` <- `keras.layers.MultiHeadAttention`."""
        _check_keras_attention(reference)
        target.load_keras_weights(reference)
        self._done(target.weights, reference.weights)

    def block(self, target, reference, pairs):
        """A kzoo Transformer block <- a keras-hub TransformerEncoder/Decoder.

        `pairs` lists the (kzoo sublayer, keras-hub sublayer) pairs that
        `load_keras_hub_weights` copies, so the bookkeeping sees exactly those.
        """
        _check_keras_attention(reference._self_attention_layer)
        target.load_keras_hub_weights(reference)
        for ours, theirs in pairs:
            self._done(ours.weights, theirs.weights)

    def variable(self, target, reference):
        """One variable; a leading axis of size 1 on our side is allowed (`[1, N, D]` <- `[N, D]`)."""
        shape, wanted = tuple(reference.shape), tuple(target.shape)
        if shape != wanted and (1,) + shape != wanted:
            raise ValueError(
                f"Cannot load {reference.path} into {target.path}: shape {shape} there, {wanted} here."
            )
        target.assign(ops.reshape(reference, wanted))
        self._done([target], [reference])

    def finish(self):
        """Raise if any weight of either model was not copied."""
        for model, left in ((self.target_name, self.target_left), (self.reference_name, self.reference_left)):
            if left:
                paths = ", ".join(variable.path for variable in left.values())
                raise ValueError(f"Import incomplete: no mapping for these weights of {model}: {paths}.")


def _check_keras_attention(reference):
    """`load_keras_weights` reads only the four projections; anything else would be dropped."""
    if len(reference.weights) != (8 if reference._use_bias else 4):
        raise ValueError(
            f"Cannot load {reference.path}: expected query/key/value/output projections, found "
            f"{', '.join(variable.path for variable in reference.weights)}."
        )


def _block_pairs(block, reference):
    return [
        (block.self_attention, reference._self_attention_layer),
        (block.self_attention_norm, reference._self_attention_layer_norm),
        (block.feed_forward.intermediate_dense, reference._feedforward_intermediate_dense),
        (block.feed_forward.output_dense, reference._feedforward_output_dense),
        (block.feed_forward_norm, reference._feedforward_layer_norm),
    ]


def _zip_blocks(ours, theirs):
    if len(ours) != len(theirs):
        raise ValueError(f"Cannot load {len(theirs)} keras-hub layers into {len(ours)} kzoo blocks (num_layers).")
    return zip(ours, theirs)


# --- BERT ---------------------------------------------------------------------


def _bert_config(reference, backbone_dropout):
    config = reference.get_config()
    layers = reference.transformer_layers
    epsilon = _single_value("layer_norm_epsilon", [reference.embeddings_layer_norm.epsilon] + [
        layer.layer_norm_epsilon for layer in layers
    ])
    _require(not any(layer.normalize_first for layer in layers), "normalize_first=True (pre-layer-norm) BERT layers")
    return {**_shared_config(config, layers, epsilon), "num_segments": config["num_segments"]}


def _shared_config(config, layers, epsilon):
    """The kzoo backbone arguments BERT and GPT-2 presets both carry, read from the keras-hub backbone."""
    return {
        **{key: config[key] for key in ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim",
                                        "dropout", "max_sequence_length")},
        "activation": _single_value("activation", [_activation_name(layer.activation) for layer in layers]),
        "layer_norm_epsilon": epsilon,
    }


def _load_bert(copier, backbone, reference):
    copier.layer(backbone.token_embedding, reference.token_embedding)
    copier.layer(backbone.position_embedding, reference.position_embedding)
    copier.layer(backbone.segment_embedding, reference.segment_embedding)
    copier.layer(backbone.embeddings_norm, reference.embeddings_layer_norm)
    for block, layer in _zip_blocks(backbone.blocks, reference.transformer_layers):
        copier.block(block, layer, _block_pairs(block, layer))
    copier.layer(backbone.pooler, reference.pooled_dense)


# --- GPT-2 --------------------------------------------------------------------


def _gpt2_config(reference, backbone_dropout):
    config = reference.get_config()
    layers = reference.transformer_layers
    epsilon = _single_value("layer_norm_epsilon", [reference.layer_norm.epsilon] + [
        layer.layer_norm_epsilon for layer in layers
    ])
    _require(all(layer.normalize_first for layer in layers), "normalize_first=False (post-layer-norm) GPT-2 layers")
    return _shared_config(config, layers, epsilon)


def _load_gpt2(copier, backbone, reference):
    copier.layer(backbone.token_embedding, reference.token_embedding)
    copier.layer(backbone.position_embedding, reference.position_embedding)
    for block, layer in _zip_blocks(backbone.blocks, reference.transformer_layers):
        if getattr(layer, "_cross_attention_layer", None) is not None:
            raise ValueError(f"Cannot import {layer.path}: it has cross-attention, GPT-2 blocks have none.")
        copier.block(block, layer, _block_pairs(block, layer))
    copier.layer(backbone.final_norm, reference.layer_norm)


# --- ViT ----------------------------------------------------------------------


def _vit_config(reference, backbone_dropout):
    config = reference.get_config()
    for option, wanted, why in (
        ("use_class_token", True, "kzoo's ViTBackbone always prepends a class token and ViTClassifier pools it"),
        ("use_patch_bias", True, "kzoo's PatchEmbedding projection always has a bias"),
        ("use_mha_bias", True, "kzoo's ViT attention always has biases"),
        ("use_mlp_bias", True, "kzoo's ViT feed-forward always has biases"),
    ):
        if config[option] != wanted:
            raise ValueError(f"Cannot import a keras-hub ViTBackbone with {option}={config[option]}: {why}.")
    if reference.data_format != "channels_last":
        raise ValueError(
            f"Cannot import a keras-hub ViTBackbone with data_format={reference.data_format!r}: "
            "kzoo's ViTBackbone takes channels_last images."
        )
    patch_size = config["patch_size"]
    patch_size = (patch_size, patch_size) if isinstance(patch_size, int) else tuple(patch_size)
    if patch_size[0] != patch_size[1]:
        raise ValueError(
            f"Cannot import a keras-hub ViTBackbone with patch_size={patch_size}: kzoo's "
            "PatchEmbedding takes square patches."
        )
    dropout = config["dropout_rate"]
    if backbone_dropout is None and config["attention_dropout"] != dropout:
        raise ValueError(
            f"Cannot import a keras-hub ViTBackbone with dropout_rate={dropout} and "
            f"attention_dropout={config['attention_dropout']}: kzoo's ViTBackbone has one dropout "
            "rate; choose it with `backbone_dropout=`."
        )
    encoder = reference.get_layer("vit_encoder")
    activations = [_activation_name(block.mlp.dense_1.activation) for block in encoder.encoder_layers]
    _require(_single_value("activation", activations) == "gelu", f"activation={activations[0]!r} in the ViT MLP")
    epsilon = _single_value(
        "layer_norm_epsilon",
        [config["layer_norm_epsilon"], encoder.layer_norm.epsilon]
        + [norm.epsilon for block in encoder.encoder_layers for norm in (block.layer_norm_1, block.layer_norm_2)],
    )
    return {
        "image_shape": tuple(config["image_shape"]),
        "patch_size": patch_size[0],
        "num_layers": config["num_layers"],
        "num_heads": config["num_heads"],
        "hidden_dim": config["hidden_dim"],
        "intermediate_dim": config["mlp_dim"],
        "dropout": dropout,
        "layer_norm_epsilon": epsilon,
    }


def _load_vit(copier, backbone, reference):
    embedding = reference.get_layer("vit_patching_and_embedding")
    copier.layer(backbone.patch_embedding.projection, embedding.patch_embedding)
    copier.variable(backbone.patch_embedding.class_token, embedding.class_token)
    copier.variable(backbone.patch_embedding.position_embeddings, embedding.position_embedding.embeddings)
    encoder = reference.get_layer("vit_encoder")
    for block, layer in _zip_blocks(backbone.blocks, encoder.encoder_layers):
        copier.attention(block.self_attention, layer.mha)
        copier.layer(block.self_attention_norm, layer.layer_norm_1)
        copier.layer(block.feed_forward.intermediate_dense, layer.mlp.dense_1)
        copier.layer(block.feed_forward.output_dense, layer.mlp.dense_2)
        copier.layer(block.feed_forward_norm, layer.layer_norm_2)
    copier.layer(backbone.final_norm, encoder.layer_norm)


# --- architectures, sources and tasks -----------------------------------------

_SPECS = {
    "BertBackbone": {
        "class": keras_hub.models.BertBackbone,
        "backbone": EncoderBackbone,
        "config": _bert_config,
        "load": _load_bert,
        "tasks": {"text_classifier": TextClassifier, "token_tagger": TokenTagger, "masked_lm": MaskedLM},
    },
    "GPT2Backbone": {
        "class": keras_hub.models.GPT2Backbone,
        "backbone": DecoderBackbone,
        "config": _gpt2_config,
        "load": _load_gpt2,
        "tasks": {"causal_lm": CausalLM},
    },
    "ViTBackbone": {
        "class": keras_hub.models.ViTBackbone,
        "backbone": ViTBackbone,
        "config": _vit_config,
        "load": _load_vit,
        "tasks": {"vit_classifier": ViTClassifier},
    },
}


def _unsupported(class_name):
    return ValueError(
        f"Cannot import a keras-hub {class_name}: kzoo imports only "
        f"{', '.join(f'keras_hub.models.{name}' for name in _SPECS)}."
    )


def _spec_for_class(cls):
    """The import spec of exactly this class (a subclass may change the architecture)."""
    spec = _SPECS.get(cls.__name__)
    if spec is None or spec["class"] is not cls:
        raise _unsupported(cls.__name__)
    return spec


def _load_reference(source):
    """A keras-hub backbone from an in-memory backbone or a local preset folder."""
    if isinstance(source, keras_hub.models.Backbone):
        return source
    if isinstance(source, keras_hub.models.Task):
        raise ValueError(
            f"Received a keras-hub task ({type(source).__name__}); pass its backbone "
            "(`task.backbone`): kzoo imports backbones and builds its own heads."
        )
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        raise ValueError(
            "Received an invalid value for argument `source`, expected a keras-hub backbone "
            f"or the path of a local preset folder. Received: source={source!r}"
        )
    if "://" in source:
        scheme = source.split("://", 1)[0]
        kind = "a remote handle" if scheme.lower() in _REMOTE_SCHEMES else f"a {scheme}:// address"
        raise ValueError(
            f"{source!r} is {kind}; kzoo only imports local folders. Download it with keras-hub "
            "first (`keras_hub.models.Backbone.from_preset(handle).save_to_preset(folder)`) and pass the folder."
        )
    path = os.path.abspath(os.path.expanduser(source))  # Absolute, so keras-hub never reads it as a preset name.
    if not os.path.exists(path):
        if source in keras_hub.models.Backbone.presets:
            raise ValueError(
                f"{source!r} is a keras-hub preset name, not a local folder; kzoo only imports local "
                f"folders. Download it first (`keras_hub.models.Backbone.from_preset({source!r})"
                ".save_to_preset(folder)`) and pass the folder."
            )
        raise FileNotFoundError(f"No keras-hub preset folder at {source!r} ({path} does not exist).")
    config_path = os.path.join(path, "config.json")
    if not os.path.isfile(config_path):
        raise ValueError(
            f"{source!r} is not a keras-hub preset folder: it has no config.json "
            "(write one with `backbone.save_to_preset(folder)`)."
        )
    with open(config_path) as file:
        config = json.load(file)
    if "registered_name" in config:  # A Keras preset: check the class before loading any weights.
        class_name = config.get("class_name", config["registered_name"].split(">")[-1])
        if class_name not in _SPECS:
            raise _unsupported(class_name)
    return keras_hub.models.Backbone.from_preset(path)


def _task_class(spec, task, task_arguments):
    """The task class for `task`, after checking `task_arguments` against its signature."""
    tasks = spec["tasks"]
    if task not in tasks:
        raise ValueError(
            f"Received an invalid value for argument `task`, expected one of {', '.join(tasks)} "
            f"for a keras-hub {spec['class'].__name__}. Received: task={task!r}"
        )
    task_class = tasks[task]
    parameters = inspect.signature(task_class.__init__).parameters
    valid = [name for name in parameters if name not in ("self", "backbone", "kwargs")]
    unknown = sorted(set(task_arguments) - set(valid) - {"name"})
    missing = [
        name for name in valid if parameters[name].default is inspect.Parameter.empty and name not in task_arguments
    ]
    if unknown or missing:
        problem = f"does not take {', '.join(unknown)}" if unknown else f"needs {', '.join(missing)}"
        raise ValueError(
            f"Task {task!r} ({task_class.__name__}) {problem}; its arguments: {', '.join(valid) or 'none'}."
        )
    return task_class


def _activation_name(function):
    name = getattr(function, "__name__", repr(function))
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Cannot import a feed-forward activation {name!r}: kzoo supports {', '.join(ACTIVATIONS)}."
        )
    return name


def _single_value(name, values):
    """The one value all layers share; kzoo backbones have one setting per model."""
    distinct = sorted(set(values), key=str)
    if len(distinct) != 1:
        raise ValueError(
            f"Cannot import layers with different {name} values ({distinct}): kzoo backbones use one."
        )
    return distinct[0]


def _require(condition, what):
    if not condition:
        raise ValueError(f"Cannot import {what}: the kzoo family has no such option.")


__all__ = ["import_keras_hub", "load_keras_hub_weights"]
