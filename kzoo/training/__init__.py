"""Training at scale: strategies, precision, schedules, losses, optimizers, callbacks.

`import kzoo.training` is light: it imports neither TensorFlow nor Keras. The
names below load their module on first use (module-level `__getattr__`), so
`from kzoo.training import make_strategy` imports only what it needs. The
modules can also be imported directly:

| module | public names |
|---|---|
| `kzoo.training.strategy` | `make_strategy`, `check_global_batch_size`, `choose_strategy_kind`, `find_tpu` |
| `kzoo.training.precision` | `choose_precision`, `choose_policy_name`, `wrap_optimizer`, `compile_model` |
| `kzoo.training.schedules` | `TransformerSchedule`, `WarmupCosineDecay` |
| `kzoo.training.losses` | `MaskedSparseCategoricalCrossentropy`, `MaskedAccuracy`, `smoothed_sparse_categorical_crossentropy` |
| `kzoo.training.optimizers` | `make_optimizer`, and `AdamW`, `Adam`, `SGD`, `LossScaleOptimizer`: Keras's, with clipping and loss scaling fixed for several replicas |
| `kzoo.training.callbacks` | `standard_callbacks`, `BestModelCheckpoint`, `AtomicBackupAndRestore`, `read_backup_state` |
| `kzoo.training.multi_worker` | multi-worker `model.fit` under Keras 3 (keras-team/keras#20585) |

The schedules, losses, metric and optimizers are registered Keras
serializables (package "kzoo"). Keras imports only its own packages while
loading a `.keras` file, so import them before `keras.saving.load_model` on
a model compiled with them: `kzoo.training.custom_objects()` does that and
returns them.

Example:
```python
import keras
from kzoo.training import (MaskedSparseCategoricalCrossentropy, TransformerSchedule,
                           choose_precision, make_optimizer, make_strategy, standard_callbacks)

strategy = make_strategy("auto")
choose_precision("auto", strategy=strategy)
with strategy.scope():
    model = ...                                   # a kzoo model
    model.compile(
        optimizer=make_optimizer("adamw", TransformerSchedule(d_model=256), global_clipnorm=1.0),
        loss=MaskedSparseCategoricalCrossentropy(ignore_class=0, label_smoothing=0.1),
    )
model.fit(train, validation_data=valid, epochs=10, callbacks=standard_callbacks("runs/demo"))
```
"""

_EXPORTS = {
    "strategy": (
        "STRATEGY_NAMES",
        "check_global_batch_size",
        "choose_strategy_kind",
        "find_tpu",
        "make_strategy",
    ),
    "precision": ("PRECISIONS", "choose_policy_name", "choose_precision", "compile_model", "wrap_optimizer"),
    "schedules": ("TransformerSchedule", "WarmupCosineDecay"),
    "losses": (
        "MaskedAccuracy",
        "MaskedSparseCategoricalCrossentropy",
        "smoothed_sparse_categorical_crossentropy",
    ),
    "optimizers": ("OPTIMIZER_NAMES", "make_optimizer"),  # Classes: kzoo.training.optimizers.
    "callbacks": (
        "AtomicBackupAndRestore",
        "BestModelCheckpoint",
        "read_backup_state",
        "standard_callbacks",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF) + ["custom_objects", "load_model"]


def _submodule(module):
    """The submodule `module` of kzoo.training, imported on first use (static imports: the layout test reads them)."""
    if module == "strategy":
        from kzoo.training import strategy as found
    elif module == "precision":
        from kzoo.training import precision as found
    elif module == "schedules":
        from kzoo.training import schedules as found
    elif module == "losses":
        from kzoo.training import losses as found
    elif module == "optimizers":
        from kzoo.training import optimizers as found
    else:
        from kzoo.training import callbacks as found
    return found


def __getattr__(name):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_submodule(module), name)
    globals()[name] = value  # Later lookups skip __getattr__.
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


def custom_objects():
    """Imports kzoo.training's Keras serializables and returns them by registered name.

    Returns:
        dict, e.g. `{"kzoo>TransformerSchedule": TransformerSchedule, ...}`,
        usable as `keras.saving.load_model(path, custom_objects=...)`
        (importing them is already enough: they are registered).
    """
    from kzoo.training import losses, optimizers, schedules

    classes = (
        schedules.TransformerSchedule,
        schedules.WarmupCosineDecay,
        losses.MaskedSparseCategoricalCrossentropy,
        losses.MaskedAccuracy,
        optimizers.AdamW,
        optimizers.Adam,
        optimizers.SGD,
        optimizers.LossScaleOptimizer,
    )
    return {f"kzoo>{cls.__name__}": cls for cls in classes}


def load_model(path, compile=False):
    """Loads any kzoo `.keras` file: a model family, a keras-hub import, a compiled training run.

    Keras finds a class in a `.keras` file only once it is registered, which
    happens when its module is imported; this imports the kzoo model families and
    layers (`kzoo.models`) and the training serializables, then loads the file.
    `kzoo.load_model` is this function.

    Args:
        path: str or path. A `.keras` file (e.g. `runs/NAME/model.keras`).
        compile: bool. Also restore the optimizer, loss and metrics. Defaults to False.

    Example:
    ```python
    model = kzoo.load_model("runs/transformer_small-numbers_en_de/model.keras")
    ```
    """
    import keras

    import kzoo.models  # noqa: F401  (registers the kzoo families and layers)

    return keras.saving.load_model(path, custom_objects=custom_objects(), compile=compile)
