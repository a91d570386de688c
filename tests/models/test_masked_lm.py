from kzoo.models import MaskedLM
from tests.models.encoders import VOCAB, backbone, inputs
from tests.models.harness import check_model


def test_generic(tmp_path):
    check_model(lambda: MaskedLM(backbone()), inputs, lambda batch, model: batch["token_ids"], tmp_path)


def test_logits_cover_the_vocabulary_and_the_task_kind_is_masked_lm():
    model = MaskedLM(backbone())
    assert model.predict(inputs(2, 6), verbose=0).shape == (2, 6, VOCAB)
    assert model.export_description().task_kind == "masked_lm"  # A bundle of it offers predict() only.
