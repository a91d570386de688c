"""Shared helpers of the checkpoint tests: the committed transformers fixtures and a Keras backend for the runtime loop.

The fixtures under tests/fixtures/checkpoints/ were written once by
`make_fixtures.py` (transformers + torch, in a scratch environment) with the
reference outputs transformers computed; nothing here needs PyTorch.
"""

import json
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints"
LOGIT_TOLERANCE = 1e-4  # The bar; the measured differences are 5e-7 to 6e-6.


def fixture(name):
    """(folder, reference.json as a dict, reference.npz as a dict of arrays)."""
    folder = FIXTURES / name
    reference = json.loads((folder / "reference.json").read_text())
    with np.load(folder / "reference.npz") as arrays:
        return folder, reference, dict(arrays)


@pytest.fixture(scope="module")
def imported():
    """import_checkpoint, once per fixture name and module (imports build Keras models)."""
    from kzoo.checkpoints import import_checkpoint

    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = import_checkpoint(FIXTURES / name)
        return cache[name]

    return get


class KerasBackend:
    """The runtime's backend interface over a Keras generative model, so `kzoo.runtime.decoding` can drive it."""

    def __init__(self, model, description):
        self.model, self.description = model, description
        self.parts = list(description.parts)

    def input_names(self, part):
        return ["token_ids", *self.description.step_inputs(), *self.description.state]

    def run(self, part, feeds):
        if part == "encode":
            state = self.model.start_decoding(feeds, self.description.max_length)
            return {k: np.asarray(v) for k, v in state.items() if self.description.state[k]["source"] == "encode"}
        state = {name: feeds[name] for name in self.description.state}
        state.update({name: state[name][feeds["beam_parents"]] for name in self.description.updated})
        logits, new = self.model.decode_step(feeds["token_ids"], state, feeds["positions"],
                                             write_cache=not self.description.appended)
        return {"logits": np.asarray(logits), **{f"next_{n}": np.asarray(new[n]) for n in self.description.updated},
                **{f"new_{n}": np.asarray(new[n]) for n in self.description.appended}}


def same_tokens(ours, theirs, pad):
    """`ours` `[B, N]` starts with `theirs` `[B, M <= N]` and is padded after it."""
    width = theirs.shape[1]
    return np.array_equal(ours[:, :width], theirs) and bool((ours[:, width:] == pad).all())
