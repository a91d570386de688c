"""Checks every model family passes: fit lowers the loss, .keras round trip, shapes, bf16.

Per-family tests call `check_model` with a factory and an input maker, then test
what is particular to the family.
"""

import numpy as np
import keras


def check_model(make_model, make_inputs, make_targets, tmp_path, variable_length=True, atol=1e-5):
    """`make_inputs(batch, length)` -> dict of arrays; `make_targets(inputs, model)` -> labels."""
    model = make_model()
    config = model.get_config()
    assert type(model).from_config(config).get_config() == config

    # fit lowers the loss on a tiny synthetic batch.
    inputs = make_inputs(4, 8)
    targets = make_targets(inputs, model)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    before = model.evaluate(inputs, targets, verbose=0)
    model.fit(inputs, targets, epochs=15, batch_size=4, verbose=0)
    after = model.evaluate(inputs, targets, verbose=0)
    assert after < 0.7 * before, f"loss went from {before} to {after}"

    # .keras save/load gives identical outputs.
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=0)

    # predict on batch sizes 1 and 3, and on another length.
    lengths = (5, 11) if variable_length else (8, 8)
    for batch, length in ((1, lengths[0]), (3, lengths[1])):
        outputs = model.predict(make_inputs(batch, length), verbose=0)
        assert outputs.shape[0] == batch
        assert np.all(np.isfinite(outputs))

    # mixed_bfloat16: same architecture builds and trains one step with a finite loss.
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = make_model()
        assert mixed.dtype_policy.name == "mixed_bfloat16"
        mixed.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = mixed.fit(inputs, targets, epochs=1, batch_size=4, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        assert mixed.predict(inputs, verbose=0).dtype == np.float32  # Logits stay float32.
    finally:
        keras.config.set_dtype_policy("float32")
    return model


def random_ids(batch, length, vocabulary, seed=0, low=1):
    return np.random.default_rng(seed).integers(low, vocabulary, size=(batch, length)).astype("int32")


def ragged_mask(batch, length, seed=0):
    """Padding masks with rows of different lengths (at least 2 real tokens each)."""
    lengths = np.random.default_rng(seed).integers(2, length + 1, size=batch)
    lengths[0] = length
    return (np.arange(length)[None, :] < lengths[:, None]).astype("int32")


def check_cached_steps_equal_full_forward(model, full_inputs, start_inputs, target_ids, atol=1e-5):
    """Feeding `target_ids` one token at a time through decode_step reproduces the full logits."""
    full = model.predict(full_inputs, verbose=0)
    length = target_ids.shape[1]
    state = model.start_decoding(start_inputs, max_length=length + 2)
    steps = []
    for t in range(length):
        logits, state = model.decode_step(target_ids[:, t : t + 1], state, t)
        steps.append(np.asarray(logits))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=atol)


def check_rows_decode_at_their_own_positions(model, start_inputs, target_ids, atol=1e-5):
    """A decode step given a position per row (`index` `[B]`) equals each row's own scalar-index steps.

    Every row is prefilled to the same width with junk after its own length, then
    steps from its own position: what it writes must replace the junk, and what
    it has not written yet must stay out of sight.
    """
    batch, length = target_ids.shape
    state = model.start_decoding(start_inputs, max_length=length + 2)
    expected = []
    for t in range(length):
        logits, state = model.decode_step(target_ids[:, t : t + 1], state, t)
        expected.append(np.asarray(logits[:, 0]))
    expected = np.stack(expected, axis=1)  # [B, T, V]
    lengths = np.arange(batch) % (length - 2) + 1
    junk = np.where(np.arange(length)[None, :] < lengths[:, None], target_ids, (target_ids + 1) % 7 + 1)
    state = model.start_decoding(start_inputs, max_length=length + 2)
    _, state = model.decode_step(junk[:, : length - 1].astype("int32"), state, np.zeros(batch, "int32"))
    rows = np.arange(batch)
    for offset in range(2):
        positions = (lengths + offset).astype("int32")
        tokens = target_ids[rows, positions][:, None]
        logits, new = model.decode_step(tokens, state, positions, write_cache=False)
        np.testing.assert_allclose(np.asarray(logits[:, 0]), expected[rows, positions], atol=atol)
        written, state = model.decode_step(tokens, state, positions)
        np.testing.assert_allclose(np.asarray(written), np.asarray(logits), atol=atol)
        # Without writing, a step returns each cache's new keys and values: what writing puts at the positions.
        for name in (name for name in state if name.startswith("cache_")):
            placed = np.asarray(state[name])[rows, :, :, positions]  # [B, 2, H, K]
            np.testing.assert_allclose(np.asarray(new[name])[:, :, :, 0], placed, atol=atol)
