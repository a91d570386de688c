"""kzoo.runtime.TFLiteBackend: a runner per signature; a signature with a fixed batch of 1 runs row by row."""

import numpy as np

from kzoo.runtime.tflite_backend import TFLiteBackend


def test_signatures_run_with_any_batch_even_a_fixed_one(doubling_tflite):
    backend = TFLiteBackend(doubling_tflite, threads=1)
    assert sorted(backend.parts) == ["serving_default", "single"]
    assert backend.input_shapes("single") == {"x": (1, 4)} and backend.input_shapes("serving_default") == {"x": (None, 4)}
    rows = np.arange(12, dtype="float32").reshape(3, 4)
    for part in ("serving_default", "single"):
        np.testing.assert_array_equal(backend.run(part, {"x": rows})["y"], 2.0 * rows)
