"""`ExportDescription`: what a model family exports, declared by the family in one place.

Like optimum's `OnnxConfig`, each kzoo family says once what its exported graphs
are (`kzoo.models.X.export_description(max_length)`), and everyone downstream
reads that instead of switching on family names: `export.graphs` builds the
graphs from it, `export.bundle` writes its parts, file names, decoding layout and
task kind into the manifest, and the TF-free runtime reads them from there.

The parts of every export:

- `serving_default`: the full forward pass (named inputs -> `logits`).
- `encode` (encoder-decoders): source ids and mask -> the decoding state computed
  once (the `state` entries whose source is "encode").
- `decode_step` (generative models): `token_ids` `[B, T]` (T = `step_tokens` when
  fixed), `positions` (`[B]` int32, the position of each row's first token: rows
  at different lengths step together), `beam_parents` (`[B]` int32, the row of the
  incoming state each row continues: the `updated` entries are reordered inside
  the graph; not in graphs of a fixed batch, which run one row at a time) and the
  state -> `logits` `[B, T, V]`, `next_<entry>` for every `updated` entry (a whole
  new value: the GRU's hidden state) and `new_<entry>` for every `appended` entry
  (a KV cache `[B, 2, H, S, K]`: the step reads it, returns only the T new keys
  and values `[B, 2, H, T, K]`, and the runtime writes them in place at each row's
  positions on axis `POSITION_AXIS` and reorders the cache for beams itself; so no
  step copies a whole cache into or out of the graph).
  Version 1 of this contract (bundles written before) took one scalar `index`
  for the whole batch and no `beam_parents`, and returned whole caches as
  `updated` entries; `kzoo.runtime.decoding` drives both.

`state` maps each decoding-state entry to `{"shape", "dtype", "source"}`: shape
with -1 for the batch (and any dynamic axis), and where the runtime gets it
(`zeros`: it allocates them; `encode`: an output of `encode`; `input`: a copy of a
model input).

Example:
```python
description = model.export_description(max_length=64)
description.parts                 # ('serving_default', 'encode', 'decode_step')
description.onnx_files            # {'encode': 'encoder.onnx', 'decode_step': 'decoder_step.onnx'}
description.decoding_layout()     # the manifest's "decoding" entry
```
"""

import dataclasses

# The decode-step contract this exporter writes (see the module docstring).
DECODE_STEP_CONTRACT = 2
# The axis of an appended state entry (`[B, 2, H, S, K]`) that holds positions.
POSITION_AXIS = 3
# ONNX keeps one file per exported part; these are the file names every bundle uses.
ONNX_FILES = {"serving_default": "model.onnx", "encode": "encoder.onnx", "decode_step": "decoder_step.onnx"}
SOURCE_INPUTS = ("encoder_token_ids", "encoder_padding_mask")
PROMPT_INPUTS = ("token_ids", "padding_mask")


@dataclasses.dataclass(frozen=True)
class ExportDescription:
    """The parts, decoding state and task of one model's exports.

    Args:
        task_kind: str or None. The task kind a bundle of this model serves when
            the exporter is told none (`kzoo.runtime.bundle_model.TASK_KINDS`).
        max_length: int or None. Positions `decode_step` decodes (its cache size).
        state: dict. Decoding-state entries of `decode_step` (see the module
            docstring); empty for a model that does not decode.
        updated: tuple of str. The state entries `decode_step` returns whole (`next_<entry>`).
        appended: tuple of str. The state entries `decode_step` reads and returns
            only the new positions of (`new_<entry>`), for the runtime to write.
        encoder: bool. Whether the model has an `encode` part (encoder-decoders).
        step_tokens: int or None. Tokens per `decode_step` call when fixed
            (the GRU steps its cell one token at a time); None for any number.
        tflite_static_batch: str or None. Why TFLite needs a fixed batch of 1,
            when it does.
        attention: tuple `(num_heads, hidden_dim)` or None, for ONNX Runtime's
            transformer-fusion report.
        special_tokens: tuple of str. The special tokens decoding needs
            ("start" for encoder-decoders' first target token, "end" to stop).

    Example:
    ```python
    ExportDescription(task_kind="classification", attention=(4, 128))
    ```
    """

    task_kind: str = None
    max_length: int = None
    state: dict = dataclasses.field(default_factory=dict)
    updated: tuple = ()
    appended: tuple = ()
    encoder: bool = False
    step_tokens: int = None
    tflite_static_batch: str = None
    attention: tuple = None
    special_tokens: tuple = ()

    @classmethod
    def for_forward_pass(cls, model):
        """The description of a task head whose only export is its forward pass (`model.backbone` has attention)."""
        backbone = model.backbone
        return cls(task_kind=next(iter(model.task_kinds), None), attention=(backbone.num_heads, backbone.hidden_dim))

    @property
    def generative(self):
        """True when the model exports `decode_step`."""
        return bool(self.state)

    @property
    def source_inputs(self):
        """Names of what decoding starts from: the source (encoder-decoders) or the prompt (causal LMs)."""
        return SOURCE_INPUTS if self.encoder else PROMPT_INPUTS

    @property
    def parts(self):
        """Every exported graph: `serving_default`, then `encode` and `decode_step` when the model has them."""
        return ("serving_default",) + (("encode",) if self.encoder else ()) + (("decode_step",) if self.generative else ())

    @property
    def onnx_files(self):
        """ONNX file of each part ONNX exports: the forward pass, or the decoding parts of a generative model."""
        parts = [part for part in self.parts if part != "serving_default"] if self.generative else ["serving_default"]
        return {part: ONNX_FILES[part] for part in parts}

    def step_inputs(self, batch_size=None):
        """The per-row inputs of `decode_step` after `token_ids`: `positions`, and `beam_parents` when there are
        `updated` entries to reorder and the batch is not fixed."""
        return ("positions", "beam_parents") if self.updated and not batch_size else ("positions",)

    def decoding_layout(self):
        """The manifest's `decoding` entry, or None for a model that does not decode.

        `{"contract", "state", "updated", "appended", "position_axis", "step_inputs",
        "prefill"}`: the decode-step contract version, the state entries, those a
        step returns whole and those it returns the new positions of (and their
        positions axis), the per-row inputs of a dynamic-batch step, and whether one
        step takes a whole prompt (`step_tokens` not fixed), so a causal LM's prompt
        is one call.
        """
        if not self.generative:
            return None
        return {
            "contract": DECODE_STEP_CONTRACT,
            "state": {name: dict(entry) for name, entry in self.state.items()},
            "updated": list(self.updated),
            "appended": list(self.appended),
            "position_axis": POSITION_AXIS,
            "step_inputs": ["token_ids", *self.step_inputs()],
            "prefill": self.step_tokens is None,
        }
