"""Run the named graphs of a bundle with ONNX Runtime or LiteRT, without TensorFlow.

Both backends answer `run(part, feeds) -> {output name: numpy array}` for the parts
a bundle exports (`serving_default`, `encode`, `decode_step`), so the decoding loop
and the task methods do not care which runtime is underneath.

Example:
```python
backend = OnnxBackend({"serving_default": "model.onnx"}, threads=2)
logits = backend.run("serving_default", {"token_ids": ids, "padding_mask": mask})["logits"]
```
"""

import threading

import numpy as np

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

        if optimization not in OPTIMIZATION_LEVELS:
            raise ValueError(
                f"Received an invalid value for argument `optimization`, expected one of "
                f"{', '.join(OPTIMIZATION_LEVELS)}. Received: optimization={optimization!r}"
            )
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


class TFLiteBackend:
    """One LiteRT interpreter with a signature runner per part; calls are serialised by a lock.

    A signature exported with a fixed batch of 1 (the GRU family, whose encoder
    loop needs a static batch in TFLite) is run row by row and the rows stacked.

    Args:
        path: the .tflite file.
        threads: interpreter threads (None: LiteRT's default).
    """

    name = "tflite"

    def __init__(self, path, threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._lock = threading.Lock()
        self._runners = {part: self._interpreter.get_signature_runner(part) for part in self._interpreter.get_signature_list()}
        self._details = {part: runner.get_input_details() for part, runner in self._runners.items()}

    @property
    def parts(self):
        return list(self._runners)

    def input_names(self, part):
        return list(self._details[part])

    def input_shapes(self, part):
        """Input name -> shape tuple, `None` for a dynamic axis."""
        return {
            name: tuple(int(d) if d >= 0 else None for d in detail["shape_signature"])
            for name, detail in self._details[part].items()
        }

    def run(self, part, feeds):
        details = self._details[part]
        arrays = {name: np.asarray(feeds[name], dtype=detail["dtype"]) for name, detail in details.items()}
        batched = [name for name, d in details.items() if len(d["shape_signature"]) and d["shape_signature"][0] == 1]
        batch = max((arrays[name].shape[0] for name in batched if arrays[name].ndim), default=1)
        with self._lock:
            if batch > 1 and batched:
                rows = [self._runners[part](**{n: (a[i : i + 1] if n in batched else a) for n, a in arrays.items()}) for i in range(batch)]
                return {name: np.concatenate([row[name] for row in rows]) for name in rows[0]}
            return {name: np.array(value) for name, value in self._runners[part](**arrays).items()}
