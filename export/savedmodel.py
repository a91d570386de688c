"""SavedModel: every exported graph as a signature, plus a whole `generate` loop for TF Serving.

The signatures are the named graphs of `export.graphs` (`serving_default`, and
`encode` / `decode_step` for generative models), so their input and output names
are those of the TFLite and ONNX files. A generative model also gets `generate`:
greedy decoding as one graph (source or prompt in, tokens out), built from the
same traced loop as `model.generate` (`kzoo.generation.decoding_loop`), for
servers that cannot run a loop themselves. `SavedModelBackend` runs the saved
signatures for the parity check and the export summary (TensorFlow needed).

Example:
```python
save_savedmodel(model, "saved_models/translator/savedmodel", graphs, description, max_new_tokens=24,
                options=DecodingOptions(start_token_id=2, end_token_id=3))
SavedModelBackend("saved_models/translator/savedmodel").run("encode", {...})
```
"""

import dataclasses

import numpy as np


def save_savedmodel(model, path, graphs, description, max_new_tokens, options):
    """Writes the SavedModel at `path`: one signature per graph, and `generate` for generative models.

    Args:
        model: the Keras model.
        path: str or path. The SavedModel folder to write.
        graphs: name -> `export.graphs.Graph`.
        description: the model's `kzoo.models.ExportDescription`.
        max_new_tokens: int. Tokens the `generate` signature decodes.
        options: `kzoo.runtime.decoding.DecodingOptions` with the special ids.
    """
    import tensorflow as tf

    module = tf.Module()
    module.model = model
    signatures = {name: graph.concrete() for name, graph in graphs.items()}
    if description.generative:
        signatures["generate"] = generate_signature(model, description, max_new_tokens, options)
    tf.saved_model.save(module, str(path), signatures=signatures)


def generate_signature(model, description, max_new_tokens, options):
    """The greedy loop as one concrete function: source (or right-padded prompts) -> `{"tokens"}`.

    Encoder-decoders return the `max_new_tokens` tokens after the start token and
    stop once every row has ended; causal LMs return the prompt followed by
    `max_new_tokens` tokens.
    """
    import tensorflow as tf

    from kzoo.generation import decoding_loop

    greedy = dataclasses.replace(options, strategy="greedy")
    specs = [tf.TensorSpec([None, None], tf.int32, name=name) for name in description.source_inputs]
    if description.encoder:
        loop = decoding_loop(model, greedy, start=1)

        def generate(encoder_token_ids, encoder_padding_mask):
            batch = tf.shape(encoder_token_ids)[0]
            tokens = tf.concat([tf.fill([batch, 1], greedy.start_token_id), tf.fill([batch, max_new_tokens], greedy.pad_token_id)], 1)
            forced = tf.concat([tf.ones([batch, 1], tf.bool), tf.zeros([batch, max_new_tokens], tf.bool)], 1)
            inputs = {"encoder_token_ids": encoder_token_ids, "encoder_padding_mask": encoder_padding_mask}
            return {"tokens": loop(inputs, tokens, forced, tf.ones([batch], tf.int32))[:, 1:]}
    else:
        # Ragged prompts decode from position 1, their own tokens forced; every row runs to the end.
        loop = decoding_loop(model, dataclasses.replace(greedy, end_token_id=None), start=1)

        def generate(token_ids, padding_mask):
            batch = tf.shape(token_ids)[0]
            tokens = tf.concat([token_ids * padding_mask, tf.fill([batch, max_new_tokens], greedy.pad_token_id)], 1)
            forced = tf.concat([tf.cast(padding_mask, tf.bool), tf.zeros([batch, max_new_tokens], tf.bool)], 1)
            return {"tokens": loop({}, tokens, forced, tf.reduce_sum(padding_mask, 1))}

    return tf.function(generate, input_signature=specs).get_concrete_function()


class SavedModelBackend:
    """Runs a SavedModel's signatures (TensorFlow) behind the runtime backends' `run(part, feeds)`.

    Args:
        path: str or path. The SavedModel folder.

    Example:
    ```python
    backend = SavedModelBackend("saved_models/classifier/savedmodel")
    backend.run("serving_default", {"token_ids": ids, "padding_mask": mask})["logits"]
    ```
    """

    name = "savedmodel"

    def __init__(self, path):
        import tensorflow as tf

        self._loaded = tf.saved_model.load(str(path))
        self._signatures = {name: fn for name, fn in self._loaded.signatures.items() if name != "generate"}

    @property
    def parts(self):
        return list(self._signatures)

    def input_names(self, part):
        return list(self._signatures[part].structured_input_signature[1])

    def run(self, part, feeds):
        import tensorflow as tf

        function = self._signatures[part]
        specs = function.structured_input_signature[1]
        arguments = {name: tf.constant(np.asarray(feeds[name]), dtype=spec.dtype) for name, spec in specs.items()}
        return {name: value.numpy() for name, value in function(**arguments).items()}
