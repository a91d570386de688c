import collections

import numpy as np

import kzoo.data
from kzoo.data.tasks import digits


def test_images_are_float32_with_channel_axis_and_stratified():
    task = kzoo.data.load_task("digits")
    image, label = task.train[0]
    assert image.shape == (8, 8, 1) and image.dtype == np.float32
    everything = np.stack([image for split in (task.train, task.validation, task.test) for image, _ in split])
    assert everything.min() == 0.0 and everything.max() == 1.0
    assert collections.Counter(label for _, label in task.test) == {d: digits.TEST_PER_CLASS for d in range(10)}
    assert task.label_names == tuple("0123456789")


def test_deterministic_and_disjoint():
    first = digits._build(digits.SEED)
    second = digits._build(digits.SEED)
    for a, b in zip(first[0][:50], second[0][:50]):
        assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    fingerprints = [
        {(image.tobytes(), label) for image, label in split} for split in first[:3]
    ]
    total = sum(len(split) for split in first[:3])
    assert total == digits.TOTAL_IMAGES
    # load_digits holds a handful of exact duplicate images; the split is by index, so allow them.
    assert len(fingerprints[0] & fingerprints[2]) <= 5
