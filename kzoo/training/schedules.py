"""Learning-rate schedules: the Transformer's warm-up / inverse square root, and warm-up + cosine.

Both are serializable `keras.optimizers.schedules.LearningRateSchedule`s
(registered under the package "kzoo"), so an optimizer that uses one saves
into and loads back from a `.keras` file.

Step numbering: Keras calls a schedule with `optimizer.iterations`, which is 0
for the first update. `TransformerSchedule` evaluates the paper's formula at
`step_num = iterations + 1` (the paper counts from 1, and its formula is 0 at
step 0), so no update is wasted with a zero learning rate, and the peak falls
on iteration `warmup_steps - 1`. `WarmupCosineDecay` keeps Keras's
`CosineDecay` numbering (0 at iteration 0, the peak at iteration
`warmup_steps`), because it is exactly Keras's schedule.

Example:
```python
import keras
from kzoo.training.schedules import TransformerSchedule, WarmupCosineDecay

schedule = TransformerSchedule(d_model=512, warmup_steps=4000)
optimizer = keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)
cosine = WarmupCosineDecay(peak_learning_rate=5e-4, warmup_steps=1000, decay_steps=9000)
```
"""

import keras
from keras import ops

from kzoo.runtime.validation import (
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)


@keras.saving.register_keras_serializable(package="kzoo")
class TransformerSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, then decay with the inverse square root of the step.

    Implements the schedule of Vaswani et al. (2017), section 5.3:

        lr = scale * d_model^-0.5 * min(step_num^-0.5, step_num * warmup_steps^-1.5)

    with `step_num = iterations + 1` (see the module docstring). It rises
    linearly to `scale * (d_model * warmup_steps)^-0.5` at `step_num =
    warmup_steps`, then falls as `step_num^-0.5`. The paper uses d_model=512,
    warmup_steps=4000 and scale=1 with Adam(beta_1=0.9, beta_2=0.98,
    epsilon=1e-9).

    Args:
        d_model: int. The model width.
        warmup_steps: int, default 4000. Steps of linear warm-up.
        scale: float, default 1.0. A factor on the whole schedule (the paper
            has none; smaller models often like a larger one).

    Example:
    ```python
    schedule = TransformerSchedule(d_model=512, warmup_steps=4000)
    float(schedule(3999))      # the peak, 512**-0.5 * 4000**-0.5 = 7.0e-4
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(self, d_model, warmup_steps=4000, scale=1.0):
        super().__init__()
        self.d_model = check_positive_int("d_model", d_model)
        self.warmup_steps = check_positive_int("warmup_steps", warmup_steps)
        self.scale = check_positive_float("scale", scale)

    def __call__(self, step):
        step_num = ops.cast(step, "float32") + 1.0
        factor = ops.minimum(ops.rsqrt(step_num), step_num * self.warmup_steps**-1.5)
        return (self.scale * self.d_model**-0.5) * factor

    def get_config(self):
        return {
            "d_model": self.d_model,
            "warmup_steps": self.warmup_steps,
            "scale": self.scale,
        }


@keras.saving.register_keras_serializable(package="kzoo")
class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to a peak, then cosine decay to `alpha * peak`.

    A thin, validated wrapper over `keras.optimizers.schedules.CosineDecay`
    with `initial_learning_rate=0` and `warmup_target=peak_learning_rate`,
    which already implements this schedule:

        iterations < warmup_steps:  lr = peak * iterations / warmup_steps
        after:  t = min(iterations - warmup_steps, decay_steps) / decay_steps
                lr = peak * ((1 - alpha) * 0.5 * (1 + cos(pi * t)) + alpha)

    It stays at `alpha * peak` after `warmup_steps + decay_steps`. Its own
    config holds only the arguments below.

    Args:
        peak_learning_rate: float. The learning rate at the end of warm-up.
        warmup_steps: int. Steps of linear warm-up; 0 starts at the peak.
        decay_steps: int. Steps of cosine decay after the warm-up.
        alpha: float in [0, 1], default 0. The final learning rate as a
            fraction of the peak.

    Example:
    ```python
    schedule = WarmupCosineDecay(peak_learning_rate=1e-3, warmup_steps=100, decay_steps=900)
    float(schedule(100))       # 1e-3
    ```

    References:
        - [Loshchilov & Hutter, 2017](https://arxiv.org/abs/1608.03983) (cosine decay)
        - [Goyal et al., 2017](https://arxiv.org/abs/1706.02677) (linear warm-up)
    """

    def __init__(self, peak_learning_rate, warmup_steps, decay_steps, alpha=0.0):
        super().__init__()
        self.peak_learning_rate = check_positive_float("peak_learning_rate", peak_learning_rate)
        self.warmup_steps = check_non_negative_int("warmup_steps", warmup_steps)
        self.decay_steps = check_positive_int("decay_steps", decay_steps)
        self.alpha = check_unit_interval("alpha", alpha, closed=True)
        self._cosine = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0,
            decay_steps=self.decay_steps,
            alpha=self.alpha,
            warmup_target=self.peak_learning_rate,
            warmup_steps=self.warmup_steps,
        )

    def __call__(self, step):
        return self._cosine(step)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
        }
