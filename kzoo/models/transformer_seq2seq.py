"""The encoder-decoder Transformer of Vaswani et al. (2017), with the options pretrained checkpoints need."""

import math

import keras
from keras import ops

from kzoo.generation import generate
from kzoo.layers import OutputBias, TransformerDecoderBlock, TransformerEncoderBlock
from kzoo.layers.position_encodings import (
    POSITION_ENCODINGS,
    additive_position_layer,
    encode_positions,
    rotary_max_wavelength,
)
from kzoo.layers.utils import check_activation
from kzoo.models.export_description import ExportDescription
from kzoo.models.serialization import backbone_config, set_dtype_policy
from kzoo.runtime.validation import check_choice, check_positive_int, check_rate



@keras.saving.register_keras_serializable(package="kzoo")
class TransformerSeq2Seq(keras.Model):
    """Encoder-decoder Transformer: Vaswani et al. (2017) by default, Marian / OPUS-MT by its options.

    By default, as in the paper, source and target share one vocabulary and one
    embedding matrix, which is also the output projection; embeddings are scaled
    by sqrt(hidden_dim); positions are sinusoidal; blocks are post-layer-norm with
    ReLU. The options cover what pretrained checkpoints differ in (Marian's:
    `activation="swish"`, `position_encoding="sinusoidal_concat"`,
    `output_bias=True`, separate embeddings and vocabularies for multilingual
    models, `layer_norm_epsilon=1e-5`); `kzoo.checkpoints` sets them from a
    checkpoint's config.

    Inputs: `encoder_token_ids` `[B, S]`, `encoder_padding_mask` `[B, S]`,
    `decoder_token_ids` `[B, T]` (target shifted right, starting with the start
    token), `decoder_padding_mask` `[B, T]`. Output: logits `[B, T, V_target]` (float32).

    Decoding (`kzoo.generation`): `start_decoding` runs the encoder once and
    computes every layer's cross-attention keys/values once; `decode_step` runs
    the decoder blocks over the fixed-size self-attention cache. Both reuse the
    layers (and the `_encode` / `_decode` functions) of the full forward pass.

    Args:
        vocabulary_size: int. The source vocabulary (shared with the target by default).
        num_layers: int. Encoder blocks (N in the paper), and decoder blocks unless
            `num_decoder_layers` says otherwise.
        num_heads: int.
        hidden_dim: int (d_model).
        intermediate_dim: int (d_ff).
        dropout: float. Defaults to 0.1.
        max_sequence_length: int. Longest source or target. Defaults to 256.
        layer_norm_epsilon: float. Defaults to 1e-6.
        num_decoder_layers: int or None. Decoder blocks; None: `num_layers`.
        activation: str. Feed-forward activation (`kzoo.layers.utils.ACTIVATIONS`).
            Defaults to "relu".
        scale_embedding: bool. Multiply embeddings by sqrt(hidden_dim). Defaults to True.
        shared_embeddings: bool. One embedding for source, target and output
            projection (True, the default), or a source embedding and a target
            embedding tied to the output projection (False).
        target_vocabulary_size: int or None. The target vocabulary when the
            embeddings are not shared; None: `vocabulary_size`.
        output_bias: bool. A learned bias on the logits (Marian's
            `final_logits_bias`). Defaults to False.
        position_encoding: str. "sinusoidal" (the paper's interleaved sines and
            cosines, the default), "sinusoidal_concat" (sines then cosines:
            tensor2tensor's and Marian's layout), "learned" (one table for the
            encoder, one for the decoder), "rotary" (in every self-attention;
            cross-attention stays position-free) or "none"
            (`kzoo.layers.position_encodings`).
        dtype: dtype policy.

    Example:
    ```python
    model = TransformerSeq2Seq(vocabulary_size=100, num_layers=2, num_heads=4,
                               hidden_dim=64, intermediate_dim=128)
    logits = model({"encoder_token_ids": src, "encoder_padding_mask": src_mask,
                    "decoder_token_ids": tgt_in, "decoder_padding_mask": tgt_mask})
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Junczys-Dowmunt et al., 2018, Marian](https://arxiv.org/abs/1804.00344)
    """

    task_kinds = ("translation",)

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=256,
        layer_norm_epsilon=1e-6,
        num_decoder_layers=None,
        activation="relu",
        scale_embedding=True,
        shared_embeddings=True,
        target_vocabulary_size=None,
        output_bias=False,
        position_encoding="sinusoidal",
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_positive_int("num_layers", num_layers)
        check_positive_int("num_decoder_layers", num_decoder_layers, allow_none=True)
        check_positive_int("max_sequence_length", max_sequence_length)
        check_positive_int("target_vocabulary_size", target_vocabulary_size, allow_none=True)
        check_rate("dropout", dropout)
        check_activation(activation)
        check_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        if shared_embeddings and target_vocabulary_size not in (None, vocabulary_size):
            raise ValueError(
                "Received an invalid value for argument `target_vocabulary_size`, expected None (or vocabulary_size) "
                f"with shared_embeddings=True. Received: target_vocabulary_size={target_vocabulary_size}"
            )

        def embedding(size, name):
            return keras.layers.ReversibleEmbedding(
                size, hidden_dim, embeddings_initializer=keras.initializers.RandomNormal(stddev=hidden_dim**-0.5),
                dtype=dtype, name=name,
            )

        if shared_embeddings:
            source_embedding = target_embedding = embedding(vocabulary_size, "shared_embedding")
        else:
            source_embedding = embedding(vocabulary_size, "encoder_embedding")
            target_embedding = embedding(target_vocabulary_size or vocabulary_size, "decoder_embedding")
        if position_encoding == "learned":  # A table per side; the fixed encodings have no weights to share.
            encoder_positions, decoder_positions = (
                additive_position_layer("learned", max_sequence_length, dtype, f"{side}_position_embedding")
                for side in ("encoder", "decoder")
            )
        else:
            encoder_positions = decoder_positions = additive_position_layer(
                position_encoding, max_sequence_length, dtype, "position_encoding"
            )
        encoder_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="encoder_embedding_dropout")
        decoder_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="decoder_embedding_dropout")
        block_args = dict(
            num_heads=num_heads,
            intermediate_dim=intermediate_dim,
            dropout=dropout,
            activation=activation,
            layer_norm_epsilon=layer_norm_epsilon,
            rotary_max_wavelength=rotary_max_wavelength(position_encoding),
            dtype=dtype,
        )
        encoder_blocks = [TransformerEncoderBlock(**block_args, name=f"encoder_block_{i}") for i in range(num_layers)]
        decoder_blocks = [
            TransformerDecoderBlock(**block_args, name=f"decoder_block_{i}") for i in range(num_decoder_layers or num_layers)
        ]
        logits_bias = OutputBias(target_vocabulary_size or vocabulary_size, dtype=dtype, name="logits_bias") if output_bias else None

        self._scale = math.sqrt(hidden_dim) if scale_embedding else None
        self._encoder_layers = (source_embedding, encoder_positions, encoder_dropout, encoder_blocks)
        self._decoder_layers = (target_embedding, decoder_positions, decoder_dropout, decoder_blocks)
        self._logits_bias = logits_bias
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("encoder_token_ids", "encoder_padding_mask", "decoder_token_ids", "decoder_padding_mask")
        }
        encoded = self._encode(inputs["encoder_token_ids"], inputs["encoder_padding_mask"])
        hidden = self._decode(
            inputs["decoder_token_ids"],
            encoder_output=encoded,
            encoder_padding_mask=inputs["encoder_padding_mask"],
            decoder_padding_mask=inputs["decoder_padding_mask"],
        )
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(self._project(hidden))
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)
        set_dtype_policy(self, dtype)
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.layer_norm_epsilon = layer_norm_epsilon
        self.num_decoder_layers = num_decoder_layers
        self.activation = activation
        self.scale_embedding = scale_embedding
        self.shared_embeddings = shared_embeddings
        self.target_vocabulary_size = target_vocabulary_size
        self.output_bias = output_bias
        self.position_encoding = position_encoding
        self.source_embedding = source_embedding
        self.embedding = target_embedding
        self.logits_bias = logits_bias
        self.encoder_blocks = encoder_blocks
        self.decoder_blocks = decoder_blocks

    @property
    def decoded_vocabulary_size(self):
        """Size of the vocabulary the decoder reads and writes (the target's)."""
        return self.target_vocabulary_size or self.vocabulary_size

    def _embed(self, layers, token_ids, start_index=0):
        embedding, positions, dropout, _ = layers
        x = embedding(token_ids)
        if self._scale is not None:
            x = x * self._scale  # A Python float: a graph constant, not a captured tensor.
        if positions is not None:
            x = x + encode_positions(positions, x, start_index)
        return dropout(x)

    def _project(self, hidden):
        """Decoder output [B, T, D] -> logits [B, T, V_target] through the tied target embedding (and bias)."""
        logits = self._decoder_layers[0](hidden, reverse=True)
        return logits if self._logits_bias is None else self._logits_bias(logits)

    def _encode(self, token_ids, padding_mask):
        """[B, S] -> encoder output [B, S, D]."""
        x = self._embed(self._encoder_layers, token_ids)
        for block in self._encoder_layers[3]:
            x = block(x, padding_mask=padding_mask)
        return x

    def _decode(
        self,
        token_ids,
        encoder_output=None,
        encoder_padding_mask=None,
        decoder_padding_mask=None,
        state=None,
        cache_index=None,
        write_cache=True,
    ):
        """The decoder, uncached over a whole target, or cached from `cache_index` over `state`'s caches.

        Cached, it returns the hidden states and the updated `cache_<layer>` entries
        (with `write_cache=False`, each layer's new keys and values instead).
        """
        x = self._embed(self._decoder_layers, token_ids, start_index=0 if cache_index is None else cache_index)
        updated = {}
        for layer, block in enumerate(self._decoder_layers[3]):
            if state is None:
                x = block(
                    x,
                    encoder_output,
                    decoder_padding_mask=decoder_padding_mask,
                    encoder_padding_mask=encoder_padding_mask,
                )
            else:
                x, updated[f"cache_{layer}"] = block(
                    x,
                    encoder_padding_mask=encoder_padding_mask,
                    self_attention_cache=state[f"cache_{layer}"],
                    cache_index=cache_index,
                    cross_attention_cache=state[f"cross_cache_{layer}"],
                    write_cache=write_cache,
                )
        return x if state is None else (x, updated)

    def encode(self, encoder_token_ids, encoder_padding_mask):
        """Source [B, S] -> encoder output [B, S, D] (inference mode)."""
        return self._encode(encoder_token_ids, encoder_padding_mask)

    def start_decoding(self, inputs, max_length):
        """Encode once; return `{"cache_<l>", "cross_cache_<l>" for each decoder layer l, "encoder_padding_mask"}`.

        `cache_<l>` is `[B, 2, H, max_length, K]` zeros (keys, then values);
        `cross_cache_<l>` holds layer l's projected encoder keys and values
        `[B, 2, H, S, K]`. One entry per layer, not one tensor for all: an exported
        step then reads each layer's cache where it lies, instead of slicing
        copies out of one tensor and concatenating them back every step.
        """
        token_ids, padding_mask = inputs["encoder_token_ids"], inputs["encoder_padding_mask"]
        encoded = self._encode(token_ids, padding_mask)
        batch_size = ops.shape(token_ids)[0]
        head_dim = self.hidden_dim // self.num_heads
        state = {"encoder_padding_mask": padding_mask}
        for layer, block in enumerate(self.decoder_blocks):
            state[f"cache_{layer}"] = ops.zeros((batch_size, 2, self.num_heads, max_length, head_dim), self.compute_dtype)
            state[f"cross_cache_{layer}"] = block.compute_cross_attention_cache(encoded)
        return state

    def decode_step(self, token_ids, state, index, write_cache=True):
        """token_ids [B, T] at positions index.. (a scalar, or [B]: a position per row) -> logits [B, T, V] (float32), new state.

        With `write_cache=False` the returned state holds each `cache_<layer>`'s new
        keys and values `[B, 2, H, T, K]` instead of the updated cache (see
        `ExportDescription.appended`).
        """
        hidden, caches = self._decode(token_ids, encoder_padding_mask=state["encoder_padding_mask"], state=state,
                                      cache_index=index, write_cache=write_cache)
        logits = ops.cast(self._project(hidden), "float32")
        return logits, dict(state, **caches)

    def export_description(self, max_length=None):
        """`encode` (cross-attention keys/values once) and a `decode_step` over the self-attention caches."""
        max_length = max_length or self.max_sequence_length
        head, layers = self.hidden_dim // self.num_heads, len(self.decoder_blocks)
        state = {}
        for layer in range(layers):
            state[f"cache_{layer}"] = {"shape": [-1, 2, self.num_heads, max_length, head], "dtype": "float32",
                                       "source": "zeros"}
        for layer in range(layers):
            state[f"cross_cache_{layer}"] = {"shape": [-1, 2, self.num_heads, -1, head], "dtype": "float32",
                                             "source": "encode"}
        state["encoder_padding_mask"] = {"shape": [-1, -1], "dtype": "int32", "source": "input"}
        return ExportDescription(
            task_kind=self.task_kinds[0],
            max_length=max_length,
            state=state,
            appended=tuple(f"cache_{layer}" for layer in range(layers)),
            encoder=True,
            attention=(self.num_heads, self.hidden_dim),
            special_tokens=("start",),
        )

    def generate(self, inputs, max_new_tokens, **kwargs):
        """Decode with a KV cache; see `kzoo.generation.generate` for every option."""
        return generate(self, inputs, max_new_tokens, **kwargs)

    def get_config(self):
        return backbone_config(
            self,
            "vocabulary_size",
            "num_layers",
            "num_heads",
            "hidden_dim",
            "intermediate_dim",
            "dropout",
            "max_sequence_length",
            "layer_norm_epsilon",
            "num_decoder_layers",
            "activation",
            "scale_embedding",
            "shared_embeddings",
            "target_vocabulary_size",
            "output_bias",
            "position_encoding",
        )
