"""`TFLiteBackend`: a bundle's TFLite file run with LiteRT, without TensorFlow.

It answers the same `run(part, feeds)` as `OnnxBackend`, one signature runner
per part of the flatbuffer.

Example:
```python
backend = TFLiteBackend("saved_models/translator/model_dynamic_int8.tflite", threads=2)
encoded = backend.run("encode", {"encoder_token_ids": ids, "encoder_padding_mask": mask})
```
"""

import threading

import numpy as np


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
