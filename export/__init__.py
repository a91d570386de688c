"""export: the converters. A trained Keras model to SavedModel, TFLite and ONNX, with parity checked.

The TensorFlow side's top: it imports kzoo (models, generation, the runtime's
formats) and nothing under kzoo imports it, except the command layer.

| module | what |
|---|---|
| `bundle` | `export_bundle(model, out_dir, sample_inputs, ExportOptions(...))`: the format loop, manifest, atomic rename |
| `graphs` | the named graphs every format is made from, built from the model's export description |
| `savedmodel`, `tflite`, `onnx` | one module per format, each with its own quantization |
| `parity` | the Keras reference, the per-format tolerances, `ParityError` |

Example:
```python
from export.bundle import ExportOptions, export_bundle
manifest = export_bundle(model, "saved_models/translator", batch, ExportOptions(special_tokens={"start": 2, "end": 3}))
```
"""
