"""Image classification: scikit-learn's 8x8 handwritten digits (`load_digits`).

scikit-learn ships the 1,797 images (UCI optical digits); they are scaled from
0..16 to float32 in [0, 1] and given a channel axis, so each image is
`[8, 8, 1]`. The split is a seeded, class-stratified permutation.

Example:
```python
task = kzoo.data.load_task("digits")
image, label = task.train[0]   # image.shape == (8, 8, 1)
```
"""

import numpy as np

from kzoo.data.registry import register_task

SEED = 8
TOTAL_IMAGES = 1797
VALIDATION_PER_CLASS = 18
TEST_PER_CLASS = 18
CLASS_COUNT = 10


def _split_sizes():
    validation = VALIDATION_PER_CLASS * CLASS_COUNT
    test = TEST_PER_CLASS * CLASS_COUNT
    return TOTAL_IMAGES - validation - test, validation, test


def _build(seed):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")[..., np.newaxis]
    images.setflags(write=False)
    labels = digits.target.astype(int)
    rng = np.random.default_rng(seed)
    train_indices, validation_indices, test_indices = [], [], []
    for label in range(CLASS_COUNT):
        indices = rng.permutation(np.flatnonzero(labels == label))
        test_indices += indices[:TEST_PER_CLASS].tolist()
        validation_indices += indices[TEST_PER_CLASS : TEST_PER_CLASS + VALIDATION_PER_CLASS].tolist()
        train_indices += indices[TEST_PER_CLASS + VALIDATION_PER_CLASS :].tolist()
    splits = []
    for indices in (train_indices, validation_indices, test_indices):
        order = rng.permutation(indices)
        splits.append([(images[i], int(labels[i])) for i in order])
    train, validation, test = splits
    return train, validation, test, tuple(str(d) for d in range(CLASS_COUNT))


register_task(
    "digits",
    kind="image_classification",
    description="scikit-learn's 8x8 handwritten digits, 10 classes, float32 images [8, 8, 1].",
    metric="accuracy",
    seed=SEED,
    builder=_build,
    split_sizes=_split_sizes,
)
