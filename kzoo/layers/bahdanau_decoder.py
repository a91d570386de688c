"""The decoder of Bahdanau et al. (2015): attention from the previous state, its context fed into the GRU."""

import keras
from keras import ops

from kzoo.layers import attention_recording
from kzoo.layers.additive_attention import AdditiveAttention
from kzoo.runtime.validation import check_positive_int


@keras.saving.register_keras_serializable(package="kzoo")
class BahdanauDecoder(keras.layers.Layer):
    """A GRU decoder whose attention reads the previous state and whose input carries the context.

    At target step `t`, with `s_{t-1}` the previous decoder state and `h` the
    encoder states:

        c_t = attention(s_{t-1}, h)             # additive score, softmax over the source
        s_t = GRU([embedding(y_{t-1}); c_t], s_{t-1})

    and the layer returns every `s_t` and `c_t` (the model reads its output
    from both). Because each step's attention needs the state the step before
    produced, training cannot run the GRU over the whole target at once (as
    Luong's wiring can): `call` loops over the target with `keras.ops.scan`, and
    `step` is one iteration of that loop for cached decoding. Both use the same
    `GRUCell` and `AdditiveAttention`, so a decode step equals the full pass.

    Args:
        hidden_dim: int. GRU width.
        attention_dim: int. Width of the additive attention. Defaults to hidden_dim.

    Call arguments:
        inputs: `[B, T, E]` embedded target tokens.
        initial_state: `[B, hidden_dim]`.
        keys: `[B, S, D_k]` encoder states.
        keys_mask: optional `[B, S]`, 1 for real source tokens.
        projected_keys: optional `[B, S, attention_dim]` from `attention.project_keys(keys)`.

    Returns states `[B, T, hidden_dim]` and contexts `[B, T, D_k]`. The
    attention weights `[B, T, S]` are recorded once per call under the
    attention layer's path (`kzoo.models.attention_weights`).

    Example:
    ```python
    import numpy as np
    decoder = BahdanauDecoder(hidden_dim=16)
    states, contexts = decoder(np.zeros((2, 3, 8), "float32"), np.zeros((2, 16), "float32"),
                               keys=np.ones((2, 5, 12), "float32"))  # [2, 3, 16], [2, 3, 12]
    ```

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473), Section 3.1 and Appendix A.
    """

    def __init__(self, hidden_dim, attention_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = check_positive_int("hidden_dim", hidden_dim)
        self.attention_dim = check_positive_int("attention_dim", attention_dim or hidden_dim)
        self.cell = keras.layers.GRUCell(self.hidden_dim, dtype=self.dtype_policy, name="cell")
        self.attention = AdditiveAttention(self.attention_dim, dtype=self.dtype_policy, name="attention")

    def build(self, inputs_shape, initial_state_shape=None, keys_shape=None, keys_mask_shape=None,
              projected_keys_shape=None):
        self.attention.build((None, 1, self.hidden_dim), keys_shape)
        self.cell.build((None, inputs_shape[-1] + keys_shape[-1]))
        self.built = True

    def step(self, inputs, state, keys, keys_mask=None, projected_keys=None, record=True):
        """One target token: inputs `[B, E]`, state `[B, H]` -> new state `[B, H]`, context `[B, D_k]`, weights `[B, S]`.

        `record=False` leaves the weights unrecorded (`call` records its loop's once).
        """
        context, weights = self.attention.attend(ops.expand_dims(state, 1), keys, keys_mask, projected_keys)
        if record:
            attention_recording.record(self.attention, weights)
        context, weights = context[:, 0], weights[:, 0]
        state, _ = self.cell(ops.concatenate([inputs, ops.cast(context, inputs.dtype)], axis=-1), [state])
        return state, context, weights  # A GRU's output is its new state.

    def call(self, inputs, initial_state, keys, keys_mask=None, projected_keys=None):
        if projected_keys is None:
            projected_keys = self.attention.project_keys(keys)

        def one_step(carry, token):
            new = self.step(token, carry[0], keys, keys_mask, projected_keys, record=False)
            return new, new  # keras' TensorFlow scan stacks outputs shaped like the carry.

        first = (
            ops.cast(initial_state, self.compute_dtype),
            ops.zeros_like(keys[:, 0, :], dtype=self.compute_dtype),
            ops.zeros_like(keys[:, :, 0], dtype=self.compute_dtype),
        )
        _, stacked = ops.scan(one_step, first, ops.swapaxes(inputs, 0, 1))
        states, contexts, weights = (ops.swapaxes(tensor, 0, 1) for tensor in stacked)
        attention_recording.record(self.attention, weights)
        return states, contexts

    def compute_output_spec(self, inputs, initial_state, keys, keys_mask=None, projected_keys=None):
        return (
            keras.KerasTensor(inputs.shape[:-1] + (self.hidden_dim,), dtype=self.compute_dtype),
            keras.KerasTensor(inputs.shape[:-1] + (keys.shape[-1],), dtype=self.compute_dtype),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_dim": self.hidden_dim, "attention_dim": self.attention_dim})
        return config
