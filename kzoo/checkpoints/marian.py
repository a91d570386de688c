"""Marian / OPUS-MT checkpoints (`MarianMTModel`) as a kzoo `TransformerSeq2Seq`.

What Marian needs is a set of `TransformerSeq2Seq` options, not a code path of its
own: `activation` (swish, gelu, relu), `scale_embedding`, shared or separate
embeddings and vocabularies (`share_encoder_decoder_embeddings`,
`decoder_vocab_size`), `output_bias` (the `final_logits_bias`),
`position_encoding="sinusoidal_concat"` (Marian's sines-then-cosines table, which
checkpoints do not store), `layer_norm_epsilon=1e-5`, post-layer-norm blocks.
Generation follows generation_config.json: decoding starts from the pad token,
the pad token is never generated (`bad_words_ids`), the end token is forced at
the last position (`forced_eos_token_id`), and beam search scores as
transformers does (length-normalized by `length ** length_penalty`, with its
`early_stopping`).

Example:
```python
imported = load_marian(CheckpointFolder("opus-mt-en-de"))
```
"""

from kzoo.checkpoints.checkpoint_error import CheckpointError
from kzoo.checkpoints.checkpoint_folder import reading_tokenizer
from kzoo.checkpoints.config_reader import ConfigReader
from kzoo.checkpoints.generation_settings import generation_settings, max_new_tokens
from kzoo.checkpoints.imported_checkpoint import ImportedCheckpoint
from kzoo.checkpoints.weight_loader import WeightLoader

ARCHITECTURES = ("MarianMTModel",)
MODEL_TYPES = ("marian",)
# Buffers and tables transformers may store that kzoo computes itself.
IGNORED = (r"embed_positions\.weight$",)


def marian_config(reader):
    """`TransformerSeq2Seq` arguments from a Marian config, each unsupported option named."""
    reader.require("normalize_before", False, "kzoo's Marian blocks are post-layer-norm")
    reader.require("is_encoder_decoder", True, "a Marian translator is an encoder-decoder")
    reader.require("tie_word_embeddings", True, "kzoo ties the output projection to the target embedding")
    heads = reader.same("encoder_attention_heads", "decoder_attention_heads")
    width = reader.same("encoder_ffn_dim", "decoder_ffn_dim")
    shared = reader.get("share_encoder_decoder_embeddings", True)
    vocabulary = reader.positive("vocab_size")
    target = reader.get("decoder_vocab_size") or vocabulary
    if shared and target != vocabulary:
        raise CheckpointError(
            f"{reader.name} has share_encoder_decoder_embeddings=true but decoder_vocab_size={target} differs from "
            f"vocab_size={vocabulary}; a shared embedding has one size."
        )
    return {
        "vocabulary_size": vocabulary,
        "num_layers": reader.positive("encoder_layers"),
        "num_decoder_layers": reader.positive("decoder_layers"),
        "num_heads": heads,
        "hidden_dim": reader.positive("d_model"),
        "intermediate_dim": width,
        "dropout": float(reader.get("dropout", 0.1)),
        "max_sequence_length": reader.positive("max_position_embeddings"),
        "layer_norm_epsilon": 1e-5,
        "activation": reader.activation("activation_function"),
        "scale_embedding": bool(reader.get("scale_embedding", False)),
        "shared_embeddings": bool(shared),
        "target_vocabulary_size": None if shared else target,
        "output_bias": True,
        "position_encoding": "sinusoidal_concat",
    }


def _load_weights(model, weights):
    loader = WeightLoader(model, weights)
    if model.shared_embeddings:
        loader.embedding(model.embedding, "model.shared.weight")
    else:
        loader.embedding(model.source_embedding, "model.encoder.embed_tokens.weight")
        loader.embedding(model.embedding, "model.decoder.embed_tokens.weight")
    # Tied copies transformers may store beside the embedding they equal.
    weights.skip_tied("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight")
    loader.assign(model.logits_bias.bias, weights.take("final_logits_bias").reshape(-1), "final_logits_bias")
    for index, block in enumerate(model.encoder_blocks):
        prefix = f"model.encoder.layers.{index}"
        loader.attention(block.self_attention, *(f"{prefix}.self_attn.{p}" for p in ("q_proj", "k_proj", "v_proj", "out_proj")))
        loader.norm(block.self_attention_norm, f"{prefix}.self_attn_layer_norm")
        loader.linear(block.feed_forward.intermediate_dense, f"{prefix}.fc1")
        loader.linear(block.feed_forward.output_dense, f"{prefix}.fc2")
        loader.norm(block.feed_forward_norm, f"{prefix}.final_layer_norm")
    for index, block in enumerate(model.decoder_blocks):
        prefix = f"model.decoder.layers.{index}"
        loader.attention(block.self_attention, *(f"{prefix}.self_attn.{p}" for p in ("q_proj", "k_proj", "v_proj", "out_proj")))
        loader.norm(block.self_attention_norm, f"{prefix}.self_attn_layer_norm")
        loader.attention(block.cross_attention, *(f"{prefix}.encoder_attn.{p}" for p in ("q_proj", "k_proj", "v_proj", "out_proj")))
        loader.norm(block.cross_attention_norm, f"{prefix}.encoder_attn_layer_norm")
        loader.linear(block.feed_forward.intermediate_dense, f"{prefix}.fc1")
        loader.linear(block.feed_forward.output_dense, f"{prefix}.fc2")
        loader.norm(block.feed_forward_norm, f"{prefix}.final_layer_norm")
    loader.finish()


def _tokenizer(folder):
    from kzoo.data.marian_tokenizer import MarianTokenizer

    names = ("source.spm", "target.spm", "vocab.json")
    missing = [name for name in names if folder.file(name) is None]
    if missing:
        raise CheckpointError(f"{folder.path} has no {', '.join(missing)}; a Marian checkpoint ships its tokenizer files.")
    with reading_tokenizer(folder):
        return MarianTokenizer.from_files(*(folder.file(name) for name in names), folder.file("target_vocab.json"))


def load_marian(folder, dtype=None):
    """The `ImportedCheckpoint` of a Marian checkpoint folder (a `CheckpointFolder`)."""
    from kzoo.models import TransformerSeq2Seq

    config = marian_config(ConfigReader(folder))
    tokenizer = _tokenizer(folder)
    model = TransformerSeq2Seq(**config, dtype=dtype)
    _load_weights(model, folder.weights)
    generation = generation_settings(folder, tokenizer)
    return ImportedCheckpoint(
        model=model, tokenizer=tokenizer, family="TransformerSeq2Seq", task_kind="translation", decoding=generation,
        max_new_tokens=max_new_tokens(folder, config["max_sequence_length"]), source=str(folder.path),
        architecture="MarianMTModel", unused_tensors=folder.weights.unused(IGNORED),
    )
