import pytest

import kzoo
from kzoo.presets import PRESETS

PUBLISHED = {
    "bert_base": 109_482_240,  # Backbone with pooler; the preset adds a 2-class head.
    "gpt2_small": 124_439_808,
    "vit_b16": 86_567_656,
    "transformer_base": 63_082_496,
    "transformer_big": 214_245_376,
}
SMALL = [name for name in PRESETS if name not in PUBLISHED]


@pytest.mark.parametrize("name", SMALL)
def test_small_presets_build_with_their_listed_parameter_count(name):
    assert kzoo.create(name).count_params() == PRESETS[name]["parameters"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_configurations_have_their_exact_parameter_counts(name):
    model = kzoo.create(name)
    counted = model.backbone.count_params() if name == "bert_base" else model.count_params()
    assert counted == PUBLISHED[name]
    assert model.count_params() == PRESETS[name]["parameters"]


def test_every_family_has_tiny_and_small_presets():
    families = {p["family"] for p in PRESETS.values()}
    for family in families:
        names = [n for n, p in PRESETS.items() if p["family"] == family]
        assert any(n.endswith("_tiny") for n in names) and any(n.endswith("_small") for n in names), family


def test_list_models_matches_presets():
    rows = kzoo.list_models()
    assert [r["name"] for r in rows] == list(PRESETS)
    assert {"name", "family", "parameters", "description"} <= set(rows[0])


def test_unknown_name_suggests_close_ones():
    with pytest.raises(ValueError, match="Unknown model preset 'transformer_smal'. Did you mean transformer_small"):
        kzoo.create("transformer_smal")


def test_unknown_override_lists_valid_arguments():
    with pytest.raises(ValueError, match="does not take num_layer;.*num_layers"):
        kzoo.create("transformer_tiny", num_layer=3)


def test_overrides_reach_backbone_and_head():
    model = kzoo.create("classifier_tiny", num_layers=1, num_classes=5, vocabulary_size=77)
    assert model.backbone.num_layers == 1 and model.num_classes == 5 and model.backbone.vocabulary_size == 77


def test_an_explicit_dtype_policy_survives_save_and_load(tmp_path):
    import keras

    model = kzoo.create("classifier_tiny", dtype="mixed_bfloat16")
    assert model.dtype_policy.name == "mixed_bfloat16"
    model.save(tmp_path / "model.keras")
    assert keras.models.load_model(tmp_path / "model.keras").dtype_policy.name == "mixed_bfloat16"
