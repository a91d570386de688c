"""Write a deployment bundle: every format, its parity report, a manifest; atomically.

`export_bundle` runs the format loop: for each asked format and precision it
builds the variant with the format's module (`export.savedmodel`,
`export.tflite`, `export.onnx`), checks it against the Keras model
(`export.parity.KerasReference`), and records its files. It writes into a
temporary sibling folder and renames it into place at the end, so an
interrupted or failed export never leaves a half bundle. A variant that fails
its parity check raises `ParityError`, or with `skip_failing=True` is left out
and recorded in the manifest with the reason.

What is exported comes from the model's `ExportDescription` (`export.graphs.describe`):
its parts, decoding state, task kind and ONNX file names. The manifest
(version 2, read by `kzoo.runtime.manifest`) records them, each file's sha256
and size, the parity report, and for every variant its format, precision and the
file of each part (`exports`), so readers never rebuild a file name.

Formats are a closed list (`FORMATS`), and so are TFLite quantization variants
(`QUANTIZATIONS`, see `export.tflite` for which quantizer and why), and so are
the ONNX Runtime quantizations of the ONNX files (`ONNX_QUANTIZATIONS`:
`onnx_quantize=("dynamic_int8", "int4")`, see `export.onnx`).

Example:
```python
manifest = export_bundle(model, "saved_models/translator", batch, ExportOptions(
    task={"name": "numbers_en_de", "kind": "translation"}, special_tokens={"start": 2, "end": 3, "pad": 0}))
```
"""

import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from export import onnx, parity, tflite
from export.graphs import describe, export_graphs
from export.savedmodel import SavedModelBackend, save_savedmodel
from kzoo.runtime.decoding import TOKEN_RULES, DecodingOptions
from kzoo.runtime.manifest import MANIFEST_FILE, MANIFEST_VERSION, file_sha256

FORMATS = ("savedmodel", "tflite", "onnx")
QUANTIZATIONS = tflite.QUANTIZATIONS
ONNX_QUANTIZATIONS = onnx.ONNX_QUANTIZATIONS
TOKENIZER_DIR = "tokenizer"


class ExportError(ValueError):
    """A bad export request (unknown format, unbuilt model, unwritable folder, bad option)."""


def _check_choices(name, values, allowed):
    values = (values,) if isinstance(values, str) else tuple(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ExportError(
            f"Received an invalid value for argument `{name}`, expected some of {', '.join(allowed)}. "
            f"Received: {name}={', '.join(map(str, values)) or '(none)'}"
        )
    return values


@dataclasses.dataclass
class ExportOptions:
    """What `export_bundle` writes and how it checks it; the closed lists are checked when built.

    Args:
        formats: some of `FORMATS`. Defaults to all.
        quantize: TFLite variants, some of `QUANTIZATIONS`. Defaults to all.
        onnx_quantize: ONNX Runtime variants to write beside the fp32 ONNX files,
            some of `ONNX_QUANTIZATIONS` (`True` means `("dynamic_int8",)`, as
            before variants were named). Defaults to none.
        labels: true labels / reference tokens for the task metric; without them
            the metric is agreement with the Keras model.
        metric: optional `(name, function)`; `function(outputs) -> float` scores
            the logits (or greedy tokens of generative models) of the sample
            inputs, e.g. BLEU of the decoded tokens against reference texts.
        task: dict describing the task (name, kind, label_names, ...), copied to
            the manifest; its kind defaults to the model family's.
        special_tokens: dict (pad, start, end, unknown, mask ids; `decoder_start`
            where a target begins with another token than `start`, as Marian's).
        generation: dict of `DecodingOptions` fields: how the model wants to be
            decoded (an imported checkpoint's generation_config.json). Recorded
            in the manifest as the bundle's decoding defaults; the parity check
            decodes greedily under its token rules (`TOKEN_RULES`).
        tokenizer_dir: folder copied to `tokenizer/`.
        max_new_tokens: int. Tokens decoded in the parity check of generative models.
        max_length: int or None. Fixed size of the decoding cache (defaults to the model's).
        skip_failing: bool. Leave failing variants out instead of raising.
        allow_select_ops: bool. Allow Select TF ops in TFLite.
        onnx_opset: int. Defaults to 17.
        overwrite: bool. Replace an existing bundle. Defaults to True.
        progress: optional callable(str) told about each step.

    Example:
    ```python
    ExportOptions(formats=["onnx"], special_tokens={"pad": 0, "start": 2, "end": 3}, max_new_tokens=24)
    ```
    """

    formats: tuple = FORMATS
    quantize: tuple = QUANTIZATIONS
    onnx_quantize: tuple = ()
    labels: object = None
    metric: tuple = None
    task: dict = None
    special_tokens: dict = None
    generation: dict = None
    tokenizer_dir: object = None
    max_new_tokens: int = 16
    max_length: int = None
    skip_failing: bool = False
    allow_select_ops: bool = False
    onnx_opset: int = onnx.DEFAULT_OPSET
    overwrite: bool = True
    progress: object = None

    def __post_init__(self):
        self.formats = _check_choices("formats", self.formats, FORMATS)
        if "int4" in ((self.quantize,) if isinstance(self.quantize, str) else tuple(self.quantize)):
            raise ExportError("int4 is written for ONNX only: use onnx_quantize (--onnx-quantize int4); kzoo has no "
                              "LiteRT int4 variant yet.")
        self.quantize = _check_choices("quantize", self.quantize, QUANTIZATIONS) if "tflite" in self.formats else ()
        if isinstance(self.onnx_quantize, bool):
            self.onnx_quantize = ("dynamic_int8",) if self.onnx_quantize else ()
        elif self.onnx_quantize:
            self.onnx_quantize = _check_choices("onnx_quantize", self.onnx_quantize, ONNX_QUANTIZATIONS)
        if self.onnx_quantize and "onnx" not in self.formats:
            raise ExportError("ONNX quantization needs the onnx format; add onnx to formats or drop onnx_quantize.")
        self.onnx_quantize = tuple(self.onnx_quantize or ())
        self.special_tokens = dict(self.special_tokens or {})
        self.task = dict(self.task or {})
        self.generation = dict(self.generation or {})
        if self.generation:  # A bad default fails here, before any export work.
            DecodingOptions.from_special_tokens(self.special_tokens, **self.generation)

    def decoding_options(self):
        """Greedy `DecodingOptions` with these special tokens and the generation's token rules (what parity decodes)."""
        rules = {key: value for key, value in self.generation.items() if key in TOKEN_RULES}
        return DecodingOptions.from_special_tokens(self.special_tokens, **rules)

    def say(self, message):
        if self.progress is not None:
            self.progress(message)


def export_bundle(model, out_dir, sample_inputs, options=None):
    """Export `model` to `out_dir`; returns the manifest dict (also written as manifest.json).

    Args:
        model: a built kzoo model (or any single-call functional Keras model).
        out_dir: the bundle folder to create.
        sample_inputs: dict of named arrays (a batch of task data) for parity and
            int8 calibration. Generative models: the source (or prompt) arrays.
        options: `ExportOptions`. Defaults to every format and variant.

    Raises:
        ExportError: an unbuilt model, a missing special token, an existing or
            unwritable folder.
        export.parity.ParityError: a variant off its tolerance (unless
            `options.skip_failing`).
    """
    options = options or ExportOptions()
    if not getattr(model, "built", False) or not getattr(model, "inputs", None):
        raise ExportError("The model is not built; call it on data (or load a trained run) before exporting.")
    out_dir = Path(out_dir)
    if out_dir.exists() and not options.overwrite:
        raise ExportError(f"{out_dir} already exists; pass overwrite=True to replace it.")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    except OSError as error:
        raise ExportError(f"Cannot write to {out_dir.parent}: {error.strerror}.") from None
    try:
        sample_inputs = {name: np.asarray(value) for name, value in sample_inputs.items()}
        manifest = _BundleWriter(model, folder, sample_inputs, options).write()
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(folder, out_dir)
        return manifest
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


class _BundleWriter:
    """The format loop over one temporary bundle folder; `write()` returns the manifest."""

    def __init__(self, model, folder, sample_inputs, options):
        self.model, self.folder, self.options = model, folder, options
        self.description = describe(model, options.max_length)
        resolved = options.decoding_options()
        ids = {"start": resolved.start_token_id, "end": resolved.end_token_id, "pad": resolved.pad_token_id}
        missing = [name for name in self.description.special_tokens if ids.get(name) is None]
        if missing:
            raise ExportError(
                f"A {type(model).__name__} decodes from special tokens; pass special_tokens with "
                f"{', '.join(missing)} (e.g. the tokenizer's ids). Received: special_tokens={options.special_tokens}"
            )
        self.graphs = export_graphs(model, self.description)
        options.say("computing the Keras reference outputs")
        self.reference = parity.KerasReference(model, self.description, sample_inputs, options)
        self.files, self.variants, self.skipped, self.exports, self.fusions = {}, {}, {}, {}, {}

    def write(self):
        self.model.save(self.folder / "model.keras")
        self._add_files(["model.keras"])
        formats = self.options.formats
        if "savedmodel" in formats:
            self._savedmodel()
        if "tflite" in formats:
            for precision in self.options.quantize:
                self._tflite(precision)
        if "onnx" in formats:
            self._onnx()
        if self.options.tokenizer_dir:
            shutil.copytree(self.options.tokenizer_dir, self.folder / TOKENIZER_DIR)
            self._add_files(sorted(str(p.relative_to(self.folder)) for p in (self.folder / TOKENIZER_DIR).rglob("*")
                                   if p.is_file()))
        manifest = self._manifest()
        (self.folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=_json_default))
        return manifest

    # ------------------------------------------------------------------ one variant

    def _attempt(self, variant, export_format, precision, build, open_backend):
        """Builds a variant (`build() -> {part: file}`), checks its parity and records it; None when skipped."""
        started = time.perf_counter()
        self.options.say(f"exporting {variant}")
        parts = {}
        try:
            parts = build()
            report = self.reference.evaluate(variant, open_backend(parts))
        except parity.ParityError as error:
            if not self.options.skip_failing:
                raise
            self._skip(variant, error, parts)
            return None
        return self._record(variant, export_format, precision, parts, report, started)

    def _record(self, variant, export_format, precision, parts, report, started):
        report["seconds"] = round(time.perf_counter() - started, 2)
        self.variants[variant] = report
        self.exports[variant] = {"format": export_format, "precision": precision, "parts": dict(parts)}
        if export_format != "savedmodel":  # The SavedModel folder is for TensorFlow; the runtime checks files it loads.
            self._add_files(sorted(set(parts.values())))
        return report

    def _skip(self, variant, error, parts):
        self.skipped[variant] = str(error)
        for path in set(parts.values()):
            target = self.folder / path
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)

    def _add_files(self, relatives):
        for relative in relatives:
            path = self.folder / relative
            self.files[relative] = {"sha256": file_sha256(path), "bytes": path.stat().st_size}

    # ------------------------------------------------------------------ the formats

    def _savedmodel(self):
        def build():
            save_savedmodel(self.model, self.folder / "savedmodel", self.graphs, self.description,
                            self.options.max_new_tokens, self.options.decoding_options())
            return {part: "savedmodel" for part in self.graphs}

        self._attempt("savedmodel", "savedmodel", "fp32", build, lambda parts: SavedModelBackend(self.folder / "savedmodel"))

    def _tflite(self, precision):
        from kzoo.runtime.tflite_backend import TFLiteBackend

        static = self.description.tflite_static_batch is not None
        graphs = export_graphs(self.model, self.description, batch_size=1) if static else self.graphs
        filename = f"model_{precision}.tflite"

        def build():
            calibration = tflite.representative_dataset(self.reference, self.graphs, static)
            flatbuffer = tflite.convert_to_tflite({name: graph.concrete() for name, graph in graphs.items()},
                                                  allow_select_ops=self.options.allow_select_ops,
                                                  configure=tflite.quantization(precision, calibration))
            (self.folder / filename).write_bytes(flatbuffer)
            return {part: filename for part in graphs}

        report = self._attempt(f"tflite_{precision}", "tflite", precision, build,
                               lambda parts: TFLiteBackend(self.folder / filename))
        if report is not None and precision == "int8":
            report["float_fallback_ops"] = tflite.float_ops(self.folder / filename)

    def _onnx(self):
        import tensorflow as tf

        from kzoo.runtime.onnx_backend import OnnxBackend

        files = self.description.onnx_files
        manifest_fields = {"task": self._task(), "special_tokens": self.options.special_tokens,
                           "max_length": str(self.description.max_length)}

        def build():
            for part, filename in files.items():
                graph = self.graphs[part]
                proto = onnx.convert_to_onnx(tf.function(graph.function), graph.input_signature, opset=self.options.onnx_opset)
                onnx.embed_metadata(proto, part, manifest_fields)
                (self.folder / filename).write_bytes(proto.SerializeToString())
            return files

        def open_backend(parts):
            return OnnxBackend({part: self.folder / filename for part, filename in parts.items()})

        if self._attempt("onnx", "onnx", "fp32", build, open_backend) is None:
            return
        if self.description.attention:
            self.options.say("ONNX Runtime transformer optimizer: counting fusions")
            self.fusions = {f: onnx.fusion_report(self.folder / f, *self.description.attention) for f in files.values()}
        quantizers = {"dynamic_int8": onnx.quantize_dynamic_int8, "int4": onnx.quantize_int4}
        for precision in self.options.onnx_quantize:
            variant = f"onnx_{precision}"
            started = time.perf_counter()  # Both int8 weight types are tried within the variant's seconds.
            parts, report, error = quantizers[precision](
                self.folder, files, lambda parts, variant=variant: self.reference.evaluate(variant, open_backend(parts)),
                self.options.say)
            if error is not None:
                if not self.options.skip_failing:
                    raise error
                self.skipped[variant] = str(error)
            else:
                self._record(variant, "onnx", precision, parts, report, started)

    # ------------------------------------------------------------------ the manifest

    def _task(self):
        """The caller's task, its kind defaulting to the family's."""
        task = dict(self.options.task)
        task.setdefault("kind", self.description.task_kind)
        return task

    def _manifest(self):
        model, description = self.model, self.description
        return {
            "manifest_version": MANIFEST_VERSION,
            "family": type(model).__name__,
            "task": self._task(),
            "special_tokens": self.options.special_tokens,
            "generation": self.options.generation,
            "max_length": description.max_length,
            "max_sequence_length": getattr(model, "max_sequence_length", None)
            or getattr(getattr(model, "backbone", None), "max_sequence_length", None),
            "max_new_tokens": self.options.max_new_tokens,
            "signatures": {name: [spec.name for spec in graph.input_signature] for name, graph in self.graphs.items()},
            "decoding": description.decoding_layout(),
            "exports": self.exports,
            # What ONNX Runtime's transformer optimizer would fuse (see export.onnx); the files stay standard ops.
            "onnx_fusions": self.fusions,
            "tflite_static_batch": description.tflite_static_batch is not None,
            "files": self.files,
            "parity": {
                "reference_metric": self.reference.reference_metric,
                "metric_name": self.reference.metric_kind,
                "float_tolerance": parity.FLOAT_TOLERANCE,
                "metric_tolerance": parity.METRIC_TOLERANCE,
                "variants": self.variants,
                "skipped": self.skipped,
            },
        }


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"Cannot write {type(value).__name__} to the manifest.")
