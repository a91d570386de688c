"""GPT-2 checkpoints against transformers: logits, byte-level BPE ids, greedy and beam continuations."""

import numpy as np

from kzoo.runtime import decoding
from tests.checkpoints.conftest import LOGIT_TOLERANCE, KerasBackend, fixture, same_tokens


def test_logits_and_tokens_match_transformers(imported):
    _, reference, arrays = fixture("gpt2")
    checkpoint = imported("gpt2")
    prompts = arrays["input_ids"].astype("int32")
    logits = np.asarray(checkpoint.model({"token_ids": prompts, "padding_mask": np.ones_like(prompts)}))
    assert np.abs(logits - arrays["logits"]).max() < LOGIT_TOLERANCE
    tokenizer = checkpoint.tokenizer
    assert tokenizer.encode(reference["prompts"]) == prompts.tolist()
    for example in reference["tokenizer_examples"]:
        assert tokenizer.encode([example["text"]])[0] == example["input_ids"], example["text"]
    assert [tokenizer.decode(row) for row in arrays["greedy_ids"]] == reference["greedy_texts_skip_special"]


def test_greedy_and_beam_continuations_are_token_identical(imported):
    _, reference, arrays = fixture("gpt2")
    checkpoint = imported("gpt2")
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    prompts = arrays["input_ids"].astype("int32")
    width = prompts.shape[1]
    new_tokens = reference["beam_generate_kwargs"]["max_new_tokens"]
    inputs = {"token_ids": prompts, "padding_mask": np.ones_like(prompts)}
    special = dict(end_token_id=tokenizer.end_id, pad_token_id=tokenizer.end_id)  # GPT-2 pads with its end token.
    beam = dict(strategy="beam", num_beams=4, length_penalty=1.0, early_stopping=False, length_normalization="average")
    description = model.export_description(max_length=width + new_tokens)
    backend = KerasBackend(model, description)
    positions = decoding.decoded_positions(width + new_tokens, False)
    for strategy, expected in (({}, arrays["greedy_ids"][:, width:]), (beam, arrays["beam_ids"][:, width:])):
        keras_tokens = np.asarray(model.generate(inputs, new_tokens, **special, **strategy))
        options = decoding.DecodingOptions(**special, **strategy)
        runtime_tokens = decoding.generate(backend, description.decoding_layout(), inputs, new_tokens, positions, options)
        assert same_tokens(keras_tokens, expected, tokenizer.end_id), strategy
        assert same_tokens(runtime_tokens, expected, tokenizer.end_id), strategy
    assert not np.array_equal(arrays["greedy_ids"], arrays["beam_ids"])
