"""The named graphs a kzoo model exports, with explicit input signatures.

Every exported format (SavedModel, TFLite, ONNX) is made from these functions, so
their input and output names are the same everywhere and the runtime can rely on
them:

- `serving_default`: the model's full forward pass (named inputs -> `logits`, or
  the model's own output names for a generic Keras model).
- `encode` (encoder-decoders): source ids and mask -> the decoding state that is
  computed once (cross-attention keys/values, or GRU encoder outputs).
- `decode_step` (generative models): `token_ids` `[B, T]`, `index` (scalar int32,
  the position of the first token) and the state -> `logits` `[B, T, V]` and the
  updated state entries, named `next_<entry>`.

`decoding_layout(model, max_length)` describes the state for the manifest: for each
entry its shape (batch as -1), dtype, and where it comes from (`zeros`: the runtime
allocates it; `encode`: an output of `encode`; `input`: a copy of a model input).

Example:
```python
graphs = export_graphs(model, max_length=64)
graphs["decode_step"].function, graphs["decode_step"].input_signature
```
"""

import dataclasses


@dataclasses.dataclass
class Graph:
    """A function to export and its input signature (list of named `tf.TensorSpec`)."""

    function: object
    input_signature: list

    def concrete(self):
        import tensorflow as tf

        return tf.function(self.function, input_signature=self.input_signature).get_concrete_function()


def _family(model):
    from kzoo.models import CausalLM, GRUSeq2Seq, TransformerSeq2Seq

    for family in (CausalLM, TransformerSeq2Seq, GRUSeq2Seq):
        if isinstance(model, family):
            return family.__name__
    return None


def is_generative(model):
    return _family(model) is not None


def _input_specs(model, batch_size=None):
    """Named TensorSpecs for a functional model's inputs (batch and sequence axes dynamic)."""
    import tensorflow as tf

    inputs = model.input if isinstance(model.input, dict) else {t.name: t for t in model.inputs}
    specs = []
    for name, tensor in inputs.items():
        shape = [batch_size] + list(tensor.shape[1:])
        specs.append(tf.TensorSpec(shape, tensor.dtype, name=name))
    return specs


def decoding_layout(model, max_length):
    """State entries of `decode_step`: name -> {"shape", "dtype", "source"}; plus `updated`."""
    family = _family(model)
    if family == "CausalLM":
        backbone = model.backbone
        shape = list(backbone.cache_shape(-1, max_length))
        return {"state": {"cache": {"shape": shape, "dtype": "float32", "source": "zeros"}}, "updated": ["cache"]}
    if family == "TransformerSeq2Seq":
        head = model.hidden_dim // model.num_heads
        cache = [-1, 2 * model.num_layers, model.num_heads, max_length, head]
        cross = [-1, 2 * model.num_layers, model.num_heads, -1, head]
        return {
            "state": {
                "cache": {"shape": cache, "dtype": "float32", "source": "zeros"},
                "cross_cache": {"shape": cross, "dtype": "float32", "source": "encode"},
                "encoder_padding_mask": {"shape": [-1, -1], "dtype": "int32", "source": "input"},
            },
            "updated": ["cache"],
        }
    if family == "GRUSeq2Seq":
        return {
            "state": {
                "state": {"shape": [-1, model.hidden_dim], "dtype": "float32", "source": "encode"},
                "encoder_output": {"shape": [-1, -1, 2 * model.hidden_dim], "dtype": "float32", "source": "encode"},
                "projected_keys": {"shape": [-1, -1, model.attention_dim], "dtype": "float32", "source": "encode"},
                "encoder_padding_mask": {"shape": [-1, -1], "dtype": "int32", "source": "input"},
            },
            "updated": ["state"],
        }
    raise ValueError(f"{type(model).__name__} is not a generative kzoo model.")


def needs_static_batch(model):
    """True when TFLite needs a fixed batch: the GRU encoder's while loop keeps a
    TensorList whose element shape `[B, units]` must be static for builtins-only
    conversion ("TensorListReserve requires element_shape to be static")."""
    return _family(model) == "GRUSeq2Seq"


def export_graphs(model, max_length=None, batch_size=None):
    """name -> `Graph` for everything `model` exports (see the module docstring).

    `batch_size` fixes the batch axis of every signature (None: dynamic).
    """
    import tensorflow as tf

    specs = _input_specs(model, batch_size)

    def serving(*values):
        outputs = model(dict(zip([spec.name for spec in specs], values)), training=False)
        return dict(outputs) if isinstance(outputs, dict) else {"logits": outputs}

    graphs = {"serving_default": Graph(serving, specs)}
    family = _family(model)
    if family is None:
        return graphs
    max_length = max_length or model.max_sequence_length
    layout = decoding_layout(model, max_length)
    state_specs = [
        tf.TensorSpec([batch_size] + [None if d == -1 else d for d in entry["shape"][1:]], entry["dtype"], name=name)
        for name, entry in layout["state"].items()
    ]
    # GRU steps one token through its cell; the attention decoders take any T.
    token_spec = tf.TensorSpec([batch_size, 1 if family == "GRUSeq2Seq" else None], tf.int32, name="token_ids")
    index_spec = tf.TensorSpec([], tf.int32, name="index")

    names = list(layout["state"])

    def decode_step(token_ids, index, *state_values):
        state = dict(zip(names, state_values))
        logits, new_state = model.decode_step(token_ids, state, index)
        outputs = {"logits": tf.cast(logits, tf.float32)}
        outputs.update({f"next_{name}": tf.cast(new_state[name], tf.float32) for name in layout["updated"]})
        return outputs

    graphs["decode_step"] = Graph(decode_step, [token_spec, index_spec] + state_specs)
    if family != "CausalLM":
        source_specs = [
            tf.TensorSpec([batch_size, None], tf.int32, name="encoder_token_ids"),
            tf.TensorSpec([batch_size, None], tf.int32, name="encoder_padding_mask"),
        ]

        def encode(encoder_token_ids, encoder_padding_mask):
            inputs = {"encoder_token_ids": encoder_token_ids, "encoder_padding_mask": encoder_padding_mask}
            state = model.start_decoding(inputs, max_length)
            return {
                name: tf.cast(state[name], tf.float32)
                for name, entry in layout["state"].items()
                if entry["source"] == "encode"
            }

        graphs["encode"] = Graph(encode, source_specs)
    return graphs
