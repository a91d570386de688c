"""Images prepared as an imported checkpoint's image processor prepares them, without TensorFlow.

An imported ViT records how its pixels must look (`preprocessing` in the run's
config.json and in the bundle's manifest: `rescale`, `mean`, `std`, per
channel, for pixels in 0..255). kzoo's image tasks hold pixels in [0, 1];
`prepare_images` turns either into what the model was trained on. Training and
evaluation of a run that records `preprocessing` apply it to every split
(`kzoo.training.run_folder`), and `BundleModel.prepare_images` does it for a
bundle's callers.

Example:
```python
prepared = prepare_images(images, manifest["task"]["preprocessing"], pixel_range=1.0)
```
"""

import numpy as np


def prepare_images(images, preprocessing, pixel_range=255.0):
    """`(pixels * rescale - mean) / std` per channel, with pixels first brought to 0..255.

    Args:
        images: float array `[B, H, W, C]` (or one `[H, W, C]`).
        preprocessing: dict with `rescale`, `mean`, `std` (an imported checkpoint's).
        pixel_range: float. What a full-intensity pixel is in `images`: 255 for
            raw pixels (default), 1.0 for kzoo's image tasks.

    Returns:
        float32 array of the same shape.
    """
    pixels = np.asarray(images, "float32") * (255.0 / float(pixel_range))
    mean = np.asarray(preprocessing["mean"], "float32")
    std = np.asarray(preprocessing["std"], "float32")
    channels = pixels.shape[-1]
    if mean.shape[-1] != channels:
        raise ValueError(f"The images have {channels} channels, but the checkpoint's preprocessing normalises "
                         f"{mean.shape[-1]}; give images of {mean.shape[-1]} channels.")
    return (pixels * float(preprocessing["rescale"]) - mean) / std
