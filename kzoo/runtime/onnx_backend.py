"""`OnnxBackend`: a bundle's ONNX parts run with ONNX Runtime, without TensorFlow.

Every backend answers `run(part, feeds) -> {output name: numpy array}` for the
parts a bundle exports (`serving_default`, `encode`, `decode_step`), so the
decoding loop and the task methods do not care which runtime is underneath.

Example:
```python
backend = OnnxBackend({"serving_default": "model.onnx"}, threads=2)
logits = backend.run("serving_default", {"token_ids": ids, "padding_mask": mask})["logits"]
```
"""

import numpy as np

from kzoo.runtime.validation import check_choice

_ONNX_TYPES = {"tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(float)": np.float32, "tensor(bool)": np.bool_}
OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")


class OnnxBackend:
    """One reusable `onnxruntime.InferenceSession` per part; `run` is safe from many threads.

    Args:
        files: dict part name -> .onnx path.
        threads: intra-op threads (None: ONNX Runtime's default).
        optimization: graph optimisation level, one of `OPTIMIZATION_LEVELS`.
    """

    name = "onnx"

    def __init__(self, files, threads=None, optimization="all"):
        import onnxruntime

        check_choice("optimization", optimization, OPTIMIZATION_LEVELS)
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        options.graph_optimization_level = {
            "disable": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[optimization]
        self._sessions = {
            part: onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            for part, path in files.items()
        }
        self._inputs = {
            part: {i.name: _ONNX_TYPES.get(i.type, np.float32) for i in session.get_inputs()}
            for part, session in self._sessions.items()
        }
        self._outputs = {part: [o.name for o in session.get_outputs()] for part, session in self._sessions.items()}
        self._shapes = {
            part: {i.name: tuple(d if isinstance(d, int) else None for d in i.shape) for i in session.get_inputs()}
            for part, session in self._sessions.items()
        }

    @property
    def parts(self):
        return list(self._sessions)

    def input_names(self, part):
        return list(self._inputs[part])

    def input_shapes(self, part):
        """Input name -> shape tuple, `None` for a dynamic axis."""
        return dict(self._shapes[part])

    def run(self, part, feeds):
        # A converter may drop an input the graph never reads (e.g. `index` for a GRU step).
        wanted = self._inputs[part]
        arrays = {name: np.asarray(feeds[name], dtype=dtype) for name, dtype in wanted.items()}
        values = self._sessions[part].run(None, arrays)
        return dict(zip(self._outputs[part], values))
