"""`BundleModel`: a kzoo bundle served from ONNX Runtime or LiteRT, text in, text out, no TensorFlow.

`kzoo.runtime.load(bundle)` returns one. It reads `manifest.json`, checks every
file the manifest lists against its sha256 (a missing or changed file refuses to
load, naming the file), loads the TF-free tokenizer from `tokenizer/`, and creates
the backend once: its sessions are reused by every call, and every method can be
called from several threads at once (ONNX Runtime sessions are thread-safe; the
LiteRT backend serialises its interpreter with a lock; nothing else is mutable).

What a bundle offers follows its task kind (`manifest["task"]["kind"]`):

| kind                   | method       | input                          | output                                   |
|------------------------|--------------|--------------------------------|------------------------------------------|
| `translation`          | `translate`  | list of str                    | list of str                              |
| `classification`       | `classify`   | list of str                    | per text: label, label_id, probabilities |
| `image_classification` | `classify`   | float array `[B, H, W, C]`     | same                                     |
| `tagging`              | `tag`        | list of str (or of word lists) | per text: a tag per word                 |
| `language_modeling`    | `generate`   | str (or list of str)           | str (or list of str)                     |
| `masked_lm`            | (`predict`)  | packed ids                     | logits per position                      |

The other methods raise `UnsupportedTaskError` naming the task. Below the text
methods, `predict(inputs)` (one forward pass) and `generate_ids(inputs, ...)` (the
decoding loop) take packed id arrays, so a bundle without a tokenizer is usable too.

Texts are tokenized, packed as `[start] + tokens + [end]` (the prompt of a causal LM
as `[start] + tokens`) by `kzoo.runtime.packing`, as the training pipelines of
`kzoo.data` pack them, right-padded to the longest row of the batch, run in chunks
of `batch_size` rows, and decoded back to text. Inputs longer than the bundle takes
are truncated, as the pipelines do; with `truncate=False` they raise
`InputTooLongError` instead (the HTTP server uses that to answer with the limit's
name). The decoding methods take the caller's fields of `DecodingOptions`
(`DECODING_ARGUMENTS`) as keyword arguments; what the caller leaves out comes from
the manifest's `generation` (an imported checkpoint's own decoding defaults, e.g.
OPUS-MT's beam search of 4 with transformers' length normalisation), then from
`DecodingOptions`' defaults.

Manifest fields this reads besides the files and exports:

- `task.kind`: one of the kinds above.
- `task.label_names`: class names (classification) or tag names (tagging); without
  them labels are the ids as strings.
- `max_sequence_length` (top level): the longest input (the source, for
  encoder-decoders). Without it: a causal LM's `max_length`, else the
  `max_sequence_length` in `model.keras`'s config (read as JSON from the zip, no
  Keras needed), else `max_length`.

Example:
```python
from kzoo.runtime import load
translator = load("saved_models/translator", backend="onnx", threads=2)
translator.translate(["three hundred and forty-seven"], strategy="beam", num_beams=4)
```
"""

import dataclasses
import os
import threading
from pathlib import Path

import numpy as np

from kzoo.runtime import decoding
from kzoo.runtime.backends import BACKENDS, open_backend
from kzoo.runtime.errors import BundleError, InputTooLongError, UnsupportedTaskError
from kzoo.runtime.manifest import (
    MANIFEST_FILE,
    find_export,
    read_manifest,
    verify_files,
)
from kzoo.runtime.packing import pack_batch
from kzoo.runtime.validation import check_choice, check_positive_int, check_texts

VARIANTS = {"onnx": ("fp32", "dynamic_int8", "int4"), "tflite": ("fp32", "fp16", "dynamic_int8", "int8")}
# The method each task kind offers.
TASK_METHODS = {
    "translation": "translate",
    "classification": "classify",
    "image_classification": "classify",
    "tagging": "tag",
    "language_modeling": "generate",
}
TASK_KINDS = tuple(TASK_METHODS) + ("masked_lm",)  # Masked-LM bundles offer predict() only.
FORMAT_NAMES = {"onnx": "ONNX", "tflite": "TFLite"}
TOKENIZER_DIR = "tokenizer"
# What a caller chooses of `DecodingOptions`; the special ids come from the bundle.
DECODING_ARGUMENTS = ("strategy", "num_beams", "length_penalty", "top_k", "top_p", "temperature", "seed",
                      "length_normalization", "early_stopping")


def _config_max_sequence_length(path):
    """`max_sequence_length` from a `.keras` file's config.json (a zip member; read without Keras), or None."""
    import json
    import zipfile

    def find(node):
        if isinstance(node, dict):
            if isinstance(node.get("max_sequence_length"), int):
                return node["max_sequence_length"]
            node = list(node.values())
        if isinstance(node, list):
            for child in node:
                found = find(child)
                if found:
                    return found
        return None

    try:
        with zipfile.ZipFile(path) as archive:
            return find(json.loads(archive.read("config.json")))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _softmax(logits):
    logits = np.asarray(logits, "float64")
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


class BundleModel:
    """A loaded bundle: `translate`, `classify`, `tag` or `generate`, whichever its task offers.

    Args:
        path: str or path. The bundle folder (holding `manifest.json`).
        backend: str. `"onnx"` (ONNX Runtime) or `"tflite"` (LiteRT). Defaults to "onnx".
        variant: str or None. The exported variant to run: for ONNX `"fp32"`,
            `"dynamic_int8"` or `"int4"` (weight-only, MatMulNBits); for TFLite `"fp32"`, `"fp16"`, `"dynamic_int8"` or
            `"int8"`. Defaults to "fp32".
        threads: int or None. Intra-op threads of the backend (None: its default).
        optimization: str. ONNX Runtime graph optimisation level: "disable",
            "basic", "extended" or "all". Defaults to "all".
        batch_size: int. Rows per backend call; longer input lists are run in
            chunks. Defaults to 32.

    Attributes:
        manifest: dict. The bundle's manifest.
        kind: str or None. The task kind (see the module docstring).
        tasks: tuple of str. The text methods this bundle offers.
        label_names: list of str or None.
        max_sequence_length: int or None. Longest input in tokens, special tokens included.
        max_length: int or None. Decoding positions (the cache size) of generative bundles.
        tokens_generated: int. New tokens decoded so far (each row through its end token), e.g. for metrics.

    Example:
    ```python
    classifier = BundleModel("saved_models/language_id", backend="tflite")
    classifier.classify(["dobrý den"])[0]["label"]
    ```
    """

    def __init__(self, path, backend="onnx", variant=None, threads=None, optimization="all", batch_size=32):
        check_choice("backend", backend, BACKENDS)
        self.batch_size = check_positive_int("batch_size", batch_size)
        check_positive_int("threads", threads, allow_none=True)
        self.path = Path(os.fspath(path))
        self.manifest = read_manifest(self.path)
        verify_files(self.path, self.manifest)
        self.backend_name = backend
        self.family = self.manifest.get("family")
        self.task = dict(self.manifest.get("task") or {})
        self.kind = self.task.get("kind")
        if self.kind is not None and self.kind not in TASK_KINDS:
            raise BundleError(
                f"Bundle file {MANIFEST_FILE} has task kind {self.kind!r}; this runtime serves {', '.join(TASK_KINDS)}."
            )
        self.tasks = (TASK_METHODS[self.kind],) if self.kind in TASK_METHODS else ()
        self.generation = dict(self.manifest.get("generation") or {})
        self.layout = self.manifest.get("decoding")
        self.generative = bool(self.layout)
        self.seq2seq = "encode" in self.manifest.get("signatures", {})
        self.max_length = self.manifest.get("max_length")
        self.max_sequence_length = self._max_sequence_length()
        self.label_names = self._label_names()
        self.tokenizer = self._load_tokenizer()
        self.special_tokens = self._special_tokens()
        self.variant, self.backend = self._create_backend(backend, variant, threads, optimization)
        self._check_kind_fits_graphs()
        self.tokens_generated = 0
        self._count_lock = threading.Lock()

    # ------------------------------------------------------------------ loading

    def _max_sequence_length(self):
        """Longest input: the manifest's `max_sequence_length`, else the model config's, else `max_length`."""
        for value in (self.manifest.get("max_sequence_length"), self.task.get("max_sequence_length")):
            if value:
                return int(value)
        if not self.seq2seq and self.max_length:  # A causal LM's inputs share its decoding positions.
            return int(self.max_length)
        return _config_max_sequence_length(self.path / "model.keras") or self.max_length

    def _label_names(self):
        names = self.task.get("label_names")
        if names is None:
            return None
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise BundleError(f"Bundle file {MANIFEST_FILE} has task.label_names={names!r:.80}; expected a list of str.")
        return list(names)

    def _load_tokenizer(self):
        folder = self.path / TOKENIZER_DIR
        if not folder.is_dir():
            return None
        from kzoo.runtime.tokenizers import load_tokenizer

        try:
            return load_tokenizer(folder)
        except (OSError, ValueError, KeyError) as error:
            raise BundleError(f"Bundle folder {TOKENIZER_DIR}/ in {self.path} does not load: {error}") from None

    def _special_tokens(self):
        """The manifest's special ids, completed by the tokenizer's; they must agree."""
        special = {key: int(value) for key, value in (self.manifest.get("special_tokens") or {}).items()}
        if self.tokenizer is not None:
            for name, value in self.tokenizer.special_ids.items():
                if special.setdefault(name, value) != value:
                    raise BundleError(
                        f"Bundle file {MANIFEST_FILE} has special_tokens.{name}={special[name]}, but the tokenizer in "
                        f"{TOKENIZER_DIR}/ uses {value}; the bundle was exported with the wrong special tokens."
                    )
        special.setdefault("pad", 0)
        return special

    def _create_backend(self, backend, variant, threads, optimization):
        variant = variant or "fp32"
        if variant not in VARIANTS[backend]:
            raise ValueError(
                f"Received an invalid value for argument `variant`, expected one of {', '.join(VARIANTS[backend])} for "
                f"backend={backend!r}. Received: variant={variant!r}"
            )
        entry = find_export(self.manifest, backend, variant)
        if entry is None:
            raise BundleError(
                f"The bundle {self.path} has no {FORMAT_NAMES[backend]} {variant} export; {self._available()}."
            )
        for filename in sorted(set(entry["parts"].values())):
            if filename not in self.manifest["files"]:
                raise BundleError(f"Bundle file {filename} is not listed in {MANIFEST_FILE}; refusing to load an unchecked file.")
        return variant, open_backend(self.path, entry, threads=threads, optimization=optimization)

    def _available(self):
        names = sorted(f"{FORMAT_NAMES[e['format']]} {e['precision']}" for e in self.manifest.get("exports", {}).values()
                       if e.get("format") in FORMAT_NAMES)
        return f"it has {', '.join(names)}" if names else "it has no ONNX or TFLite export"

    def _check_kind_fits_graphs(self):
        needs = {
            "translation": self.generative and self.seq2seq,
            "language_modeling": self.generative and not self.seq2seq,
            "classification": "token_ids" in self._serving_inputs(),
            "tagging": "token_ids" in self._serving_inputs(),
            "masked_lm": "token_ids" in self._serving_inputs(),
            "image_classification": "images" in self._serving_inputs(),
        }
        if self.kind is not None and not needs[self.kind]:
            raise BundleError(
                f"Bundle file {MANIFEST_FILE} says task kind {self.kind!r}, which a {self.family} export cannot serve."
            )

    def _serving_inputs(self):
        if "serving_default" not in self.backend.parts:
            return []
        return self.backend.input_names("serving_default")

    # ------------------------------------------------------------------ helpers

    def __repr__(self):
        return f"BundleModel({str(self.path)!r}, backend={self.backend_name!r}, variant={self.variant!r}, kind={self.kind!r})"

    def _require(self, method):
        if method not in self.tasks:
            offered = f"it offers {', '.join(f'{m}()' for m in self.tasks)}" if self.tasks else "it offers no text method"
            raise UnsupportedTaskError(
                f"This bundle's task is {self.kind or 'unknown'} ({self.family}); {offered}, not {method}()."
            )

    def _require_tokenizer(self, method):
        if self.tokenizer is None:
            raise BundleError(
                f"{method}() needs the bundle's tokenizer, but {self.path} has no {TOKENIZER_DIR}/ folder; "
                "export with tokenizer_dir=..., or call predict()/generate_ids() with token ids."
            )

    def _chunks(self, count, rows=None):
        size = max(1, self.batch_size // (rows or 1))
        return [slice(start, min(start + size, count)) for start in range(0, count, size)]

    def _pack(self, id_lists, limit, end=True):
        """`[start] + ids + [end]`, cut to `limit`, right-padded to the longest row: (token_ids, padding_mask) int32."""
        return pack_batch(id_lists, start_id=self.special_tokens.get("start"),
                          end_id=self.special_tokens.get("end") if end else None,
                          pad_id=self.special_tokens["pad"], max_length=limit)

    def _check_lengths(self, id_lists, limit, extra, truncate, limit_name="max_sequence_length", note=""):
        if truncate or not limit:
            return
        for index, ids in enumerate(id_lists):
            if len(ids) + extra > limit:
                raise InputTooLongError(index, len(ids) + extra, limit, limit_name, note)

    def _label(self, index):
        return self.label_names[index] if self.label_names and index < len(self.label_names) else str(index)

    # ------------------------------------------------------------------ numeric core

    def predict(self, inputs):
        """One forward pass of `serving_default`: named arrays in, `{output name: array}` out.

        Missing `segment_ids` are zeros. Rows are run in chunks of `batch_size`.

        Example: `model.predict({"token_ids": ids, "padding_mask": mask})["logits"]`.
        """
        if "serving_default" not in self.backend.parts:
            raise UnsupportedTaskError(
                f"This bundle ({self.family}) exports decoding graphs, not one forward pass; use generate_ids()."
            )
        names = self.backend.input_names("serving_default")
        inputs = {name: np.asarray(value) for name, value in inputs.items()}
        if "segment_ids" in names and "segment_ids" not in inputs and "token_ids" in inputs:
            inputs["segment_ids"] = np.zeros_like(inputs["token_ids"], "int32")
        missing = [name for name in names if name not in inputs]
        if missing:
            raise ValueError(
                f"Received an invalid value for argument `inputs`, it lacks {', '.join(missing)} "
                f"(the bundle takes {', '.join(names)})."
            )
        count = len(inputs[names[0]])
        outputs = [self.backend.run("serving_default", {n: inputs[n][part] for n in names}) for part in self._chunks(count)]
        if not outputs:
            return {}
        return {key: np.concatenate([o[key] for o in outputs]) for key in outputs[0]}

    @property
    def default_max_new_tokens(self):
        """New tokens decoded when a call names none: the bundle's `max_length` (encoder-decoders) or 32
        (causal LMs, at most `max_length - 1`)."""
        return self.max_length if self.seq2seq else min(32, self.max_length - 1)

    def decoding_options(self, **choices):
        """`DecodingOptions` for this bundle: its special ids, the `DECODING_ARGUMENTS` given, its `generation` defaults.

        Example: `model.decoding_options(strategy="beam", num_beams=4)`.
        """
        unknown = sorted(set(choices) - set(DECODING_ARGUMENTS))
        if unknown:
            raise TypeError(
                f"Received an invalid argument {', '.join(unknown)}; the decoding methods take "
                f"{', '.join(DECODING_ARGUMENTS)}."
            )
        return decoding.DecodingOptions.from_special_tokens(self.special_tokens, **{**self.generation, **choices})

    def _check_max_new_tokens(self, max_new_tokens, limit):
        check_positive_int("max_new_tokens", max_new_tokens)
        if max_new_tokens + 1 > limit:
            raise ValueError(
                f"Received an invalid value for argument `max_new_tokens`, expected at most {limit - 1} (this bundle "
                f"decodes {self.max_length} positions). Received: max_new_tokens={max_new_tokens}"
            )
        return max_new_tokens

    def generate_ids(self, inputs, max_new_tokens=None, **choices):
        """The decoding loop over packed ids; returns int32 `[B, max_new_tokens]` like the Keras model's `generate`.

        Args:
            inputs: `{"encoder_token_ids", "encoder_padding_mask"}` (encoder-decoders)
                or `{"token_ids", "padding_mask"}` (causal LMs, right-padded prompts).
            max_new_tokens: int or None. Defaults to the bundle's `max_length`
                (encoder-decoders) or 32 (causal LMs, at most `max_length - 1`).
            **choices: `DECODING_ARGUMENTS` (strategy, num_beams, length_penalty,
                top_k, top_p, temperature, seed), as in `translate`.
        """
        if not self.generative:
            raise UnsupportedTaskError(f"This bundle's task is {self.kind or 'unknown'} ({self.family}); it does not decode.")
        if max_new_tokens is None:
            max_new_tokens = self.default_max_new_tokens
        options = self.decoding_options(**choices)
        limit = decoding.decoded_positions(self.max_length, self.seq2seq)
        self._check_max_new_tokens(max_new_tokens, limit)
        keys = ("encoder_token_ids", "encoder_padding_mask") if self.seq2seq else ("token_ids", "padding_mask")
        inputs = {key: np.asarray(inputs[key], "int32") for key in keys}
        count = len(inputs[keys[0]])
        chunks = self._chunks(count, options.num_beams if options.strategy == "beam" else 1)
        # One seed sequence per call, spawned per chunk: chunks draw independent numbers, the call is reproducible.
        seeds = np.random.SeedSequence(options.seed).spawn(max(1, len(chunks))) if options.seed is not None else None
        results = []
        for index, part in enumerate(chunks):
            chunk = {key: value[part] for key, value in inputs.items()}
            width = max(1, int(chunk[keys[1]].sum(1).max()))  # Right padding beyond the chunk's longest row is dropped.
            chunk = {key: value[:, :width] for key, value in chunk.items()}
            chunk_options = dataclasses.replace(options, seed=seeds[index]) if seeds else options
            results.append(decoding.generate(self.backend, self.layout, chunk, max_new_tokens, limit, chunk_options))
        tokens = np.concatenate(results) if results else np.zeros((0, max_new_tokens), "int32")
        self.record_generated(tokens, options.end_token_id)
        return tokens

    def record_generated(self, tokens, end_token_id):
        """Adds the tokens each row decoded (through its end token) to `tokens_generated`."""
        lengths = np.full(len(tokens), tokens.shape[1])
        if end_token_id is not None and tokens.size:
            ended = tokens == end_token_id
            lengths = np.where(ended.any(1), ended.argmax(1) + 1, lengths)
        with self._count_lock:
            self.tokens_generated += int(lengths.sum())

    # ------------------------------------------------------------------ text methods

    def translate(self, texts, max_new_tokens=None, truncate=True, target_language=None, **choices):
        """Translates each text; returns a list of str.

        Args:
            texts: list of str.
            target_language: str or None. For multilingual translators (an
                OPUS-MT model with `>>xx<<` tokens): the language code put in
                front of every text, one of `tokenizer.target_languages`.
            max_new_tokens: int or None. Most target tokens (the end token
                included). Defaults to the bundle's `max_length`.
            truncate: bool. Cut sources longer than `max_sequence_length`
                (True, as training did) or raise `InputTooLongError` (False).
            **choices: how to decode (`DECODING_ARGUMENTS`):
                strategy: "greedy", "beam", "top_k" or "top_p". Defaults to "greedy".
                num_beams: int. Beam width. Defaults to 4.
                length_penalty: float. Length-normalisation exponent for beam search. Defaults to 0.
                length_normalization: "gnmt" or "average" (transformers' rule).
                early_stopping: False, True or "never" (with "average").
                top_k: int or None. For "top_k" (and optionally "top_p").
                top_p: float in (0, 1] or None. For "top_p".
                temperature: float > 0. Divides the logits before sampling. Defaults to 1.
                seed: int or None. Makes sampling reproducible.

        Example: `model.translate(["forty-two"], strategy="beam", num_beams=4)`.
        """
        self._require("translate")
        if not check_texts("texts", texts):
            return []
        inputs = self.decoding_inputs(texts, truncate=truncate, target_language=target_language)
        return self.decode_new_tokens(self.generate_ids(inputs, max_new_tokens, **choices))

    def decoding_inputs(self, texts, max_new_tokens=None, truncate=True, target_language=None):
        """The packed inputs of `generate_ids` for `texts`: a translator's sources or a causal LM's prompts.

        Args:
            texts: non-empty list of str.
            max_new_tokens: int or None. Causal LMs: the new tokens the prompts
                must leave room for (default 32); a longer prompt keeps its last
                tokens (`truncate=True`) or raises `InputTooLongError`.
            truncate: bool. As in `translate`.
            target_language: str or None. As in `translate`.

        Example: `model.decode_new_tokens(model.generate_ids(model.decoding_inputs(["twelve"])))`.
        """
        self._require_tokenizer("translate" if self.seq2seq else "generate")
        texts = check_texts("texts" if self.seq2seq else "prompt", texts)
        if self.seq2seq:
            ids = self.tokenizer.encode(self.tokenizer.with_target_language(texts, target_language))
            self._check_lengths(ids, self.max_sequence_length, 2, truncate)
            token_ids, padding_mask = self._pack(ids, self.max_sequence_length)
            return {"encoder_token_ids": token_ids, "encoder_padding_mask": padding_mask}
        max_new_tokens = self.default_max_new_tokens if max_new_tokens is None else max_new_tokens
        self._check_max_new_tokens(max_new_tokens, self.max_length)
        room = self.max_length - max_new_tokens
        ids = self.tokenizer.encode(texts)
        self._check_lengths(ids, room, 1, truncate, "max_length", f" minus max_new_tokens={max_new_tokens}")
        ids = [row[len(row) - (room - 1):] if len(row) > room - 1 else row for row in ids]  # Keep the latest context.
        token_ids, padding_mask = self._pack(ids, None, end=False)
        return {"token_ids": token_ids, "padding_mask": padding_mask}

    def decode_new_tokens(self, tokens):
        """The texts of `generate_ids`' tokens `[B, N]` (a translator's in its target vocabulary)."""
        if self.seq2seq:
            return self.tokenizer.for_targets().decode_batch(tokens)
        return self.tokenizer.decode_batch(tokens)

    def generate(self, prompt, max_new_tokens=32, truncate=True, **choices):
        """Continues a prompt (or each of a list of prompts); returns the new text only.

        The prompt is `[start] + tokens`; decoding stops at the end token or after
        `max_new_tokens` tokens. With `truncate=True` a prompt too long for
        `max_length - max_new_tokens` keeps its last tokens.

        Args:
            prompt: str or list of str.
            max_new_tokens: int. Defaults to 32 (at most `max_length - 1`).
            truncate: bool. As in `translate`.
            **choices: how to decode, as in `translate`.

        Example: `model.generate("The module", max_new_tokens=20, strategy="top_p", top_p=0.9, seed=0)`.
        """
        self._require("generate")
        self._require_tokenizer("generate")
        single = isinstance(prompt, str)
        prompts = [prompt] if single else check_texts("prompt", prompt)
        if not prompts:
            return []
        inputs = self.decoding_inputs(prompts, max_new_tokens, truncate=truncate)
        texts = self.decode_new_tokens(self.generate_ids(inputs, max_new_tokens, **choices))
        return texts[0] if single else texts

    def prepare_images(self, images, pixel_range=255.0):
        """Images as the exported model expects them: an imported checkpoint's `preprocessing` from the manifest
        (`kzoo.runtime.image_preparation`); a model trained by kzoo takes [0, 1] pixels, given back unchanged.

        `classify` takes prepared images; `pixel_range` is what a full-intensity pixel is in `images` (255 or 1).

        Example: `model.classify(model.prepare_images(photos))`.
        """
        from kzoo.runtime.image_preparation import prepare_images

        preprocessing = self.task.get("preprocessing")
        if not preprocessing:
            return np.asarray(images, "float32") / float(pixel_range)
        return prepare_images(images, preprocessing, pixel_range)

    def classify(self, inputs, truncate=True):
        """Class of each text (or image): a list of `{"label", "label_id", "probabilities"}`.

        `probabilities` is the softmax over every class, in `label_names` order.

        Args:
            inputs: list of str; for image classifiers, float array `[B, H, W, C]`
                (or a list of `[H, W, C]` arrays).
            truncate: bool. Cut texts longer than `max_sequence_length` (True)
                or raise `InputTooLongError` (False).

        Example: `model.classify(["bonjour"])[0]["label"]`.
        """
        self._require("classify")
        if self.kind == "image_classification":
            images = self._images(inputs)
            if not len(images):
                return []
            logits = self.predict({"images": images})["logits"]
        else:
            self._require_tokenizer("classify")
            texts = check_texts("texts", inputs)
            if not texts:
                return []
            ids = self.tokenizer.encode(texts)
            self._check_lengths(ids, self.max_sequence_length, 2, truncate)
            token_ids, padding_mask = self._pack(ids, self.max_sequence_length)
            logits = self.predict({"token_ids": token_ids, "padding_mask": padding_mask})["logits"]
        probabilities = _softmax(logits)
        return [
            {"label": self._label(int(row.argmax())), "label_id": int(row.argmax()), "probabilities": [float(p) for p in row]}
            for row in probabilities
        ]

    def _images(self, images):
        if isinstance(images, (list, tuple)) and not images:
            return np.zeros((0,), "float32")
        try:
            array = np.asarray(images, "float32")
        except (TypeError, ValueError):
            raise TypeError(
                "Received an invalid value for argument `inputs`, expected images as a float array [B, H, W, C]."
            ) from None
        expected = self.backend.input_shapes("serving_default")["images"][1:]
        if array.ndim != len(expected) + 1 or any(e is not None and e != a for e, a in zip(expected, array.shape[1:])):
            shape = "[B, " + ", ".join("?" if e is None else str(e) for e in expected) + "]"
            raise ValueError(
                f"Received an invalid value for argument `inputs`, expected images of shape {shape}. "
                f"Received: shape={list(array.shape)}"
            )
        return array

    def tag(self, texts, truncate=True):
        """A tag for every word: per text, a list of `{"word", "tag", "tag_id", "score"}`.

        A text is split into words on whitespace (or given as a list of words);
        each word is tokenized as the tagging pipeline does and tagged by its
        first sub-token. A word cut off by truncation (or yielding no token) gets
        `tag=None`.

        Args:
            texts: list of str, or list of lists of words.
            truncate: bool. Cut texts longer than `max_sequence_length` (True)
                or raise `InputTooLongError` (False).

        Example: `model.tag(["Anna lives in Berlin"])[0][3]["tag"]  # 'B-LOC'`.
        """
        self._require("tag")
        self._require_tokenizer("tag")
        if isinstance(texts, (str, bytes)) or not isinstance(texts, (list, tuple)):
            check_texts("texts", texts)
        words = [text.split() if isinstance(text, str) else check_texts("texts", text) for text in texts]
        if not words:
            return []
        encoded = [self.tokenizer.encode_words(row) for row in words]
        ids = [pieces for pieces, _ in encoded]
        self._check_lengths(ids, self.max_sequence_length, 2, truncate)
        token_ids, padding_mask = self._pack(ids, self.max_sequence_length)
        probabilities = _softmax(self.predict({"token_ids": token_ids, "padding_mask": padding_mask})["logits"])
        room = self.max_sequence_length - 2 if self.max_sequence_length else float("inf")
        results = []
        for row, (row_words, (_, starts)) in enumerate(zip(words, encoded)):
            tagged = []
            for word, start in zip(row_words, starts):
                if start is None or start >= room:
                    tagged.append({"word": word, "tag": None, "tag_id": None, "score": None})
                    continue
                scores = probabilities[row, 1 + start]
                best = int(scores.argmax())
                tagged.append({"word": word, "tag": self._label(best), "tag_id": best, "score": float(scores[best])})
            results.append(tagged)
        return results
