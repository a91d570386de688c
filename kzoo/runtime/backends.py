"""Opening the backend that runs one exported variant of a bundle.

The manifest's `exports` entry of a variant names its format and the file of each
part; `open_backend` turns it into an `OnnxBackend` or a `TFLiteBackend`, which
both answer `run(part, feeds)`. The SavedModel format needs TensorFlow and is
opened by `export.savedmodel` instead.

Example:
```python
entry = find_export(manifest, "onnx", "fp32")
backend = open_backend("saved_models/translator", entry, threads=2)
```
"""

from pathlib import Path

BACKENDS = ("onnx", "tflite")


def open_backend(bundle, entry, threads=None, optimization="all"):
    """The backend of the export `entry` (a manifest `exports` value) of the bundle folder `bundle`.

    Raises:
        ImportError: naming the package to install when the runtime is missing.
        ValueError: for a format this runtime does not run.
    """
    folder = Path(bundle)
    files = {part: folder / filename for part, filename in entry["parts"].items()}
    if entry["format"] == "onnx":
        try:
            from kzoo.runtime.onnx_backend import OnnxBackend

            return OnnxBackend(files, threads=threads, optimization=optimization)
        except ImportError:
            raise ImportError("backend='onnx' needs ONNX Runtime: pip install onnxruntime") from None
    if entry["format"] == "tflite":
        (path,) = set(files.values())  # Every part is a signature of the one flatbuffer.
        try:
            from kzoo.runtime.tflite_backend import TFLiteBackend

            return TFLiteBackend(path, threads=threads)
        except ImportError:
            raise ImportError("backend='tflite' needs LiteRT: pip install ai-edge-litert") from None
    raise ValueError(f"The export format {entry['format']!r} does not run without TensorFlow; the runtime runs {', '.join(BACKENDS)}.")
