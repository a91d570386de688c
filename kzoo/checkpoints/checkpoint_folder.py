"""A Hugging Face checkpoint folder read without PyTorch: config, generation config and weights as numpy.

Weights come from `model.safetensors` (or every shard
`model-0000N-of-0000M.safetensors`; the shards' index is not needed), read
with the `safetensors` package into numpy, or from a TensorFlow `tf_model.h5`,
read with `h5py` and renamed to the PyTorch names (dense kernels transposed) so
one mapping serves both. The renaming is checked against transformers on a
BERT checkpoint only (tests/fixtures/checkpoints/bert_classifier_h5); the other
families' TensorFlow names may differ, and a name it misses is reported as a
missing tensor, never loaded wrongly. A folder holding only `pytorch_model.bin` is refused with the one-line
command that converts it. Every tensor the importer takes is recorded, so what
the checkpoint holds and kzoo does not use can be reported.

Example:
```python
folder = CheckpointFolder("opus-mt-en-de")
folder.config["d_model"], folder.weights.take("model.shared.weight").shape
```
"""

import contextlib
import json
import os
import re
from pathlib import Path

import numpy as np

from kzoo.checkpoints.checkpoint_error import CheckpointError

CONFIG_FILE = "config.json"
GENERATION_CONFIG_FILE = "generation_config.json"
SAFETENSORS_FILE = "model.safetensors"
H5_FILE = "tf_model.h5"
PYTORCH_FILE = "pytorch_model.bin"
CONVERT_COMMAND = (
    "python -c \"import sys; from transformers import AutoModel; "
    "AutoModel.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[1], safe_serialization=True)\" FOLDER"
)


def read_json(path, what):
    """The JSON object in `path`; a `CheckpointError` naming the file when it is damaged."""
    try:
        with open(path, encoding="utf-8") as file:
            value = json.load(file)
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path} is not valid JSON ({error}); the checkpoint's {what} is damaged.") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path} holds no JSON object; the checkpoint's {what} is damaged.")
    return value


@contextlib.contextmanager
def reading_tokenizer(folder):
    """Turns a tokenizer library's failure on a damaged file into one `CheckpointError` sentence.

    sentencepiece raises `RuntimeError` or `OSError`, `tokenizers` a bare
    `Exception`: inside this block any of them means the files cannot be read.
    """
    try:
        yield
    except CheckpointError:
        raise
    except Exception as error:  # noqa: BLE001 - see the docstring: the libraries raise plain exceptions.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{folder.path}'s tokenizer files cannot be read ({reason}); the checkpoint's tokenizer "
                              "is damaged or not the one its config names.") from None


class CheckpointWeights:
    """A checkpoint's tensors by name, as numpy arrays, with a record of which ones were taken.

    Args:
        tensors: dict name -> numpy array.
        source: str. The file(s) they come from, for messages.
    """

    def __init__(self, tensors, source):
        self.tensors, self.source = tensors, source
        self.taken = set()

    def __contains__(self, name):
        return name in self.tensors

    def take(self, name, shape=None):
        """The tensor `name` as float32 numpy, checked against `shape` when given; raises `CheckpointError`."""
        if name not in self.tensors:
            raise CheckpointError(f"{self.source} has no tensor {name}; the checkpoint is incomplete or of another architecture.")
        value = np.asarray(self.tensors[name])
        if shape is not None and tuple(value.shape) != tuple(shape):
            raise CheckpointError(
                f"{self.source}: tensor {name} has shape {tuple(value.shape)}, but the config asks for {tuple(shape)}."
            )
        self.taken.add(name)
        return value.astype("float32") if value.dtype != np.float32 else value

    def skip_tied(self, *names):
        """Count the tensors `names` (those present) as used: tied copies of a tensor already loaded."""
        self.taken.update(name for name in names if name in self.tensors)

    def unused(self, ignored=()):
        """Names of the tensors nobody took, without those matching the `ignored` regular expressions."""
        return sorted(name for name in self.tensors
                      if name not in self.taken and not any(re.search(pattern, name) for pattern in ignored))


class CheckpointFolder:
    """A checkpoint folder: `config`, `generation_config` (or {}), `weights` and the folder's `path`.

    Args:
        path: str or path. A folder written by `save_pretrained` (config.json and weights).

    Raises:
        CheckpointError: no such folder, no config.json, no weights kzoo can read
            (only `pytorch_model.bin`: the message gives the conversion command),
            or a damaged weights file.
    """

    def __init__(self, path):
        self.path = Path(os.fspath(path))
        if not self.path.is_dir():
            raise CheckpointError(f"{self.path} is not a folder; pass the folder of a checkpoint (config.json and its weights).")
        if not (self.path / CONFIG_FILE).is_file():
            raise CheckpointError(f"{self.path} has no {CONFIG_FILE}; pass the folder `save_pretrained` wrote.")
        self.config = read_json(self.path / CONFIG_FILE, "configuration")
        generation = self.path / GENERATION_CONFIG_FILE
        self.generation_config = read_json(generation, "generation configuration") if generation.is_file() else {}
        self._weights = None

    @property
    def weights(self):
        """The tensors, read on first use."""
        if self._weights is None:
            self._weights = self._read_weights()
        return self._weights

    def file(self, name):
        """The path of `name` in the folder, or None when it is not there."""
        path = self.path / name
        return path if path.is_file() else None

    def _read_weights(self):
        shards = sorted(self.path.glob("model-*-of-*.safetensors"))
        if (self.path / SAFETENSORS_FILE).is_file() or shards:
            return CheckpointWeights(self._read_safetensors([self.path / SAFETENSORS_FILE] if not shards else shards),
                                     f"{self.path.name}/{SAFETENSORS_FILE if not shards else 'model-*.safetensors'}")
        if (self.path / H5_FILE).is_file():
            return CheckpointWeights(_read_h5(self.path / H5_FILE), f"{self.path.name}/{H5_FILE}")
        if (self.path / PYTORCH_FILE).is_file():
            raise CheckpointError(
                f"{self.path} holds only PyTorch weights ({PYTORCH_FILE}), which kzoo reads without PyTorch only as "
                f"safetensors; convert them once where transformers is installed: {CONVERT_COMMAND.replace('FOLDER', str(self.path))}"
            )
        raise CheckpointError(f"{self.path} has no weights: expected {SAFETENSORS_FILE} or {H5_FILE}.")

    def _read_safetensors(self, paths):
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        tensors = {}
        for path in paths:
            try:
                tensors.update(load_file(str(path)))
            except (SafetensorError, OSError, ValueError) as error:
                raise CheckpointError(f"{path} does not read as safetensors ({error}); it is truncated or damaged.") from None
        return tensors


def _read_h5(path):
    """A TensorFlow checkpoint's weights under their PyTorch names, dense kernels transposed to `[out, in]`."""
    import h5py

    tensors = {}
    try:
        with h5py.File(path, "r") as file:
            def visit(name, node):
                if isinstance(node, h5py.Dataset):
                    pt_name, transpose = _pytorch_name(name)
                    value = np.asarray(node)
                    tensors[pt_name] = value.T if transpose else value

            file.visititems(visit)
    except OSError as error:
        raise CheckpointError(f"{path} does not read as HDF5 ({error}); it is truncated or damaged.") from None
    return tensors


def _pytorch_name(h5_name):
    """(PyTorch name, transpose?) of a transformers TensorFlow weight, as transformers' own conversion names them."""
    name = h5_name.replace(":0", "")
    parts = name.split("/")
    # Keras stores "<layer>/<model>/<path>/<weight>"; the first two levels are the model's own scope.
    parts = [part for part in parts[2:] if part] if len(parts) > 2 else parts
    parts = [re.sub(r"^layer_._(\d+)$", r"layer.\1", part) for part in parts]
    leaf = parts[-1]
    transpose = leaf == "kernel"
    parts[-1] = {"kernel": "weight", "gamma": "weight", "beta": "bias", "embeddings": "weight"}.get(leaf, leaf)
    return ".".join(parts), transpose
