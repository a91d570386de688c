"""ViT checkpoints (`ViTForImageClassification`) as a kzoo `ViTClassifier`.

The config maps onto `ViTBackbone` arguments (pre-layer-norm blocks, a class
token, learned positions, exact GELU). The patch projection's PyTorch weight
`[D, C, P, P]` becomes Keras's `[P, P, C, D]`. The model takes images
channels-last, `[B, H, W, C]`, already prepared as the checkpoint's image
processor prepares them: `preprocessing` (and a bundle's manifest) states how:
pixels times `rescale` (1/255), minus `mean`, divided by `std`, per channel.

Example:
```python
imported = load_vit(CheckpointFolder("vit-base-patch16-224"))
imported.preprocessing   # {'formula': '(pixels * rescale - mean) / std, ...', 'layout': 'channels_last',
                         #  'image_size': [224, 224], 'rescale': 0.0039..., 'mean': [0.5, ...], 'std': [0.5, ...]}
```
"""

from kzoo.checkpoints.checkpoint_folder import read_json
from kzoo.checkpoints.config_reader import ConfigReader
from kzoo.checkpoints.imported_checkpoint import ImportedCheckpoint
from kzoo.checkpoints.weight_loader import WeightLoader

ARCHITECTURES = ("ViTForImageClassification",)
IGNORED = (r"position_ids$",)


def vit_config(reader):
    """`ViTBackbone` arguments from a ViT config, each unsupported option named."""
    reader.require("qkv_bias", True, "kzoo's ViT attention has biases")
    reader.require("hidden_act", "gelu", "kzoo's ViT feed-forward uses exact GELU")
    size, patch = reader.multiple("image_size", of="patch_size")
    return {
        "image_shape": (size, size, reader.positive("num_channels")),
        "patch_size": patch,
        "num_layers": reader.positive("num_hidden_layers"),
        "num_heads": reader.positive("num_attention_heads"),
        "hidden_dim": reader.positive("hidden_size"),
        "intermediate_dim": reader.positive("intermediate_size"),
        "dropout": float(reader.get("hidden_dropout_prob", 0.0)),
        "layer_norm_epsilon": float(reader.get("layer_norm_eps", 1e-12)),
    }


def image_preprocessing(folder):
    """How pixels must be prepared for the imported model, from preprocessor_config.json (ViT defaults without one)."""
    path = folder.file("preprocessor_config.json")
    config = read_json(path, "image preprocessing configuration") if path else {}
    channels = int(folder.config.get("num_channels", 3))
    size = int(folder.config.get("image_size", 224))
    return {
        "formula": "(pixels * rescale - mean) / std, per channel, pixels in 0..255",
        "layout": "channels_last",
        "image_size": [size, size],
        "rescale": float(config.get("rescale_factor", 1 / 255)) if config.get("do_rescale", True) else 1.0,
        "mean": list(config.get("image_mean", [0.5] * channels)) if config.get("do_normalize", True) else [0.0] * channels,
        "std": list(config.get("image_std", [0.5] * channels)) if config.get("do_normalize", True) else [1.0] * channels,
    }


def load_vit(folder, dtype=None):
    """The `ImportedCheckpoint` of a ViT checkpoint folder (a `CheckpointFolder`)."""
    from kzoo.models import ViTBackbone, ViTClassifier

    labels = folder.config.get("id2label") or {}
    backbone = ViTBackbone(**vit_config(ConfigReader(folder)), dtype=dtype)
    model = ViTClassifier(backbone, num_classes=len(labels) or int(folder.config.get("num_labels", 2)))
    weights = folder.weights
    loader = WeightLoader(model, weights)
    embedding = backbone.patch_embedding
    kernel = weights.take("vit.embeddings.patch_embeddings.projection.weight").transpose(2, 3, 1, 0)  # OIHW -> HWIO
    loader.assign(embedding.projection.kernel, kernel, "vit.embeddings.patch_embeddings.projection.weight")
    loader.assign(embedding.projection.bias, weights.take("vit.embeddings.patch_embeddings.projection.bias"),
                  "vit.embeddings.patch_embeddings.projection.bias")
    loader.assign(embedding.class_token, weights.take("vit.embeddings.cls_token"), "vit.embeddings.cls_token")
    loader.assign(embedding.position_embeddings, weights.take("vit.embeddings.position_embeddings"),
                  "vit.embeddings.position_embeddings")
    for index, block in enumerate(backbone.blocks):
        layer = f"vit.encoder.layer.{index}"
        loader.norm(block.self_attention_norm, f"{layer}.layernorm_before")
        loader.attention(block.self_attention, *(f"{layer}.attention.attention.{p}" for p in ("query", "key", "value")),
                         f"{layer}.attention.output.dense")
        loader.norm(block.feed_forward_norm, f"{layer}.layernorm_after")
        loader.linear(block.feed_forward.intermediate_dense, f"{layer}.intermediate.dense")
        loader.linear(block.feed_forward.output_dense, f"{layer}.output.dense")
    loader.norm(backbone.final_norm, "vit.layernorm")
    loader.linear(model.get_layer("classifier"), "classifier")
    loader.finish()
    return ImportedCheckpoint(
        model=model, tokenizer=None, family="ViTClassifier", task_kind="image_classification",
        label_names=[labels[key] for key in sorted(labels, key=int)] if labels else None,
        preprocessing=image_preprocessing(folder), source=str(folder.path), architecture="ViTForImageClassification",
        unused_tensors=weights.unused(IGNORED),
    )
