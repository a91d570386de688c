"""GPT-2 checkpoints (`GPT2LMHeadModel`, `GPT2Model`) as a kzoo `CausalLM`.

The config maps onto `DecoderBackbone` arguments (pre-layer-norm blocks, learned
positions, `gelu_new` = tanh GELU, tied output embedding). GPT-2's `Conv1D`
weights are stored `[in, out]`, Keras's `Dense` layout, and `c_attn` already
holds queries, keys and values side by side, as kzoo's fused projection does:
they load without a transpose. The tokenizer is the checkpoint's byte-level BPE,
with `<|endoftext|>` as end token and nothing added in front of a prompt.

Example:
```python
imported = load_gpt2(CheckpointFolder("gpt2"))
imported.model.generate({"token_ids": ids, "padding_mask": mask}, 20, end_token_id=imported.tokenizer.end_id)
```
"""

from kzoo.checkpoints.config_reader import ConfigReader
from kzoo.checkpoints.generation_settings import generation_settings
from kzoo.checkpoints.hugging_face_tokenizers import gpt2_tokenizer
from kzoo.checkpoints.imported_checkpoint import ImportedCheckpoint
from kzoo.checkpoints.weight_loader import WeightLoader

ARCHITECTURES = ("GPT2LMHeadModel", "GPT2Model")
# Causal-mask buffers older checkpoints store, and the tied output projection.
IGNORED = (r"attn\.(masked_)?bias$", r"^lm_head\.weight$")


def gpt2_config(reader):
    """`DecoderBackbone` arguments from a GPT-2 config, each unsupported option named."""
    reader.require("add_cross_attention", False, "kzoo's GPT-2 blocks have no cross-attention")
    reader.require("scale_attn_weights", True, "kzoo scales attention scores by 1/sqrt(head_dim)")
    reader.require("scale_attn_by_inverse_layer_idx", False, "kzoo does not scale attention by layer")
    reader.require("reorder_and_upcast_attn", False, "kzoo computes attention scores in float32 anyway")
    reader.require("tie_word_embeddings", True, "kzoo ties the output projection to the token embedding")
    width, heads = reader.multiple("n_embd", of="n_head")
    return {
        "vocabulary_size": reader.positive("vocab_size"),
        "num_layers": reader.positive("n_layer"),
        "num_heads": heads,
        "hidden_dim": width,
        "intermediate_dim": reader.get("n_inner") or 4 * width,
        "dropout": float(reader.get("resid_pdrop", 0.1)),
        "max_sequence_length": reader.positive("n_positions"),
        "activation": reader.activation("activation_function"),
        "layer_norm_epsilon": float(reader.get("layer_norm_epsilon", 1e-5)),
    }


def load_gpt2(folder, dtype=None):
    """The `ImportedCheckpoint` of a GPT-2 checkpoint folder (a `CheckpointFolder`)."""
    from kzoo.models import CausalLM, DecoderBackbone

    backbone = DecoderBackbone(**gpt2_config(ConfigReader(folder)), dtype=dtype)
    model = CausalLM(backbone)
    weights = folder.weights
    prefix = "transformer." if "transformer.wte.weight" in weights else ""
    loader = WeightLoader(model, weights)
    loader.embedding(backbone.token_embedding, f"{prefix}wte.weight")
    loader.assign(backbone.position_embedding.position_embeddings, weights.take(f"{prefix}wpe.weight"), f"{prefix}wpe.weight")
    for index, block in enumerate(backbone.blocks):
        layer = f"{prefix}h.{index}"
        loader.norm(block.self_attention_norm, f"{layer}.ln_1")
        loader.linear(block.self_attention.query_key_value_dense, f"{layer}.attn.c_attn", transpose=False)
        loader.linear(block.self_attention.output_dense, f"{layer}.attn.c_proj", transpose=False)
        loader.norm(block.feed_forward_norm, f"{layer}.ln_2")
        loader.linear(block.feed_forward.intermediate_dense, f"{layer}.mlp.c_fc", transpose=False)
        loader.linear(block.feed_forward.output_dense, f"{layer}.mlp.c_proj", transpose=False)
    loader.norm(backbone.final_norm, f"{prefix}ln_f")
    loader.finish()
    tokenizer = gpt2_tokenizer(folder)
    return ImportedCheckpoint(
        model=model, tokenizer=tokenizer, family="CausalLM", task_kind="language_modeling",
        decoding=generation_settings(folder, tokenizer), source=str(folder.path),
        architecture=next(iter(folder.config.get("architectures") or ["GPT2LMHeadModel"])),
        unused_tensors=weights.unused(IGNORED),
    )
