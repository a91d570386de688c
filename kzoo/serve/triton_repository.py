"""`write_triton_repository(bundle, out)`: a Triton Inference Server model repository from a bundle.

- Single-graph bundles (classifiers, taggers, ViT): the ONNX file for Triton's
  standard `onnxruntime` backend with dynamic batching. Its inputs and outputs are
  the graph's own (token ids and masks, or images; logits): clients tokenize, e.g.
  with `kzoo.runtime.load(bundle).tokenizer`.
- Generative bundles (translators, causal LMs): a `python` backend model whose
  `model.py` (the template `kzoo/serve/triton_model.py.template`) runs kzoo.runtime's decoding loop
  (an ensemble cannot loop). It takes `text` (TYPE_STRING, `[-1]`) and answers
  `translation` or `continuation`; decoding options are the request's parameters.
  The bundle and a copy of `kzoo.runtime` travel inside the model's version
  folder; Triton's Python needs numpy, onnxruntime and the bundle's tokenizer
  library (sentencepiece or tokenizers).

```
OUT/NAME/config.pbtxt
OUT/NAME/1/model.onnx                                  single-graph
OUT/NAME/1/model.py, 1/bundle/, 1/kzoo/runtime/        generative
```

Example:
```python
write_triton_repository("saved_models/language_id", "triton_models")
# tritonserver --model-repository triton_models
```
"""

import os
import shutil
from pathlib import Path

from kzoo.runtime import BundleError, load
from kzoo.runtime.manifest import find_export

TRITON_TYPES = {"tensor(int32)": "TYPE_INT32", "tensor(int64)": "TYPE_INT64", "tensor(float)": "TYPE_FP32",
                "tensor(float16)": "TYPE_FP16", "tensor(bool)": "TYPE_BOOL", "tensor(double)": "TYPE_FP64"}
# Triton's Python backend runs it, not kzoo: it imports Triton's own module, so it is a template, not a module.
MODEL_TEMPLATE = Path(__file__).with_name("triton_model.py.template")
OUTPUT_NAMES = {"translation": "translation", "language_modeling": "continuation"}


def write_triton_repository(bundle, out, name=None, max_batch_size=32, queue_delay_microseconds=2000):
    """Writes the model repository of `bundle` into `out` (created; an existing model folder is replaced).

    Args:
        bundle: str or path. A bundle folder written by `kzoo export` (with its ONNX export).
        out: str or path. The repository folder.
        name: str or None. The model's name in Triton (default: the bundle folder's name).
        max_batch_size: int. Rows one batched call takes (single-graph models).
        queue_delay_microseconds: int. How long Triton's dynamic batcher waits for company.

    Returns:
        Path of the model's folder.

    Example: `write_triton_repository("saved_models/language_id", "triton_models")`.
    """
    model = load(bundle, threads=1)
    name = name or model.path.name
    folder = Path(os.fspath(out)) / name
    staging = folder.with_name(f".{name}.partial")  # Written beside, then renamed: nothing half-written stays.
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "1").mkdir(parents=True)
    try:
        if model.generative:
            config = _python_model(model, name, staging / "1")
        else:
            config = _onnx_model(model, name, staging / "1", max_batch_size, queue_delay_microseconds)
        (staging / "config.pbtxt").write_text(config)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def _onnx_model(model, name, version, max_batch_size, queue_delay_microseconds):
    import onnxruntime

    entry = find_export(model.manifest, "onnx", "fp32")
    if entry is None:
        raise BundleError(f"Bundle {model.path} has no ONNX export; re-export it with ONNX to serve it on Triton.")
    source = model.path / entry["parts"]["serving_default"]
    shutil.copyfile(source, version / "model.onnx")
    session = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    tensors = [("input", t) for t in session.get_inputs()] + [("output", t) for t in session.get_outputs()]
    batched = all(t.shape and not isinstance(t.shape[0], int) for _, t in tensors)
    lines = [f'name: "{name}"', 'backend: "onnxruntime"', f"max_batch_size: {max_batch_size if batched else 0}"]
    for kind, tensor in tensors:
        if tensor.type not in TRITON_TYPES:
            raise BundleError(f"Tensor {tensor.name!r} of {source.name} has type {tensor.type}, which this writer does "
                              f"not map to Triton; supported: {', '.join(TRITON_TYPES)}.")
        shape = tensor.shape[1:] if batched else tensor.shape
        dims = ", ".join(str(d) if isinstance(d, int) else "-1" for d in shape)
        lines.append(f'{kind} [{{ name: "{tensor.name}" data_type: {TRITON_TYPES[tensor.type]} dims: [ {dims} ] }}]')
    if batched:
        lines.append(f"dynamic_batching {{ max_queue_delay_microseconds: {queue_delay_microseconds} }}")
    lines.append('instance_group [{ kind: KIND_CPU count: 1 }]')
    return "\n".join(lines) + "\n"


def _python_model(model, name, version):
    import kzoo.runtime

    output = OUTPUT_NAMES[model.kind]
    shutil.copyfile(MODEL_TEMPLATE, version / "model.py")
    shutil.copytree(model.path, version / "bundle")
    runtime = Path(kzoo.runtime.__file__).parent
    shutil.copytree(runtime, version / "kzoo" / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    (version / "kzoo" / "__init__.py").write_text('"""kzoo.runtime alone, as the Triton model imports it."""\n')
    return "\n".join([
        f'name: "{name}"',
        'backend: "python"',
        "max_batch_size: 0",
        'input [{ name: "text" data_type: TYPE_STRING dims: [ -1 ] }]',
        f'output [{{ name: "{output}" data_type: TYPE_STRING dims: [ -1 ] }}]',
        'instance_group [{ kind: KIND_CPU count: 1 }]',
    ]) + "\n"
