"""`write_triton_repository`: configs Triton's own protobuf parses, matching the ONNX files; the Python model decodes.

Triton itself does not run here: the Python backend's stub embeds the system's
Python in isolated mode, which sees none of this project's packages (see the
closing note of the serving issue). What Triton would check of the configs is
checked with the model_config protobuf tritonclient ships, and the Python
model's `execute` runs against a stand-in for `triton_python_backend_utils`.
"""

import json
import sys
import types

import numpy as np
import onnxruntime
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from kzoo.runtime import BundleError, load
from kzoo.serve.triton_repository import write_triton_repository
from tests.runtime import bundles as test_bundles

TYPES = {"tensor(int32)": "TYPE_INT32", "tensor(float)": "TYPE_FP32", "tensor(int64)": "TYPE_INT64"}


def _config(folder):
    return text_format.Parse((folder / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())


@pytest.mark.parametrize("name", ["classifier", "tagger", "vit"])
def test_single_graph_models_match_their_onnx_files(built, tmp_path, name):
    folder = write_triton_repository(built[name][0], tmp_path / "repository")
    config = _config(folder)
    assert config.name == name and config.backend == "onnxruntime" and config.max_batch_size == 32
    assert config.dynamic_batching.max_queue_delay_microseconds == 2000
    session = onnxruntime.InferenceSession(str(folder / "1" / "model.onnx"), providers=["CPUExecutionProvider"])
    for declared, actual in ((config.input, session.get_inputs()), (config.output, session.get_outputs())):
        assert [t.name for t in declared] == [t.name for t in actual]
        for tensor, graph in zip(declared, actual):
            assert model_config_pb2.DataType.Name(tensor.data_type) == TYPES[graph.type]
            assert list(tensor.dims) == [d if isinstance(d, int) else -1 for d in graph.shape[1:]]


@pytest.mark.parametrize("name, output", [("translator", "translation"), ("lm", "continuation")])
def test_generative_models_run_the_runtime_decoding_loop(built, tmp_path, monkeypatch, name, output):
    folder = write_triton_repository(built[name][0], tmp_path / "repository")
    config = _config(folder)
    assert config.backend == "python" and [t.name for t in config.input] == ["text"]
    assert [t.name for t in config.output] == [output]
    assert model_config_pb2.DataType.Name(config.output[0].data_type) == "TYPE_STRING"
    assert (folder / "1" / "kzoo" / "runtime" / "decoding.py").exists() and (folder / "1" / "bundle").is_dir()

    class Tensor:
        def __init__(self, tensor_name, array):
            self.name, self.array = tensor_name, array

        def as_numpy(self):
            return self.array

    class Request:
        def __init__(self, texts, parameters):
            self.texts, self._parameters = texts, parameters

        def parameters(self):
            return json.dumps(self._parameters)

    utils = types.SimpleNamespace(
        Tensor=Tensor, TritonError=lambda message: message,
        InferenceResponse=lambda output_tensors=(), error=None: types.SimpleNamespace(outputs=output_tensors, error=error),
        get_input_tensor_by_name=lambda request, _: Tensor("text", np.array([t.encode() for t in request.texts], object)),
    )
    monkeypatch.setitem(sys.modules, "triton_python_backend_utils", utils)
    monkeypatch.syspath_prepend(str(folder / "1"))
    namespace = {"__file__": str(folder / "1" / "model.py"), "__name__": "triton_model"}
    exec(compile((folder / "1" / "model.py").read_text(), str(folder / "1" / "model.py"), "exec"), namespace)
    triton_model = namespace["TritonPythonModel"]()
    triton_model.initialize({})
    texts = test_bundles.TRANSLATION_TEXTS if name == "translator" else test_bundles.LM_PROMPTS
    options = {"strategy": "beam", "num_beams": 3, "max_new_tokens": 8}
    good, bad = triton_model.execute([Request(texts, options), Request(texts, {"strategy": "sideways"})])
    runtime = load(built[name][0])
    expected = (runtime.translate if name == "translator" else runtime.generate)(texts, **options)
    assert [v.decode() for v in good.outputs[0].array] == expected and good.outputs[0].name == output
    assert bad.error and "sideways" in bad.error


def test_a_bundle_without_onnx_is_refused_and_nothing_is_written(built, tmp_path):
    import shutil

    bundle = tmp_path / "tflite_only"
    shutil.copytree(built["classifier"][0], bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["exports"] = {k: v for k, v in manifest["exports"].items() if v["format"] != "onnx"}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError):
        write_triton_repository(bundle, tmp_path / "repository")
    assert not (tmp_path / "repository").exists() or not any((tmp_path / "repository").iterdir())


def test_the_command(built, tmp_path, capsys):
    from kzoo.commands.main import main

    assert main(["triton", str(built["tagger"][0]), str(tmp_path / "repository"), "--name", "ner"]) == 0
    assert (tmp_path / "repository" / "ner" / "config.pbtxt").exists()
    assert "tritonserver --model-repository" in capsys.readouterr().out
    assert main(["triton", str(tmp_path / "missing"), str(tmp_path / "other")]) == 2
    assert "expected a bundle folder" in capsys.readouterr().err and not (tmp_path / "other").exists()
