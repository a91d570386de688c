"""BERT checkpoints (`BertModel`, `BertForSequenceClassification`, `BertForTokenClassification`,
`BertForMaskedLM`) as a kzoo `EncoderBackbone` and its task heads.

The config maps onto `EncoderBackbone` arguments (post-layer-norm blocks, learned
absolute positions, segment embeddings, exact or tanh GELU, the checkpoint's
layer-norm epsilon); the head follows the architecture: `TextClassifier` (the
pooled output), `TokenTagger` (every token), `MaskedLM` (the transform, the
tied decoder and its bias). A `BertModel` imports as the backbone alone, to be
given a head by `kzoo train --init-from`. The tokenizer is the checkpoint's own
WordPiece (`tokenizer.json`, or `vocab.txt` through the `tokenizers` library),
packed `[CLS] ... [SEP]`.

Example:
```python
imported = load_bert(CheckpointFolder("bert-base-uncased-sst2"))
imported.model  # TextClassifier
```
"""

from kzoo.checkpoints.checkpoint_error import CheckpointError
from kzoo.checkpoints.config_reader import ConfigReader
from kzoo.checkpoints.hugging_face_tokenizers import bert_tokenizer
from kzoo.checkpoints.imported_checkpoint import ImportedCheckpoint
from kzoo.checkpoints.weight_loader import WeightLoader

HEADS = {
    "BertModel": None,
    "BertForSequenceClassification": "TextClassifier",
    "BertForTokenClassification": "TokenTagger",
    "BertForMaskedLM": "MaskedLM",
}
TASK_KINDS = {"TextClassifier": "classification", "TokenTagger": "tagging", "MaskedLM": "masked_lm", None: None}
IGNORED = (r"position_ids$", r"cls\.predictions\.decoder\.(weight|bias)$")


def bert_config(reader):
    """`EncoderBackbone` arguments from a BERT config, each unsupported option named."""
    reader.require("position_embedding_type", "absolute", "kzoo's encoder has learned absolute positions")
    reader.require("is_decoder", False, "kzoo's BERT is an encoder")
    reader.require("add_cross_attention", False, "kzoo's BERT blocks have no cross-attention")
    width, heads = reader.multiple("hidden_size", of="num_attention_heads")
    return {
        "vocabulary_size": reader.positive("vocab_size"),
        "num_layers": reader.positive("num_hidden_layers"),
        "num_heads": heads,
        "hidden_dim": width,
        "intermediate_dim": reader.positive("intermediate_size"),
        "dropout": float(reader.get("hidden_dropout_prob", 0.1)),
        "max_sequence_length": reader.positive("max_position_embeddings"),
        "num_segments": reader.positive("type_vocab_size"),
        "activation": reader.activation("hidden_act"),
        "layer_norm_epsilon": float(reader.get("layer_norm_eps", 1e-12)),
    }


def _head(architecture, folder):
    """(head class name, head arguments) of the architecture, from the folder's config."""
    name = HEADS[architecture]
    if name in ("TextClassifier", "TokenTagger"):
        count = len(folder.config.get("id2label") or {}) or folder.config.get("num_labels") or 2
        return name, {"num_classes" if name == "TextClassifier" else "num_tags": int(count),
                      "dropout": float(folder.config.get("classifier_dropout") or folder.config.get("hidden_dropout_prob", 0.1))}
    return name, {}


def _load_backbone(loader, backbone, prefix):
    loader.embedding(backbone.token_embedding, f"{prefix}embeddings.word_embeddings.weight")
    loader.assign(backbone.position_embedding.position_embeddings, loader.weights.take(f"{prefix}embeddings.position_embeddings.weight"),
                  f"{prefix}embeddings.position_embeddings.weight")
    loader.embedding(backbone.segment_embedding, f"{prefix}embeddings.token_type_embeddings.weight")
    loader.norm(backbone.embeddings_norm, f"{prefix}embeddings.LayerNorm")
    for index, block in enumerate(backbone.blocks):
        layer = f"{prefix}encoder.layer.{index}"
        loader.attention(block.self_attention, *(f"{layer}.attention.self.{p}" for p in ("query", "key", "value")),
                         f"{layer}.attention.output.dense")
        loader.norm(block.self_attention_norm, f"{layer}.attention.output.LayerNorm")
        loader.linear(block.feed_forward.intermediate_dense, f"{layer}.intermediate.dense")
        loader.linear(block.feed_forward.output_dense, f"{layer}.output.dense")
        loader.norm(block.feed_forward_norm, f"{layer}.output.LayerNorm")


def load_bert(folder, dtype=None):
    """The `ImportedCheckpoint` of a BERT checkpoint folder (a `CheckpointFolder`)."""
    from kzoo.models import EncoderBackbone, MaskedLM, TextClassifier, TokenTagger

    architecture = next((name for name in folder.config.get("architectures") or ["BertModel"] if name in HEADS), None)
    if architecture is None:
        raise CheckpointError(
            f"{folder.path.name}/config.json has architectures={folder.config.get('architectures')!r}; kzoo imports "
            f"{', '.join(HEADS)}."
        )
    reader = ConfigReader(folder)
    backbone = EncoderBackbone(**bert_config(reader), dtype=dtype)
    head, arguments = _head(architecture, folder)
    model = {None: lambda: backbone, "TextClassifier": lambda: TextClassifier(backbone, **arguments),
             "TokenTagger": lambda: TokenTagger(backbone, **arguments), "MaskedLM": lambda: MaskedLM(backbone)}[head]()
    weights = folder.weights
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
    loader = WeightLoader(model, weights)
    _load_backbone(loader, backbone, prefix)
    initialized = []
    if f"{prefix}pooler.dense.weight" in weights:
        loader.linear(backbone.pooler, f"{prefix}pooler.dense")
    else:  # BertForMaskedLM has no pooler: kzoo's stays as initialized.
        initialized.append(loader.keep_initialized(backbone.pooler))
    if head in ("TextClassifier", "TokenTagger"):
        loader.linear(model.get_layer("classifier" if head == "TextClassifier" else "tagger"), "classifier")
    elif head == "MaskedLM":
        loader.linear(model.get_layer("mlm_transform"), "cls.predictions.transform.dense")
        loader.norm(model.get_layer("mlm_norm"), "cls.predictions.transform.LayerNorm")
        loader.assign(model.get_layer("mlm_output_bias").bias, weights.take("cls.predictions.bias"), "cls.predictions.bias")
    loader.finish()
    labels = folder.config.get("id2label")
    return ImportedCheckpoint(
        model=model, tokenizer=bert_tokenizer(folder), family=head or "EncoderBackbone", task_kind=TASK_KINDS[head],
        label_names=[labels[key] for key in sorted(labels, key=int)] if labels and head in ("TextClassifier", "TokenTagger") else None,
        source=str(folder.path), architecture=architecture, unused_tensors=weights.unused(IGNORED),
        initialized_layers=initialized,
    )
