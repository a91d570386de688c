"""ViT image classifiers against transformers: the preprocessing the import states, and the logits."""

import numpy as np

from kzoo.runtime.image_preparation import prepare_images
from tests.checkpoints.conftest import LOGIT_TOLERANCE, fixture


def test_stated_preprocessing_and_logits_match_transformers(imported):
    _, reference, arrays = fixture("vit")
    checkpoint = imported("vit")
    preprocessing = checkpoint.preprocessing
    assert preprocessing["layout"] == "channels_last" and preprocessing["image_size"] == [16, 16]
    pixels = prepare_images(arrays["images"], preprocessing)  # The image processor's own steps, TF-free.
    np.testing.assert_allclose(pixels, arrays["pixel_values"].transpose(0, 2, 3, 1), atol=1e-6)
    logits = np.asarray(checkpoint.model({"images": pixels.astype("float32")}))
    assert np.abs(logits - arrays["logits"]).max() < LOGIT_TOLERANCE
    assert [checkpoint.label_names[i] for i in logits.argmax(-1)] == reference["predicted_labels"]
    assert preprocessing["formula"].startswith("(pixels * rescale - mean) / std")


def test_a_run_of_the_imported_vit_prepares_the_images_of_every_split(imported):
    import kzoo.data
    from kzoo.training.run_folder import prepared_task

    _, _, arrays = fixture("vit")
    checkpoint = imported("vit")
    images = arrays["images"].astype("float32") / 255.0  # kzoo's image tasks hold pixels in [0, 1].
    examples = [(image, index % 2) for index, image in enumerate(images)]
    task = kzoo.data.TaskData(name="photos", kind="image_classification", description="two classes", metric="accuracy",
                              seed=0, train=examples, validation=examples[:1], test=examples[:1], label_names=("a", "b"))
    prepared = prepared_task(task, checkpoint.preprocessing)
    expected = arrays["pixel_values"].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.stack([image for image, _ in prepared.train]), expected, atol=1e-5)
    assert [label for _, label in prepared.train] == [label for _, label in task.train]
    assert prepared_task(task, None) is task
