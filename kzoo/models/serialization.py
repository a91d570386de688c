"""Config helpers shared by the functional kzoo models."""

import keras


def backbone_config(model, *names):
    """`get_config()` of a functional kzoo model: its name, dtype policy and the named arguments."""
    config = {"name": model.name, "trainable": model.trainable, "dtype": keras.dtype_policies.serialize(model.dtype_policy)}
    config.update({name: getattr(model, name) for name in names})
    return config


def task_config(task, *names):
    """`get_config()` of a task: the serialized backbone plus the named head arguments."""
    config = backbone_config(task, *names)
    del config["dtype"]  # A task always computes in its backbone's dtype policy.
    config["backbone"] = keras.layers.serialize(task.backbone)
    return config


def backbone_from_config(config):
    """Inverse of `task_config` for the backbone entry."""
    config = dict(config)
    if isinstance(config.get("backbone"), dict):
        config["backbone"] = keras.layers.deserialize(config["backbone"])
    return config


def set_dtype_policy(model, dtype):
    """Record `dtype` on a functional model: `Functional.__init__` ignores it.

    Without this, a model built with `dtype="mixed_bfloat16"` reports (and saves) a
    float32 policy while its layers compute in bfloat16.
    """
    if dtype is not None:
        model.dtype_policy = keras.dtype_policies.get(dtype)
