"""`attention_weights(model, inputs)`: every attention layer's weights from one forward pass of any kzoo model."""

from kzoo.layers.attention_recording import record_attention


def attention_weights(model, inputs):
    """Runs `model(inputs, training=False)` eagerly and returns what each attention layer computed in it.

    The weights are those of the model's own forward pass (recorded by the
    layers, `kzoo.layers.record_attention`), not a re-computation: encoder
    self-attention, causal decoder self-attention (its look-ahead zeros
    included), cross-attention, ViT's blocks, and the GRU seq2seq's additive
    attention. Exported graphs are untouched: recording happens only eagerly.

    Args:
        model: a kzoo model (or any Keras model built from kzoo attention layers).
        inputs: what the model takes, e.g. `{"token_ids", "segment_ids", "padding_mask"}`.

    Returns:
        `{layer path: numpy array}`, in call order: `[B, H, T, S]` (batch, head,
        query, key) for multi-head layers, `[B, T, S]` for additive attention.
        Every row sums to 1 over the keys; masked keys get under 1e-9
        (`kzoo.layers.utils.mask_scores` pushes them a fixed margin below the
        row's lowest score, which keeps full-int8 TFLite accurate).

    Example:
    ```python
    maps = attention_weights(classifier, batch)
    first = maps["encoder_block_0/self_attention"]  # [B, H, T, T]
    ```
    """
    with record_attention() as recording:
        model(inputs, training=False)
    return recording.weights
