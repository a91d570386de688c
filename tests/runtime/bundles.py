"""Tiny bundles for the runtime and server tests, built once per test session, with Keras reference outputs.

Each bundle is an untrained tiny kzoo model exported with `export_bundle` (ONNX and
TFLite fp32) together with a tokenizer trained by `kzoo.data` on a small inline
corpus. Next to each bundle, `reference.json` holds what the Keras model itself
gives on the test inputs, computed with the TensorFlow tokenizer (`kzoo.data`),
packed as the data pipelines pack, and run through `model.predict` /
`model.generate`: the runtime tests compare the TF-free runtime against it.

`bundles(tmp_path_factory)` builds them under a folder that every pytest-xdist
worker of the session shares, behind a file lock, so the runtime tests and the
server tests build them once between them.
"""

import fcntl
import json
import os
from pathlib import Path

import numpy as np

NAMES = ("translator", "classifier", "tagger", "lm", "gru", "vit")

TRANSLATION_TEXTS = ["three hundred and forty-seven", "twelve", "one thousand and one", "ninety-nine"]
CLASSIFICATION_TEXTS = ["the film was great fun", "a dull and slow story", "it is a film", "great"]
CLASSIFICATION_LABELS = ["negative", "neutral", "positive"]
TAGGING_TEXTS = ["Anna lives in Berlin", "Mark Kloppert will lead the team in Jersey .", "Berlin"]
TAG_NAMES = ["O", "B-PER", "B-LOC"]
LM_PROMPTS = ["the model reads", "a story", "the film was great fun and the story"]
TRANSLATOR_MAX_LENGTH = 20  # decoding cache of the translator bundle
LM_MAX_LENGTH = 48
BEAM = {"num_beams": 3, "length_penalty": 0.6}

_WORDS = (
    "the a film story team model was is great fun dull slow and it reads lives in lead will city river "
    "Anna Mark Berlin Jersey Kloppert Paris good bad long short very not"
).split()


def _number_corpus():
    from num2words import num2words

    numbers = list(range(0, 120)) + list(range(120, 3000, 37))
    return [num2words(n, lang="en") for n in numbers] + [num2words(n, lang="de") for n in numbers]


def _word_corpus():
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(_WORDS, size=rng.integers(2, 9))) for _ in range(400)] + list(_WORDS)


def _special(tokenizer):
    return {"pad": tokenizer.pad_id, "unknown": tokenizer.unknown_id, "start": tokenizer.start_id,
            "end": tokenizer.end_id, "mask": tokenizer.mask_id}


def _pack(rows, start, end, pad=0, width=None):
    rows = [([start] if start is not None else []) + list(r) + ([end] if end is not None else []) for r in rows]
    width = width or max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad, "int32")
    mask = np.zeros((len(rows), width), "int32")
    for i, r in enumerate(rows):
        ids[i, : len(r)], mask[i, : len(r)] = r, 1
    return ids, mask


def _softmax(logits):
    logits = np.asarray(logits, "float64")
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _translator(folder, tokenizer_dir, tokenizer):
    import kzoo
    from export.bundle import ExportOptions, export_bundle

    model = kzoo.create("transformer_tiny", vocabulary_size=tokenizer.vocabulary_size, max_sequence_length=32, num_layers=1)
    ids, mask = _pack(tokenizer.encode(TRANSLATION_TEXTS), tokenizer.start_id, tokenizer.end_id)
    source = {"encoder_token_ids": ids, "encoder_padding_mask": mask}
    special = _special(tokenizer)
    export_bundle(model, folder, source, ExportOptions(formats=("onnx", "tflite"), quantize=("fp32",), special_tokens=special,
                  task={"name": "toy_numbers", "kind": "translation"}, tokenizer_dir=tokenizer_dir,
                  max_new_tokens=6, max_length=TRANSLATOR_MAX_LENGTH))
    tokens = {"start_token_id": tokenizer.start_id, "end_token_id": tokenizer.end_id, "pad_token_id": tokenizer.pad_id}
    greedy = model.generate(source, TRANSLATOR_MAX_LENGTH, **tokens)
    beam = model.generate(source, TRANSLATOR_MAX_LENGTH, strategy="beam", **BEAM, **tokens)
    return {
        "texts": TRANSLATION_TEXTS, "encoder_token_ids": ids.tolist(), "encoder_padding_mask": mask.tolist(),
        "greedy_tokens": np.asarray(greedy).tolist(), "beam_tokens": np.asarray(beam).tolist(),
        "greedy_texts": [tokenizer.decode(row) for row in np.asarray(greedy)],
    }


def _classifier(folder, tokenizer_dir, tokenizer):
    import kzoo
    from export.bundle import ExportOptions, export_bundle

    model = kzoo.create("classifier_tiny", vocabulary_size=tokenizer.vocabulary_size, max_sequence_length=32, num_layers=1,
                        num_classes=len(CLASSIFICATION_LABELS))
    ids, mask = _pack(tokenizer.encode(CLASSIFICATION_TEXTS), tokenizer.start_id, tokenizer.end_id)
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}
    export_bundle(model, folder, inputs, ExportOptions(formats=("onnx", "tflite"), quantize=("fp32",), special_tokens=_special(tokenizer),
                  task={"name": "toy_sentiment", "kind": "classification", "label_names": CLASSIFICATION_LABELS},
                  tokenizer_dir=tokenizer_dir))
    probabilities = _softmax(model.predict(inputs, verbose=0))
    return {"texts": CLASSIFICATION_TEXTS, "probabilities": probabilities.tolist()}


def _tagger(folder, tokenizer_dir, tokenizer):
    import kzoo
    from export.bundle import ExportOptions, export_bundle

    model = kzoo.create("tagger_tiny", vocabulary_size=tokenizer.vocabulary_size, max_sequence_length=32, num_layers=1,
                        num_tags=len(TAG_NAMES))
    rows, starts = [], []
    for text in TAGGING_TEXTS:  # As kzoo.data.align_word_labels: every word but the last gets a trailing space.
        words = text.split()
        pieces = tokenizer.encode([w + " " for w in words[:-1]] + [words[-1]])
        starts.append(list(np.cumsum([0] + [len(p) for p in pieces[:-1]])))
        rows.append([i for p in pieces for i in p])
    ids, mask = _pack(rows, tokenizer.start_id, tokenizer.end_id)
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask}
    export_bundle(model, folder, inputs, ExportOptions(formats=("onnx", "tflite"), quantize=("fp32",), special_tokens=_special(tokenizer),
                  task={"name": "toy_ner", "kind": "tagging", "label_names": TAG_NAMES}, tokenizer_dir=tokenizer_dir))
    probabilities = _softmax(model.predict(inputs, verbose=0))
    tags = [[TAG_NAMES[int(probabilities[r, 1 + s].argmax())] for s in row] for r, row in enumerate(starts)]
    return {"texts": TAGGING_TEXTS, "tags": tags, "token_ids": ids.tolist(), "probabilities": probabilities.tolist()}


def _lm(folder, tokenizer_dir, tokenizer):
    import kzoo
    from export.bundle import ExportOptions, export_bundle

    model = kzoo.create("causal_lm_tiny", vocabulary_size=tokenizer.vocabulary_size, max_sequence_length=64, num_layers=1)
    sample = _pack([tokenizer.encode(["the film was"])[0]] * 2, tokenizer.start_id, None)
    export_bundle(model, folder, {"token_ids": sample[0], "padding_mask": sample[1]}, ExportOptions(formats=("onnx", "tflite"),
                  quantize=("fp32",), special_tokens=_special(tokenizer),
                  task={"name": "toy_text", "kind": "language_modeling"}, tokenizer_dir=tokenizer_dir,
                  max_new_tokens=4, max_length=LM_MAX_LENGTH))
    ids, mask = _pack(tokenizer.encode(LM_PROMPTS), tokenizer.start_id, None)
    special = {"end_token_id": tokenizer.end_id, "pad_token_id": tokenizer.pad_id}
    tokens = model.generate({"token_ids": ids, "padding_mask": mask}, 32, **special)
    beam = model.generate({"token_ids": ids, "padding_mask": mask}, 12, strategy="beam", **BEAM, **special)
    return {"prompts": LM_PROMPTS, "token_ids": ids.tolist(), "padding_mask": mask.tolist(),
            "greedy_tokens": np.asarray(tokens).tolist(), "greedy_texts": [tokenizer.decode(r) for r in np.asarray(tokens)],
            "beam_tokens": np.asarray(beam).tolist()}


def _gru(folder, tokenizer_dir, tokenizer):
    """A GRU translator: its state comes from `encode`, and TFLite runs it with a static batch of 1."""
    import kzoo
    from export.bundle import ExportOptions, export_bundle

    model = kzoo.create("gru_tiny", vocabulary_size=tokenizer.vocabulary_size, embedding_dim=32, hidden_dim=32,
                        max_sequence_length=32)
    ids, mask = _pack(tokenizer.encode(TRANSLATION_TEXTS), tokenizer.start_id, tokenizer.end_id)
    source = {"encoder_token_ids": ids, "encoder_padding_mask": mask}
    export_bundle(model, folder, source, ExportOptions(formats=("onnx", "tflite"), quantize=("fp32",), special_tokens=_special(tokenizer),
                  task={"name": "toy_numbers", "kind": "translation"}, tokenizer_dir=tokenizer_dir,
                  max_new_tokens=4, max_length=12))
    tokens = model.generate(source, 12, start_token_id=tokenizer.start_id, end_token_id=tokenizer.end_id,
                            pad_token_id=tokenizer.pad_id)
    return {"texts": TRANSLATION_TEXTS, "greedy_texts": [tokenizer.decode(row) for row in np.asarray(tokens)]}


def _vit(folder, tokenizer_dir, tokenizer):
    """An image classifier: no tokenizer, `images` in."""
    import kzoo
    from export.bundle import ExportOptions, export_bundle

    model = kzoo.create("vit_tiny", num_layers=1, num_classes=3)
    images = np.random.default_rng(0).uniform(size=(5, 8, 8, 1)).astype("float32")
    export_bundle(model, folder, {"images": images}, ExportOptions(formats=("onnx", "tflite"), quantize=("fp32",),
                  task={"name": "toy_digits", "kind": "image_classification", "label_names": ["zero", "one", "two"]}))
    return {"images": images.tolist(), "probabilities": _softmax(model.predict({"images": images}, verbose=0)).tolist()}


def build(root):
    """Builds every bundle under `root` (name/ and name/reference.json)."""
    import keras

    import kzoo.data

    root = Path(root)
    sentence_piece = kzoo.data.SentencePieceTokenizer.train(_number_corpus(), vocabulary_size=120)
    word_piece = kzoo.data.WordPieceTokenizer.train(_word_corpus(), vocabulary_size=120)
    for name, tokenizer in (("sentence_piece", sentence_piece), ("word_piece", word_piece)):
        tokenizer.save(root / "tokenizers" / name)
    builders = {"translator": (_translator, "sentence_piece"), "classifier": (_classifier, "word_piece"),
                "tagger": (_tagger, "word_piece"), "lm": (_lm, "word_piece"), "gru": (_gru, "sentence_piece"),
                "vit": (_vit, None)}
    for seed, (name, (builder, tokenizer_name)) in enumerate(builders.items()):
        keras.utils.set_random_seed(seed)
        tokenizer = sentence_piece if tokenizer_name == "sentence_piece" else word_piece
        reference = builder(root / name, tokenizer_name and root / "tokenizers" / tokenizer_name, tokenizer)
        (root / f"{name}.reference.json").write_text(json.dumps(reference))


def shared_root(tmp_path_factory):
    """A folder all xdist workers of this session share (the session's own base folder without xdist).

    `KZOO_TEST_BUNDLES=/some/folder` keeps the bundles there across sessions, to
    iterate on the runtime without re-exporting (delete the folder after changing
    this module).
    """
    if os.environ.get("KZOO_TEST_BUNDLES"):
        return Path(os.environ["KZOO_TEST_BUNDLES"])
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "runtime_bundles"


def bundles(tmp_path_factory):
    """`{name: (bundle folder, reference dict)}` for `NAMES`, built once per session."""
    root = shared_root(tmp_path_factory)
    root.mkdir(parents=True, exist_ok=True)
    with open(str(root) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # Released when the file closes.
        if not (root / "done").exists():
            build(root)
            (root / "done").write_text("ok")
    return {name: (root / name, json.loads((root / f"{name}.reference.json").read_text())) for name in NAMES}
