"""export.tflite: builtins-only conversion, the quantization variants, and full-int8 calibration data."""

import numpy as np
import pytest
import tensorflow as tf

import kzoo
from export.bundle import ExportOptions
from export.graphs import describe, export_graphs
from export.parity import KerasReference
from export.tflite import QUANTIZATIONS, SelectOpsRequiredError, convert_to_tflite, quantization, representative_dataset


def test_each_quantization_configures_the_converter():
    converters = {}
    for precision in QUANTIZATIONS:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([])
        quantization(precision, representative_dataset=lambda: iter(()))(converter)
        converters[precision] = converter
    assert not converters["fp32"].optimizations
    assert converters["fp16"].target_spec.supported_types == [tf.float16]
    assert converters["dynamic_int8"]._experimental_disable_per_channel_quantization_for_dense_layers
    assert tf.lite.OpsSet.TFLITE_BUILTINS_INT8 in converters["int8"].target_spec.supported_ops


def test_calibration_yields_every_signature_with_its_dtypes_and_one_row_each_for_a_fixed_batch():
    model = kzoo.create("gru_tiny", vocabulary_size=30)
    description = describe(model, max_length=6)
    ids = np.random.default_rng(0).integers(5, 30, (3, 4)).astype("int32")
    reference = KerasReference(model, description, {"encoder_token_ids": ids, "encoder_padding_mask": np.ones_like(ids)},
                               ExportOptions(special_tokens={"start": 2, "end": 3}, max_new_tokens=3))
    samples = list(representative_dataset(reference, export_graphs(model, description), static_batch=True)())
    assert {name for name, _ in samples} == {"serving_default", "encode", "decode_step"}
    for name, inputs in samples:
        assert all(value.shape[0] == 1 for value in inputs.values()), name
    step = next(inputs for name, inputs in samples if name == "decode_step")
    assert step["positions"].dtype == np.int32 and step["state"].dtype == np.float32 and step["positions"].shape == (1,)


def test_an_op_outside_the_builtins_is_named():
    function = tf.function(lambda x: {"y": tf.strings.length(x)}, input_signature=[tf.TensorSpec([None], tf.string, name="x")])
    with pytest.raises(SelectOpsRequiredError, match="TFLite builtins cannot run the TensorFlow ops"):
        convert_to_tflite({"serving_default": function.get_concrete_function()})
