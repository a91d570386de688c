"""Mixed precision and XLA: pick a dtype policy, scale the loss, compile.

`choose_precision("auto")` sets the global Keras dtype policy
(`keras.config.set_dtype_policy`) and returns its name:

| device | "auto" gives | why |
|---|---|---|
| GPU (compute capability >= 7.0) | `mixed_float16` | Tensor Cores; needs loss scaling |
| GPU (older) | `float32` | no fast float16 there |
| TPU | `mixed_bfloat16` | native bfloat16, no loss scaling |
| CPU | `mixed_bfloat16` | bfloat16 has float32's range, so no loss scaling; half the activation memory |

On CPU, speed depends on bfloat16 instructions: on this project's 2-core
machine (AVX512-BF16), a training step of a 2-block, d=256 Transformer
took the same CPU time in `mixed_bfloat16` as in `float32` (0.23 s; a rough
measurement on a shared machine). On CPUs without bfloat16 instructions it
can be slower: ask for `float32` there.

Any of `float32`, `mixed_float16`, `mixed_bfloat16` can be asked for by
name. Set the policy before building the model: layers read the global
policy when they are created. kzoo's attention keeps its softmax in float32
under every policy.

Loss scaling: float16 gradients underflow, so `mixed_float16` trains with a
dynamic loss scale. `wrap_optimizer(optimizer, policy)` wraps for
`mixed_float16` only, in `kzoo.training.optimizers.LossScaleOptimizer`:
Keras's `LossScaleOptimizer` with a finiteness check that covers every
replica (Keras 3.15 looks at the first replica only and applies another
replica's infinite gradients; see `kzoo.training.optimizers`). It unscales
the gradients before the wrapped optimizer clips and applies them, so
`global_clipnorm` acts on the true gradients. Keras's `compile` wraps too,
in its own class, when the *model's* policy is `mixed_float16` and the
optimizer is not wrapped yet; `compile_model` always wraps first. A fixed
scale is also possible with the optimizer's `loss_scale_factor` argument
(not used by kzoo).

XLA: `compile_model(..., jit_compile=...)` passes `jit_compile` through to
`model.compile`: `"auto"` (Keras's default: XLA on when every layer supports
it), `True` or `False`. XLA fuses ops and usually speeds up GPU/TPU steps
(TPUs always compile with XLA); on a small CPU the first step's compile time
can outweigh the gain, and `False` is the safer choice for short runs.

Example:
```python
import keras
from kzoo.training.precision import choose_precision, compile_model

policy = choose_precision("auto")            # "mixed_bfloat16" on a CPU machine
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
compile_model(model, keras.optimizers.AdamW(1e-3), loss="mse", jit_compile=False)
```
"""

from kzoo.runtime.validation import check_choice

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
DEVICE_TYPES = ("cpu", "gpu", "tpu")
_MIN_FLOAT16_COMPUTE_CAPABILITY = (7, 0)


def choose_policy_name(requested, device_type, gpu_compute_capability=None):
    """The dtype policy name for a request on a device type (pure function).

    Args:
        requested: str, one of `PRECISIONS`.
        device_type: str, one of `DEVICE_TYPES`.
        gpu_compute_capability: optional `(major, minor)` of the slowest GPU;
            under "auto", a GPU below 7.0 gets "float32". None means unknown
            and counts as recent.

    Returns:
        "float32", "mixed_float16" or "mixed_bfloat16".

    Example:
    ```python
    choose_policy_name("auto", "gpu")      # "mixed_float16"
    ```
    """
    check_choice("requested", requested, PRECISIONS)
    check_choice("device_type", device_type, DEVICE_TYPES)
    if requested != "auto":
        return requested
    if device_type == "gpu":
        if (
            gpu_compute_capability is not None
            and tuple(gpu_compute_capability) < _MIN_FLOAT16_COMPUTE_CAPABILITY
        ):
            return "float32"
        return "mixed_float16"
    return "mixed_bfloat16"


def detect_device_type(strategy=None):
    """"tpu", "gpu" or "cpu": where `strategy` (or this process) computes.

    Args:
        strategy: optional `tf.distribute.Strategy`. A `TPUStrategy` means
            "tpu"; otherwise the strategy's worker devices decide, and without
            a strategy the visible GPUs do.
    """
    import tensorflow as tf

    if strategy is not None:
        if isinstance(strategy, tf.distribute.TPUStrategy):
            return "tpu"
        try:
            devices = tuple(strategy.extended.worker_devices)
        except RuntimeError:  # The default strategy lists no devices.
            devices = ()
        if devices:
            return "gpu" if any("GPU" in d.upper() for d in devices) else "cpu"
    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def _gpu_compute_capability():
    """The lowest `(major, minor)` among visible GPUs, or None if unknown."""
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        if details.get("compute_capability"):
            capabilities.append(tuple(details["compute_capability"]))
    return min(capabilities) if capabilities else None


def choose_precision(requested="auto", strategy=None, device_type=None):
    """Sets the global Keras dtype policy and returns its name.

    Args:
        requested: str, default "auto". One of `PRECISIONS`; "auto" picks by
            device (see the module docstring).
        strategy: optional `tf.distribute.Strategy` the model will train
            under, used to detect the device type.
        device_type: optional str, one of `DEVICE_TYPES`; overrides detection.

    Returns:
        str, the policy name now set ("float32", "mixed_float16" or
        "mixed_bfloat16").

    Raises:
        ValueError: for an unknown `requested` or `device_type`.
    """
    import keras

    check_choice("requested", requested, PRECISIONS)
    if device_type is None:
        device_type = detect_device_type(strategy)
    capability = (
        _gpu_compute_capability() if requested == "auto" and device_type == "gpu" else None
    )
    name = choose_policy_name(requested, device_type, capability)
    keras.config.set_dtype_policy(name)
    return name


def _policy_name(policy):
    if isinstance(policy, str):
        return policy
    name = getattr(policy, "name", None)
    if not isinstance(name, str):
        raise ValueError(
            "Received an invalid value for argument `policy`, expected a policy "
            f"name or a keras.DTypePolicy. Received: policy={policy!r}"
        )
    return name


def wrap_optimizer(optimizer, policy=None):
    """Wraps `optimizer` in a `LossScaleOptimizer` under `mixed_float16` only.

    Args:
        optimizer: a `keras.optimizers.Optimizer`.
        policy: a policy name or `keras.DTypePolicy`; defaults to the global
            policy.

    Returns:
        For `mixed_float16`, a `kzoo.training.optimizers.LossScaleOptimizer`
        (a `keras.optimizers.LossScaleOptimizer` that stays right under
        several replicas) around `optimizer`; a Keras `LossScaleOptimizer` is
        rewrapped the same way. For other policies, `optimizer` itself.

    Example:
    ```python
    wrap_optimizer(keras.optimizers.AdamW(1e-3), "mixed_float16")   # LossScaleOptimizer
    ```
    """
    import keras

    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            "Received an invalid value for argument `optimizer`, expected a "
            f"keras.optimizers.Optimizer instance. Received: optimizer={optimizer!r}"
        )
    from kzoo.training.optimizers import LossScaleOptimizer

    name = _policy_name(keras.config.dtype_policy() if policy is None else policy)
    if name != "mixed_float16" or isinstance(optimizer, LossScaleOptimizer):
        return optimizer
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # Keras's own: rewrap its inner optimizer in kzoo's, whose finiteness
        # check covers every replica.
        if optimizer.built:
            raise ValueError(
                "Received an invalid value for argument `optimizer`, expected an "
                "optimizer that has not been built yet (to rewrap it). "
                f"Received: optimizer={optimizer!r}"
            )
        return LossScaleOptimizer(
            optimizer.inner_optimizer,
            initial_scale=optimizer.initial_scale,
            dynamic_growth_steps=optimizer.dynamic_growth_steps,
        )
    return LossScaleOptimizer(optimizer)


def compile_model(model, optimizer, loss, *, policy=None, jit_compile="auto", **compile_kwargs):
    """`model.compile` with the optimizer wrapped for `policy` and `jit_compile` passed through.

    Args:
        model: a `keras.Model`.
        optimizer: a `keras.optimizers.Optimizer` (see `wrap_optimizer`).
        loss: anything `model.compile` accepts as `loss`.
        policy: a policy name or `keras.DTypePolicy`; defaults to the model's.
        jit_compile: "auto" (default), True or False; passed to `compile`.
        **compile_kwargs: other `model.compile` arguments (`metrics`, ...).

    Returns:
        `model`, compiled.

    Raises:
        ValueError: for a `jit_compile` other than "auto", True or False.
    """
    if not (isinstance(jit_compile, bool) or jit_compile == "auto"):
        raise ValueError(
            "Received an invalid value for argument `jit_compile`, expected "
            f"'auto', True or False. Received: jit_compile={jit_compile!r}"
        )
    policy = model.dtype_policy if policy is None else policy
    model.compile(
        optimizer=wrap_optimizer(optimizer, policy),
        loss=loss,
        jit_compile=jit_compile,
        **compile_kwargs,
    )
    return model
