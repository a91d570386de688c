"""The decoding loop over an exported `decode_step`, in numpy: greedy, beam, top-k, top-p.

It mirrors `kzoo.generation` (right-padded ragged prompts, forced prompt tokens, one
scalar cache index for the batch, rows frozen after their end token) so a bundle
decodes exactly as the Keras model does. The state entries and their origin come
from the bundle manifest's decoding layout (see `export.signatures`).

Example:
```python
tokens = generate(backend, layout, {"encoder_token_ids": ids, "encoder_padding_mask": mask},
                  max_new_tokens=16, start_token_id=1, end_token_id=2)
```
"""

import numpy as np


def _prompt_buffer(inputs, max_new_tokens, start_token_id, pad_token_id, max_length):
    if "encoder_token_ids" in inputs:
        batch = np.asarray(inputs["encoder_token_ids"]).shape[0]
        prompt, lengths = np.full((batch, 1), start_token_id, "int32"), np.ones(batch, "int32")
    else:
        prompt = np.asarray(inputs["token_ids"], "int32")
        lengths = np.asarray(inputs.get("padding_mask", np.ones_like(prompt))).sum(axis=1).astype("int32")
    total = int(lengths.max()) + max_new_tokens
    if total > max_length:
        raise ValueError(
            f"A prompt of {int(lengths.max())} tokens plus max_new_tokens={max_new_tokens} needs {total} "
            f"positions; this bundle decodes at most {max_length}."
        )
    buffer = np.full((prompt.shape[0], total), pad_token_id, "int32")
    forced = np.zeros(buffer.shape, bool)
    for row, length in enumerate(lengths):
        buffer[row, :length], forced[row, :length] = prompt[row, :length], True
    return buffer, forced, lengths


def start_state(backend, layout, inputs, batch):
    """The initial decoding state: encoder outputs, copied inputs and zero caches."""
    encoded = backend.run("encode", inputs) if "encode" in backend.parts else {}
    state = {}
    for name, entry in layout["state"].items():
        if entry["source"] == "encode":
            state[name] = encoded[name]
        elif entry["source"] == "input":
            state[name] = np.asarray(inputs[name], entry["dtype"])
        else:
            state[name] = np.zeros([batch] + entry["shape"][1:], entry["dtype"])
    return state


def step(backend, layout, token_ids, state, index):
    """One `decode_step`: logits [B, T, V] and the state with its updated entries."""
    outputs = backend.run("decode_step", dict(state, token_ids=token_ids, index=np.array(index, "int32")))
    updated = dict(state)
    for name in layout["updated"]:
        updated[name] = outputs[f"next_{name}"]
    return outputs["logits"], updated


def generate(backend, layout, inputs, max_new_tokens, max_length, start_token_id=None, end_token_id=None, pad_token_id=0):
    """Greedy decoding; returns int32 [B, max_new_tokens] like `kzoo.generation.generate`."""
    buffer, forced, lengths = _prompt_buffer(inputs, max_new_tokens, start_token_id, pad_token_id, max_length)
    batch, total = buffer.shape
    state = start_state(backend, layout, inputs, batch)
    start = int(lengths.min())
    if start > 1:
        _, state = step(backend, layout, buffer[:, : start - 1], state, 0)
    for index in range(start, total):
        logits, state = step(backend, layout, buffer[:, index - 1 : index], state, index - 1)
        chosen = logits[:, -1].argmax(-1).astype("int32")
        buffer[:, index] = np.where(forced[:, index], buffer[:, index], chosen)
        if end_token_id is not None and _all_ended(buffer, forced, end_token_id):
            break
    return new_tokens(buffer, lengths, max_new_tokens, end_token_id, pad_token_id)


def _all_ended(buffer, forced, end_token_id):
    return bool(np.all(np.any((buffer == end_token_id) & ~forced, axis=1)))


def new_tokens(buffer, lengths, max_new_tokens, end_token_id, pad_token_id):
    """Each row's first `max_new_tokens` tokens after its prompt, padded after its end token."""
    rows = np.full((len(lengths), max_new_tokens), pad_token_id, "int32")
    for row, length in enumerate(lengths):
        taken = buffer[row, length : length + max_new_tokens]
        rows[row, : len(taken)] = taken
    if end_token_id is not None:
        ended = np.cumsum(rows == end_token_id, axis=1) > 0
        after_end = np.concatenate([np.zeros_like(ended[:, :1]), ended[:, :-1]], axis=1)
        rows = np.where(after_end, pad_token_id, rows)
    return rows
