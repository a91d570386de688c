"""BundleModel: the TF-free runtime equals Keras, refuses broken bundles, is thread-safe, imports no TensorFlow."""

import json
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from kzoo.runtime import BundleError, InputTooLongError, UnsupportedTaskError, load
from tests.runtime import bundles as test_bundles

BACKENDS = ("onnx", "tflite")
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return test_bundles.bundles(tmp_path_factory)


@pytest.fixture(scope="module")
def models(built):
    """One loaded model per (bundle, backend), reused by the tests as a server would."""
    return {(name, backend): load(built[name][0], backend=backend) for name in built for backend in BACKENDS}


@pytest.mark.parametrize("backend", BACKENDS)
def test_translate_gives_keras_greedy_tokens_and_text(built, models, backend):
    _, reference = built["translator"]
    model = models["translator", backend]
    source = {"encoder_token_ids": reference["encoder_token_ids"], "encoder_padding_mask": reference["encoder_padding_mask"]}
    np.testing.assert_array_equal(model.generate_ids(source), reference["greedy_tokens"])
    assert model.translate(reference["texts"]) == reference["greedy_texts"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_beam_search_gives_keras_beam_tokens(built, models, backend):
    _, reference = built["translator"]
    source = {"encoder_token_ids": reference["encoder_token_ids"], "encoder_padding_mask": reference["encoder_padding_mask"]}
    tokens = models["translator", backend].generate_ids(source, strategy="beam", **test_bundles.BEAM)
    np.testing.assert_array_equal(tokens, reference["beam_tokens"])
    _, reference = built["lm"]  # Ragged prompts: each row at its own position, for exactly its budget.
    prompts = {"token_ids": reference["token_ids"], "padding_mask": reference["padding_mask"]}
    tokens = models["lm", backend].generate_ids(prompts, 12, strategy="beam", **test_bundles.BEAM)
    np.testing.assert_array_equal(tokens, reference["beam_tokens"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_classify_gives_keras_probabilities_and_named_labels(built, models, backend):
    _, reference = built["classifier"]
    results = models["classifier", backend].classify(reference["texts"])
    probabilities = np.array([r["probabilities"] for r in results])
    np.testing.assert_allclose(probabilities, reference["probabilities"], atol=1e-4, rtol=0)
    expected = np.argmax(reference["probabilities"], axis=1)
    assert [r["label_id"] for r in results] == expected.tolist()
    assert [r["label"] for r in results] == [test_bundles.CLASSIFICATION_LABELS[i] for i in expected]


@pytest.mark.parametrize("backend", BACKENDS)
def test_tag_gives_keras_tags_for_every_word(built, models, backend):
    _, reference = built["tagger"]
    results = models["tagger", backend].tag(reference["texts"])
    assert [[w["word"] for w in row] for row in results] == [text.split() for text in reference["texts"]]
    assert [[w["tag"] for w in row] for row in results] == reference["tags"]
    # Pre-split words give the same tags.
    assert models["tagger", backend].tag([text.split() for text in reference["texts"]]) == results


@pytest.mark.parametrize("backend", BACKENDS)
def test_generate_gives_keras_greedy_continuations(built, models, backend):
    _, reference = built["lm"]
    model = models["lm", backend]
    prompts = {"token_ids": reference["token_ids"], "padding_mask": reference["padding_mask"]}
    np.testing.assert_array_equal(model.generate_ids(prompts, 32), reference["greedy_tokens"])
    assert model.generate(reference["prompts"], max_new_tokens=32) == reference["greedy_texts"]
    assert model.generate(reference["prompts"][0]) == reference["greedy_texts"][0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_gru_translator_gives_keras_greedy_text(built, models, backend):
    _, reference = built["gru"]
    assert models["gru", backend].translate(reference["texts"]) == reference["greedy_texts"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_classify_images_gives_keras_probabilities(built, models, backend):
    _, reference = built["vit"]
    model = models["vit", backend]
    results = model.classify(np.array(reference["images"], "float32"))
    np.testing.assert_allclose([r["probabilities"] for r in results], reference["probabilities"], atol=1e-4, rtol=0)
    assert results[0]["label"] in ("zero", "one", "two") and model.tokenizer is None
    with pytest.raises(ValueError, match=r"expected images of shape \[B, 8, 8, 1\]. Received: shape=\[2, 8, 8, 3\]"):
        model.classify(np.zeros((2, 8, 8, 3), "float32"))


def test_methods_the_task_lacks_name_the_task(models):
    offers = r"task is translation \(TransformerSeq2Seq\); it offers translate\(\), not classify\(\)"
    with pytest.raises(UnsupportedTaskError, match=offers):
        models["translator", "onnx"].classify(["hello"])
    with pytest.raises(UnsupportedTaskError, match=r"task is classification .* not generate\(\)"):
        models["classifier", "onnx"].generate("hello")
    with pytest.raises(UnsupportedTaskError, match=r"task is language_modeling .* not tag\(\)"):
        models["lm", "onnx"].tag(["hello"])
    assert models["tagger", "onnx"].tasks == ("tag",)


def test_inputs_past_the_limit_are_truncated_or_refused(built, models):
    model = models["classifier", "onnx"]
    long_text = " ".join(["great"] * 100)
    assert model.max_sequence_length == 32
    assert model.classify([long_text])[0]["probabilities"] == model.classify([" ".join(["great"] * 30)])[0]["probabilities"]
    with pytest.raises(InputTooLongError, match="Input 1 has 102 tokens, more than the 32 this bundle takes") as caught:
        model.classify(["fine", long_text], truncate=False)
    assert caught.value.limit_name == "max_sequence_length"


def test_bad_arguments_fail_with_one_sentence(built, models):
    with pytest.raises(TypeError, match="expected a list of str. Received: texts='forty-two'"):
        models["translator", "onnx"].translate("forty-two")
    with pytest.raises(ValueError, match="expected at most 20 .* Received: max_new_tokens=21"):
        models["translator", "onnx"].translate(["twelve"], max_new_tokens=21)
    with pytest.raises(ValueError, match="expected one of 'greedy', 'beam', 'top_k', 'top_p'. Received: strategy='best'"):
        models["translator", "onnx"].translate(["twelve"], strategy="best")
    with pytest.raises(ValueError, match=r"expected a float in \(0, 1\]. Received: top_p=None"):
        models["lm", "onnx"].generate("the", strategy="top_p")
    with pytest.raises(ValueError, match="expected one of 'onnx', 'tflite'. Received: backend='coreml'"):
        load(built["classifier"][0], backend="coreml")
    with pytest.raises(BundleError, match="has no TFLite int8 export"):
        load(built["classifier"][0], backend="tflite", variant="int8")


@pytest.fixture
def bundle_copy(built, tmp_path):
    def copy(name):
        target = tmp_path / name
        shutil.copytree(built[name][0], target)
        return target

    return copy


def test_a_changed_file_refuses_to_load_naming_the_file(bundle_copy):
    folder = bundle_copy("translator")
    data = bytearray((folder / "decoder_step.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF  # Same size, one byte flipped.
    (folder / "decoder_step.onnx").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"Bundle file decoder_step.onnx does not match its sha256 in manifest.json"):
        load(folder)


def test_a_missing_file_refuses_to_load_naming_the_file(bundle_copy):
    folder = bundle_copy("translator")
    (folder / "tokenizer" / "sentencepiece.model").unlink()
    with pytest.raises(BundleError, match=r"Bundle file tokenizer/sentencepiece.model is missing from"):
        load(folder, backend="tflite")


def test_a_manifest_pointing_outside_the_bundle_is_refused(bundle_copy):
    folder = bundle_copy("classifier")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["../secret"] = {"sha256": "0" * 64, "bytes": 1}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"Bundle file \.\./secret in manifest.json points outside the bundle folder"):
        load(folder)


def test_no_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(BundleError, match="Bundle file manifest.json is missing from"):
        load(tmp_path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_calls_give_the_same_results(built, models, backend):
    model = models["translator", backend]
    texts = built["translator"][1]["texts"]
    expected = model.translate(texts, strategy="beam", num_beams=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: model.translate(texts, strategy="beam", num_beams=2), range(12)))
    assert all(result == expected for result in results)


def test_a_fresh_process_serves_without_tensorflow_or_keras(built):
    """`import kzoo.runtime; load(...).translate(...)` (and the server module) import no TF, Keras or keras-hub."""
    code = textwrap.dedent(f"""
        import json, sys
        import kzoo.runtime, kzoo.serve
        out = {{}}
        for backend in ("onnx", "tflite"):
            out[backend] = kzoo.runtime.load({str(built["translator"][0])!r}, backend=backend).translate(["twelve"])
        out["classify"] = kzoo.runtime.load({str(built["classifier"][0])!r}).classify(["great"])[0]["label"]
        forbidden = {{"tensorflow", "keras", "keras_hub", "tf_keras", "tensorflow_text"}}
        out["loaded"] = sorted({{m.split(".")[0] for m in sys.modules}} & forbidden)
        print(json.dumps(out))
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["loaded"] == []
    assert out["onnx"] == out["tflite"] and len(out["onnx"]) == 1
    assert out["classify"] in test_bundles.CLASSIFICATION_LABELS
