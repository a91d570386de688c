"""The named graphs a model exports, with explicit input signatures, built from its export description.

Every exported format (SavedModel, TFLite, ONNX) is made from these functions, so
their input and output names are the same everywhere and the runtime can rely on
them. What the graphs are comes from the model family's own
`export_description(max_length)` (`kzoo.models.ExportDescription`: its parts, its
decoding state, how many tokens a step takes); a Keras model without one (a
keras-hub task, say) exports its forward pass alone.

- `serving_default`: the model's full forward pass (named inputs -> `logits`, or
  the model's own output names for a generic Keras model).
- `encode` (encoder-decoders): source ids and mask -> the decoding-state entries
  whose source is "encode".
- `decode_step` (generative models): `token_ids` `[B, T]`, `positions` (`[B]`
  int32, the position of each row's first token), `beam_parents` (`[B]` int32, the
  row of the incoming state each row continues; only when there are `updated`
  entries, and not in a fixed-batch graph)
  and the state -> `logits` `[B, T, V]`, the updated state entries named
  `next_<entry>` (gathered by `beam_parents` inside the graph first) and the new
  positions of the appended entries (KV caches) named `new_<entry>`, which the
  runtime writes into the caches it keeps.

Example:
```python
description = describe(model, max_length=64)
graphs = export_graphs(model, description)
graphs["decode_step"].function, graphs["decode_step"].input_signature
```
"""

import dataclasses

from kzoo.models import ExportDescription


@dataclasses.dataclass
class Graph:
    """A function to export and its input signature (list of named `tf.TensorSpec`)."""

    function: object
    input_signature: list

    def concrete(self):
        import tensorflow as tf

        return tf.function(self.function, input_signature=self.input_signature).get_concrete_function()


def describe(model, max_length=None):
    """The model's `ExportDescription`; for a Keras model that declares none, its forward pass alone."""
    if hasattr(model, "export_description"):
        return model.export_description(max_length)
    return ExportDescription(attention=_config_attention(model))


def _config_attention(model):
    """(num_heads, hidden_dim) from a Keras model's config or its backbone's, else None (a keras-hub task, say)."""
    config = model.get_config()
    backbone = config.get("backbone")
    for part in (config, backbone.get("config", {}) if isinstance(backbone, dict) else {}):
        if "num_heads" in part and "hidden_dim" in part:
            return int(part["num_heads"]), int(part["hidden_dim"])
    return None


def input_specs(model, batch_size=None):
    """Named TensorSpecs for a functional model's inputs (batch and sequence axes dynamic)."""
    import tensorflow as tf

    inputs = model.input if isinstance(model.input, dict) else {t.name: t for t in model.inputs}
    return [tf.TensorSpec([batch_size] + list(tensor.shape[1:]), tensor.dtype, name=name) for name, tensor in inputs.items()]


def export_graphs(model, description, batch_size=None):
    """name -> `Graph` for every part of `description` (see the module docstring).

    `batch_size` fixes the batch axis of every signature (None: dynamic).
    """
    import tensorflow as tf

    specs = input_specs(model, batch_size)

    def serving(*values):
        outputs = model(dict(zip([spec.name for spec in specs], values)), training=False)
        return dict(outputs) if isinstance(outputs, dict) else {"logits": outputs}

    graphs = {"serving_default": Graph(serving, specs)}
    if not description.generative:
        return graphs
    state_specs = [
        tf.TensorSpec([batch_size] + [None if d == -1 else d for d in entry["shape"][1:]], entry["dtype"], name=name)
        for name, entry in description.state.items()
    ]
    token_spec = tf.TensorSpec([batch_size, description.step_tokens], tf.int32, name="token_ids")
    row_specs = [tf.TensorSpec([batch_size], tf.int32, name=name) for name in description.step_inputs(batch_size)]
    names = list(description.state)

    def decode_step(token_ids, *values):
        rows = dict(zip(description.step_inputs(batch_size), values))
        state = dict(zip(names, values[len(rows) :]))
        if "beam_parents" in rows:
            state.update({name: tf.gather(state[name], rows["beam_parents"]) for name in description.updated})
        # Appended entries (KV caches) are read, not written: the step returns their new positions only.
        options = {"write_cache": False} if description.appended else {}
        logits, new_state = model.decode_step(token_ids, state, rows["positions"], **options)
        outputs = {"logits": tf.cast(logits, tf.float32)}
        outputs.update({f"next_{name}": tf.cast(new_state[name], tf.float32) for name in description.updated})
        outputs.update({f"new_{name}": tf.cast(new_state[name], tf.float32) for name in description.appended})
        return outputs

    graphs["decode_step"] = Graph(decode_step, [token_spec] + row_specs + state_specs)
    if description.encoder:
        source_specs = [tf.TensorSpec([batch_size, None], tf.int32, name=name) for name in description.source_inputs]

        def encode(encoder_token_ids, encoder_padding_mask):
            inputs = {"encoder_token_ids": encoder_token_ids, "encoder_padding_mask": encoder_padding_mask}
            state = model.start_decoding(inputs, description.max_length)
            return {
                name: tf.cast(state[name], tf.float32)
                for name, entry in description.state.items()
                if entry["source"] == "encode"
            }

        graphs["encode"] = Graph(encode, source_specs)
    return graphs
