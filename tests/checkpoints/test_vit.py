"""ViT image classifiers against transformers: the preprocessing the import states, and the logits."""

import numpy as np

from tests.checkpoints.conftest import LOGIT_TOLERANCE, fixture


def test_stated_preprocessing_and_logits_match_transformers(imported):
    _, reference, arrays = fixture("vit")
    checkpoint = imported("vit")
    preprocessing = checkpoint.preprocessing
    assert preprocessing["layout"] == "channels_last" and preprocessing["image_size"] == [16, 16]
    pixels = (arrays["images"].astype("float32") * preprocessing["rescale"] - np.array(preprocessing["mean"])) / np.array(
        preprocessing["std"])
    np.testing.assert_allclose(pixels, arrays["pixel_values"].transpose(0, 2, 3, 1), atol=1e-6)
    logits = np.asarray(checkpoint.model({"images": pixels.astype("float32")}))
    assert np.abs(logits - arrays["logits"]).max() < LOGIT_TOLERANCE
    assert [checkpoint.label_names[i] for i in logits.argmax(-1)] == reference["predicted_labels"]
    assert preprocessing["formula"].startswith("(pixels * rescale - mean) / std")
