"""Write a deployment bundle: every format, its parity report, a manifest; atomically.

`export_bundle` writes into a temporary sibling folder and renames it into place at
the end, so an interrupted or failed export never leaves a half bundle. Each
variant is checked against the Keras model on the given sample inputs (see
`export.parity`); a variant that fails raises `ParityError`, or with
`skip_failing=True` is left out and recorded in the manifest with the reason.

Formats are a closed list (`FORMATS`), and so are TFLite quantization variants
(`QUANTIZATIONS`). ONNX files can also be quantized dynamically with ONNX Runtime
(`onnx_quantize=True`): both QInt8 and QUInt8 weights are tried and the one with
the better task metric is kept.

Which quantizer, and what stays float. TFLite variants are quantized with the
TFLite converter's post-training quantization, not ai-edge-quantizer (0.10), because
it holds accuracy with smaller files. Measured on the quickstart translator
(transformer_small on numbers_en_de; BLEU of greedy output on 64 test phrases;
Keras 93.3): converter dynamic int8 0.30x the fp32 file, BLEU 93.3 (per-tensor
dense weights, see `_configure_quantization`); converter full int8 0.38x, BLEU
92.8; ai-edge-quantizer dynamic_wi8_afp32 0.59x, BLEU 93.3; weight_only_wi8 0.59x,
BLEU 94.0; static_wi8_ai8 0.41x, BLEU 93.2 but a largest
logit error of 125 (1.24 for the converter's full int8). ai-edge-quantizer also pins
ai-edge-litert to one exact version. For full int8 the converter keeps the
attention score products (the activation x activation BATCH_MATMULs of self- and
cross-attention) and the sinusoidal position encoding (SIN, COS, RANGE) in float;
every projection, feed-forward and embedding runs int8. Those float ops are
listed per bundle (`float_fallback_ops` in the manifest). Quantizing the score
products too, as the static a8w8 recipe does, is where the logits blow up here
(largest error 125): the likely cause of the repeated tokens users report for
int8 encoder-decoders.

Example:
```python
manifest = export_bundle(model, "saved_models/translator", sample_inputs=batch,
                         task={"name": "numbers_en_de", "kind": "translation"},
                         special_tokens={"start": 1, "end": 2, "pad": 0})
```
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from export import parity
from export.signatures import decoding_layout, export_graphs, is_generative, needs_static_batch

FORMATS = ("savedmodel", "tflite", "onnx")
QUANTIZATIONS = ("fp32", "fp16", "dynamic_int8", "int8")
MANIFEST_VERSION = 1


class ExportError(ValueError):
    """A bad export request (unknown format, unbuilt model, unwritable folder, bad option)."""


def _check_choices(name, values, allowed):
    values = tuple(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ExportError(
            f"Received an invalid value for argument `{name}`, expected some of {', '.join(allowed)}. "
            f"Received: {name}={', '.join(map(str, values)) or '(none)'}"
        )
    return values


def check_options(formats, quantize):
    """(formats, quantize) as tuples; raises `ExportError` for a value outside `FORMATS` / `QUANTIZATIONS`."""
    formats = _check_choices("formats", formats, FORMATS)
    return formats, (_check_choices("quantize", quantize, QUANTIZATIONS) if "tflite" in formats else ())


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _keras_reference(model, sample_inputs, generation):
    """Keras outputs on the sample inputs (and greedy tokens for generative models)."""
    from export.signatures import _input_specs

    names = [spec.name for spec in _input_specs(model)]
    if is_generative(model):
        tokens = model.generate(_source(sample_inputs), generation["max_new_tokens"], **_token_args(generation))
        return {"tokens": tokens}
    outputs = model.predict({name: sample_inputs[name] for name in names}, verbose=0)
    return dict(outputs) if isinstance(outputs, dict) else {"logits": outputs}


def _source(sample_inputs):
    keys = ("encoder_token_ids", "encoder_padding_mask") if "encoder_token_ids" in sample_inputs else ("token_ids", "padding_mask")
    return {key: np.asarray(sample_inputs[key]) for key in keys}


def _token_args(generation):
    return {key: generation[key] for key in ("start_token_id", "end_token_id", "pad_token_id") if generation.get(key) is not None}


def _metric(kind, outputs, labels, sample_inputs):
    """The task metric in percent: accuracy, token accuracy or exact match."""
    if kind == "exact_match":
        return 100.0 * float(np.mean(np.all(outputs == labels, axis=1)))
    predictions = outputs.argmax(-1)
    if kind == "token_accuracy":
        weights = np.asarray(sample_inputs.get("padding_mask", np.ones(labels.shape)), bool)
        return 100.0 * float(np.mean(predictions[weights] == labels[weights]))
    return 100.0 * float(np.mean(predictions == labels))


def _metric_kind(model, reference):
    if is_generative(model):
        return "exact_match"
    return "token_accuracy" if reference["logits"].ndim == 3 else "accuracy"


class _Exporter:
    def __init__(self, model, folder, sample_inputs, generation, labels, allow_select_ops, onnx_opset, metric=None):
        self.model, self.folder, self.sample_inputs, self.metric = model, folder, sample_inputs, metric
        self.generation, self.allow_select_ops, self.onnx_opset = generation, allow_select_ops, onnx_opset
        self.generative = is_generative(model)
        self.graphs = export_graphs(model, generation.get("max_length"))
        self.reference = _keras_reference(model, sample_inputs, generation)
        key = "tokens" if self.generative else "logits"
        self.metric_kind = metric[0] if metric else (_metric_kind(model, self.reference) if not self.generative else "exact_match")
        # Without labels the metric is agreement with the Keras model itself.
        self.labels = labels if labels is not None else (
            self.reference[key] if self.generative else self.reference[key].argmax(-1)
        )
        self.reference_metric = self._score(self.reference[key])
        self.layout = decoding_layout(model, generation["max_length"]) if self.generative else None

    def _score(self, outputs):
        if self.metric:
            return float(self.metric[1](outputs))
        return _metric(self.metric_kind, outputs, self.labels, self.sample_inputs)

    def evaluate(self, variant, backend):
        """Parity report of one backend: output diffs, greedy tokens, task metric."""
        from export.runtime import decoding

        if self.generative:
            tokens = decoding.generate(
                backend,
                self.layout,
                _source(self.sample_inputs),
                self.generation["max_new_tokens"],
                self.generation["max_length"] + (1 if "encoder_token_ids" in self.sample_inputs else 0),
                **_token_args(self.generation),
            )
            report = self._step_diff(variant, backend)
            report["token_mismatches"] = int(np.sum(tokens != self.reference["tokens"]))
            outputs = tokens
        else:
            feeds = {name: self.sample_inputs[name] for name in backend.input_names("serving_default")}
            actual = backend.run("serving_default", feeds)
            report = parity.compare_outputs(variant, self.reference, actual)
            outputs = actual["logits"]
        report["metric_name"] = self.metric_kind
        report["metric"] = self._score(outputs)
        return parity.check(report, self.reference_metric)

    def _step_diff(self, variant, backend):
        """Logits of every decode step of Keras's greedy path through the exported step."""
        from export.runtime import decoding

        expected, actual = [], []
        for feeds in self.decode_feeds():
            logits, _ = decoding.step(backend, self.layout, feeds["token_ids"], _state(feeds, self.layout), int(feeds["index"]))
            keras_logits, _ = self.model.decode_step(feeds["token_ids"], _state(feeds, self.layout), int(feeds["index"]))
            expected.append(np.asarray(keras_logits))
            actual.append(logits)
        return parity.compare_outputs(variant, {"logits": np.concatenate(expected, 1)}, {"logits": np.concatenate(actual, 1)})

    def decode_feeds(self):
        """decode_step inputs along Keras's greedy path: one dict per step (T = 1)."""
        if hasattr(self, "_feeds"):
            return self._feeds
        source = _source(self.sample_inputs)
        tokens = self.reference["tokens"]
        if "encoder_token_ids" in source:
            start = self.generation["start_token_id"]
            path = np.concatenate([np.full((len(tokens), 1), start, "int32"), tokens], axis=1)
            state = {k: np.asarray(v) for k, v in self.model.start_decoding(source, self.generation["max_length"]).items()}
        else:
            lengths = source["padding_mask"].sum(1)
            if np.any(lengths != lengths[0]):
                raise ExportError("Sample prompts for a causal LM export must have equal lengths.")
            path = np.concatenate([source["token_ids"][:, : lengths[0]], tokens], axis=1)
            state = {k: np.asarray(v) for k, v in self.model.start_decoding(source, self.generation["max_length"]).items()}
        feeds = []
        for index in range(min(path.shape[1] - 1, self.generation["max_length"] - 1)):
            step_tokens = path[:, index : index + 1].astype("int32")
            feeds.append(dict(state, token_ids=step_tokens, index=np.array(index, "int32")))
            _, new_state = self.model.decode_step(step_tokens, state, index)
            state = {k: np.asarray(v) for k, v in new_state.items()}
        self._feeds = feeds
        return feeds

    def representative_dataset(self):
        """(signature, inputs) samples for full-int8 calibration, with matching dtypes."""
        rows = len(next(iter(self.sample_inputs.values())))
        static = needs_static_batch(self.model)
        for name, graph in self.graphs.items():
            if name == "decode_step":
                for feeds in self.decode_feeds():
                    for row in range(rows) if static else [slice(None)]:
                        yield name, _cast(_rows(feeds, row, static, skip=("index",)), graph)
            elif name == "encode":
                for row in range(rows) if static else [slice(None)]:
                    yield name, _cast(_rows(_source(self.sample_inputs), row, static), graph)
            else:
                inputs = self.serving_inputs()
                for row in range(rows):
                    sample = {spec.name: inputs[spec.name] for spec in graph.input_signature}
                    yield name, _cast(_rows(sample, row, True), graph)

    def serving_inputs(self):
        """Inputs of the full forward pass; for generative models, teacher-forced on Keras's tokens."""
        if not self.generative:
            return self.sample_inputs
        source, tokens = _source(self.sample_inputs), self.reference["tokens"]
        if "encoder_token_ids" in source:
            start = np.full((len(tokens), 1), self.generation["start_token_id"], "int32")
            decoder = np.concatenate([start, tokens[:, :-1]], axis=1)
            return dict(source, decoder_token_ids=decoder, decoder_padding_mask=np.ones_like(decoder))
        ids = np.concatenate([source["token_ids"], tokens], axis=1)
        return {"token_ids": ids, "padding_mask": np.ones_like(ids)}


def _rows(feeds, row, single, skip=()):
    if not single:
        return feeds
    return {k: (v if k in skip else np.asarray(v)[row : row + 1]) for k, v in feeds.items()}


def _cast(feeds, graph):
    return {spec.name: np.asarray(feeds[spec.name], spec.dtype.as_numpy_dtype) for spec in graph.input_signature}


def _state(feeds, layout):
    return {name: feeds[name] for name in layout["state"]}


def _configure_quantization(variant, exporter):
    import tensorflow as tf

    def configure(converter):
        if variant == "fp32":
            return
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if variant == "fp16":
            converter.target_spec.supported_types = [tf.float16]
        elif variant == "dynamic_int8":
            # One scale per weight matrix, not per output row. A tied output projection then
            # quantizes to the very bytes of the embedding table, which the converter stores
            # once (per row it was a second copy), and the per-row scales go too. Measured on
            # the quickstart translator: 0.35x -> 0.30x the fp32 file, BLEU 94.0 -> 93.3 with
            # 0 of 64 greedy outputs differing from Keras (3 before).
            converter._experimental_disable_per_channel_quantization_for_dense_layers = True
        elif variant == "int8":
            converter.representative_dataset = exporter.representative_dataset
            # Ops without an int8 kernel fall back to float (listed in the manifest).
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]

    return configure


def _float_ops(path):
    """Names of the ops a TFLite file runs in float (the int8 fallbacks)."""
    from tensorflow.lite.python import schema_py_generated as schema

    with open(path, "rb") as handle:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(handle.read(), 0))
    names = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    found = set()
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            inputs = [subgraph.tensors[i] for i in op.inputs if i >= 0]
            if any(t.type == schema.TensorType.FLOAT32 for t in inputs) and names.get(builtin) not in ("DEQUANTIZE", "QUANTIZE"):
                found.add(names.get(builtin, str(builtin)))
    return sorted(found)


def export_bundle(
    model,
    out_dir,
    sample_inputs,
    formats=FORMATS,
    quantize=QUANTIZATIONS,
    onnx_quantize=False,
    labels=None,
    metric=None,
    task=None,
    special_tokens=None,
    tokenizer_dir=None,
    max_new_tokens=16,
    max_length=None,
    skip_failing=False,
    allow_select_ops=False,
    onnx_opset=17,
    overwrite=True,
    progress=None,
):
    """Export `model` to `out_dir`; returns the manifest dict (also written as manifest.json).

    Args:
        model: a built kzoo model (or any single-call functional Keras model).
        out_dir: the bundle folder to create.
        sample_inputs: dict of named arrays (a batch of task data) for parity and
            int8 calibration. Generative models: the source (or prompt) arrays.
        formats: some of `FORMATS`.
        quantize: TFLite variants, some of `QUANTIZATIONS`.
        onnx_quantize: also write ONNX Runtime dynamic-int8 files.
        labels: true labels / reference tokens for the task metric; without them
            the metric is agreement with the Keras model.
        metric: optional `(name, function)`; `function(outputs) -> float` scores
            the logits (or greedy tokens of generative models) of the sample
            inputs, e.g. BLEU of the decoded tokens against reference texts.
        task: dict describing the task (name, kind, ...), copied to the manifest.
        special_tokens: dict (pad, start, end, unknown, mask ids).
        tokenizer_dir: folder copied to `tokenizer/`.
        max_new_tokens: tokens decoded in the parity check of generative models.
        max_length: fixed size of the decoding cache (defaults to the model's).
        skip_failing: leave failing variants out instead of raising.
        allow_select_ops: allow Select TF ops in TFLite.
        overwrite: replace an existing bundle.
        progress: optional callable(str) told about each step.
    """
    formats, quantize = check_options(formats, quantize)
    if not getattr(model, "built", False) or not getattr(model, "inputs", None):
        raise ExportError("The model is not built; call it on data (or load a trained run) before exporting.")
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise ExportError(f"{out_dir} already exists; pass overwrite=True to replace it.")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    except OSError as error:
        raise ExportError(f"Cannot write to {out_dir.parent}: {error.strerror}.") from None
    say = progress or (lambda message: None)
    try:
        manifest = _write(model, folder, sample_inputs, formats, quantize, onnx_quantize, labels, metric, task,
                          special_tokens, tokenizer_dir, max_new_tokens, max_length, skip_failing,
                          allow_select_ops, onnx_opset, say)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(folder, out_dir)
        return manifest
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def _write(model, folder, sample_inputs, formats, quantize, onnx_quantize, labels, metric, task, special_tokens,
           tokenizer_dir, max_new_tokens, max_length, skip_failing, allow_select_ops, onnx_opset, say):
    import tensorflow as tf

    from export.onnx import convert_to_onnx, fusion_report
    from export.runtime.backends import OnnxBackend, TFLiteBackend
    from export.tflite import convert_to_tflite

    special_tokens = dict(special_tokens or {})
    generation = {
        "max_new_tokens": max_new_tokens,
        "max_length": max_length or getattr(model, "max_sequence_length", None),
        "start_token_id": special_tokens.get("start"),
        "end_token_id": special_tokens.get("end"),
        "pad_token_id": special_tokens.get("pad", 0),
    }
    sample_inputs = {name: np.asarray(value) for name, value in sample_inputs.items()}
    say("computing the Keras reference outputs")
    exporter = _Exporter(model, folder, sample_inputs, generation, labels, allow_select_ops, onnx_opset, metric)
    files, variants, skipped = {}, {}, {}

    def attempt(variant, build, evaluate):
        started = time.perf_counter()
        say(f"exporting {variant}")
        written = []
        try:
            written = build()
            backend = evaluate(written)
            report = exporter.evaluate(variant, backend) if backend is not None else {"variant": variant}
        except parity.ParityError as error:
            if not skip_failing:
                raise
            skipped[variant] = str(error)
            for path in written:
                Path(folder, path).unlink(missing_ok=True)
            return
        report["files"] = written
        report["seconds"] = round(time.perf_counter() - started, 2)
        variants[variant] = report
        for path in written:
            files[path] = {"sha256": sha256(folder / path), "bytes": (folder / path).stat().st_size}

    model.save(folder / "model.keras")
    files["model.keras"] = {"sha256": sha256(folder / "model.keras"), "bytes": (folder / "model.keras").stat().st_size}

    if "savedmodel" in formats:
        def build_savedmodel():
            module = tf.Module()
            module.model = model
            tf.saved_model.save(module, str(folder / "savedmodel"), signatures=_savedmodel_signatures(model, exporter))
            return []

        attempt("savedmodel", build_savedmodel, lambda written: _SavedModelBackend(folder / "savedmodel"))

    if "tflite" in formats:
        batch = 1 if needs_static_batch(model) else None
        tflite_graphs = export_graphs(model, generation["max_length"], batch_size=batch)
        for variant in quantize:
            name = f"model_{variant}.tflite"

            def build_tflite(variant=variant, name=name):
                flatbuffer = convert_to_tflite(
                    {key: graph.concrete() for key, graph in tflite_graphs.items()},
                    allow_select_ops=allow_select_ops,
                    configure=_configure_quantization(variant, exporter),
                )
                (folder / name).write_bytes(flatbuffer)
                return [name]

            attempt(f"tflite_{variant}", build_tflite, lambda written: TFLiteBackend(folder / written[0]))
            if f"tflite_{variant}" in variants and variant == "int8":
                variants[f"tflite_{variant}"]["float_fallback_ops"] = _float_ops(folder / name)

    fusions = {}
    if "onnx" in formats:
        part_files = _onnx_part_files(model)

        def build_onnx():
            for part, filename in part_files.items():
                graph = exporter.graphs[part]
                proto = convert_to_onnx(tf.function(graph.function), graph.input_signature, opset=onnx_opset)
                _embed_metadata(proto, task, special_tokens, generation, part)
                (folder / filename).write_bytes(proto.SerializeToString())
            return list(part_files.values())

        attempt("onnx", build_onnx, lambda written: OnnxBackend({p: folder / f for p, f in part_files.items()}))
        shape = _attention_shape(model)
        if "onnx" in variants and shape:
            say("ONNX Runtime transformer optimizer: counting fusions")
            fusions = {f: fusion_report(folder / f, *shape) for f in part_files.values()}
        if onnx_quantize and "onnx" in variants:
            _quantize_onnx(folder, part_files, exporter, variants, files, skipped, skip_failing, say)

    if tokenizer_dir:
        shutil.copytree(tokenizer_dir, folder / "tokenizer")
        for path in sorted((folder / "tokenizer").rglob("*")):
            if path.is_file():
                relative = str(path.relative_to(folder))
                files[relative] = {"sha256": sha256(path), "bytes": path.stat().st_size}

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "family": type(model).__name__,
        "task": task or {},
        "special_tokens": special_tokens,
        "max_length": generation["max_length"],
        "max_sequence_length": getattr(model, "max_sequence_length", None)
        or getattr(getattr(model, "backbone", None), "max_sequence_length", None),
        "max_new_tokens": max_new_tokens,
        "signatures": {name: [spec.name for spec in graph.input_signature] for name, graph in exporter.graphs.items()},
        "decoding": exporter.layout,
        "onnx_parts": _onnx_part_files(model) if "onnx" in variants else {},
        # What ONNX Runtime's transformer optimizer would fuse (see export.onnx); the files stay standard ops.
        "onnx_fusions": fusions,
        "tflite_static_batch": needs_static_batch(model),
        "files": files,
        "parity": {
            "reference_metric": exporter.reference_metric,
            "metric_name": exporter.metric_kind,
            "float_tolerance": parity.FLOAT_TOLERANCE,
            "metric_tolerance": parity.METRIC_TOLERANCE,
            "variants": variants,
            "skipped": skipped,
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=_json_default))
    return manifest


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(f"Cannot write {type(value).__name__} to the manifest.")


def _attention_shape(model):
    """(num_heads, hidden size) of a Transformer model's config; None for models without attention."""
    config = model.get_config()
    backbone = config.get("backbone")
    for part in (config, backbone.get("config", {}) if isinstance(backbone, dict) else {}):
        if "num_heads" in part and "hidden_dim" in part:
            return int(part["num_heads"]), int(part["hidden_dim"])
    return None


def _onnx_part_files(model):
    """ONNX file per exported part: one graph, or encoder + decoder step for generative models."""
    from kzoo.models import CausalLM

    if not is_generative(model):
        return {"serving_default": "model.onnx"}
    parts = {"decode_step": "decoder_step.onnx"}
    if not isinstance(model, CausalLM):
        parts = {"encode": "encoder.onnx", **parts}
    return parts


def _embed_metadata(proto, task, special_tokens, generation, part):
    """Write what a runtime needs into the ONNX file's metadata_props."""
    values = {
        "kzoo_part": part,
        "kzoo_task": json.dumps(task or {}),
        "kzoo_special_tokens": json.dumps(special_tokens),
        "kzoo_max_length": str(generation["max_length"]),
    }
    for key, value in values.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value


def _quantize_onnx(folder, part_files, exporter, variants, files, skipped, skip_failing, say):
    """ONNX Runtime dynamic int8: try QInt8 and QUInt8 weights, keep the one with the better metric."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from export.onnx import quiet_logger

    from export.runtime.backends import OnnxBackend

    best, started = None, time.perf_counter()
    for weight_type in ("QInt8", "QUInt8"):
        say(f"quantizing ONNX ({weight_type})")
        names = {part: filename.replace(".onnx", f"_{weight_type.lower()}.onnx") for part, filename in part_files.items()}
        with quiet_logger():  # Its "consider pre-processing" advice (on the root logger) is for CNNs.
            for part, filename in part_files.items():
                quantize_dynamic(str(folder / filename), str(folder / names[part]), weight_type=getattr(QuantType, weight_type))
        try:
            report = exporter.evaluate("onnx_dynamic_int8", OnnxBackend({p: folder / f for p, f in names.items()}))
            report["weight_type"] = weight_type
        except parity.ParityError as error:
            report = {"error": str(error), "metric": -1.0, "weight_type": weight_type}
        if best is None or report["metric"] > best[0]["metric"]:
            if best is not None:
                for filename in best[1].values():
                    (folder / filename).unlink(missing_ok=True)
            best = (report, names)
        else:
            for filename in names.values():
                (folder / filename).unlink(missing_ok=True)
    report, names = best
    if "error" in report:
        for filename in names.values():
            (folder / filename).unlink(missing_ok=True)
        if not skip_failing:
            raise parity.ParityError("onnx_dynamic_int8", exporter.metric_kind, float("nan"), parity.METRIC_TOLERANCE, what=report["error"])
        skipped["onnx_dynamic_int8"] = report["error"]
        return
    report["files"] = list(names.values())
    report["seconds"] = round(time.perf_counter() - started, 2)  # Both weight types tried.
    variants["onnx_dynamic_int8"] = report
    for filename in names.values():
        files[filename] = {"sha256": sha256(folder / filename), "bytes": (folder / filename).stat().st_size}


def _savedmodel_signatures(model, exporter):
    signatures = {name: graph.concrete() for name, graph in exporter.graphs.items()}
    if exporter.generative:
        signatures["generate"] = _generate_signature(model, exporter.generation)
    return signatures


def _generate_signature(model, generation):
    """The whole greedy loop as one graph, for TF Serving users: source/prompt -> tokens."""
    import keras_hub
    import tensorflow as tf

    from export.signatures import _family

    total_new = generation["max_new_tokens"]
    sampler = keras_hub.samplers.GreedySampler()
    seq2seq = _family(model) != "CausalLM"

    def next_token_logits(prompt, state, index):
        token = tf.slice(prompt, [0, index - 1], [tf.shape(prompt)[0], 1])
        logits, state = model.decode_step(token, state, index - 1)
        return logits[:, -1, :], None, state

    if seq2seq:
        def generate(encoder_token_ids, encoder_padding_mask):
            inputs = {"encoder_token_ids": encoder_token_ids, "encoder_padding_mask": encoder_padding_mask}
            batch = tf.shape(encoder_token_ids)[0]
            prompt = tf.concat(
                [tf.fill([batch, 1], generation["start_token_id"]), tf.fill([batch, total_new], generation["pad_token_id"])], 1
            )
            forced = tf.concat([tf.ones([batch, 1], tf.bool), tf.zeros([batch, total_new], tf.bool)], 1)
            state = model.start_decoding(inputs, total_new + 1)
            stop = None if generation["end_token_id"] is None else [generation["end_token_id"]]
            tokens = sampler(next_token_logits, prompt, cache=state, index=1, mask=forced, stop_token_ids=stop)
            return {"tokens": tokens[:, 1:]}

        specs = [tf.TensorSpec([None, None], tf.int32, name=n) for n in ("encoder_token_ids", "encoder_padding_mask")]
    else:
        def generate(token_ids, padding_mask):
            batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
            prompt = tf.concat([token_ids * padding_mask, tf.fill([batch, total_new], generation["pad_token_id"])], 1)
            forced = tf.concat([tf.cast(padding_mask, tf.bool), tf.zeros([batch, total_new], tf.bool)], 1)
            state = model.start_decoding({"token_ids": prompt}, length + total_new)
            tokens = sampler(next_token_logits, prompt, cache=state, index=1, mask=forced, stop_token_ids=None)
            return {"tokens": tokens}

        specs = [tf.TensorSpec([None, None], tf.int32, name=n) for n in ("token_ids", "padding_mask")]
    return tf.function(generate, input_signature=specs).get_concrete_function()


class _SavedModelBackend:
    """Runs the SavedModel's signatures (TensorFlow) for the parity check."""

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
