"""A checkpoint of OPUS-MT's size through the zoo: import, every export format with parity, size and decode speed.

No published checkpoint can be downloaded here, so the script writes one: a
Hugging Face Marian folder with OPUS-MT en-de's shape (6 + 6 layers, d_model 512,
8 heads, feed-forward 2048, swish, scaled and shared embeddings, a vocabulary of
58,101 entries, `final_logits_bias`, generation_config.json with beam 4 and
`bad_words_ids` = pad), random weights (seeded numpy, N(0, 0.02)) saved with
`safetensors`, and source/target SentencePiece models trained on the bundled
numbers task, whose pieces open a vocab.json padded with filler entries to the full
size. Random weights change neither file sizes nor speeds; parity of the
quantized files is that of a random model, whose near-uniform logits make greedy
tokens fragile (the table says which variants passed).

Measured: the import (`kzoo.import_checkpoint`, reading 300 MB of safetensors and
building the Keras model), the export (`export.bundle.export_bundle`, every format
and variant, parity checked on 8 English sentences of the bundled task, which also
calibrate full int8; `skip_failing`, so a variant off its tolerance is listed, not
fatal), each file's size, and greedy decoding of one sentence (batch 1, 16 source
tokens, no end token so every call decodes exactly N tokens) in milliseconds per
generated token through the runtime's numpy loop over the KV-cache `decode_step`
(ONNX Runtime, LiteRT) against Keras `model.generate` (warm). Repetitions are
interleaved across formats; the table gives the median and the fastest call, the
section the load average at every repetition.

Example:
```
python -m benchmarks.checkpoints --formats savedmodel onnx   # full size, as measured in docs/benchmarks.md
python -m benchmarks.checkpoints --quick          # a 2-layer, width-64 Marian, every format: about a minute
python -m benchmarks.checkpoints --markdown docs/benchmarks.md
```

Full size with TFLite: converting this model's three signatures to TFLite took
more than the 22 GB of memory of the 2-core development machine (the process was
killed during `tflite_fp32`), so the default leaves TFLite out at full size and
keeps it in `--quick`; `--formats tflite` asks for it on a bigger machine.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.export import _sizes, percentile, set_tf_threads, time_items
from benchmarks.run_all import load_average, machine, table, usable_cores, write_section

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "checkpoints"
SEED = 0
SOURCE_LENGTH = 16
PARITY_SENTENCES = 8
# name -> (layers, width, heads, feed-forward, vocabulary, new tokens, warm-up calls, repetitions)
SETTINGS = {
    "full": (6, 512, 8, 2048, 58101, 32, 2, 7),
    "quick": (2, 64, 4, 128, 8000, 8, 1, 3),
}
PIECES = 2000  # At most, per side (the numbers task has fewer distinct pieces); the rest of the vocabulary is filler.
VARIANTS = ("savedmodel", "onnx", "onnx_dynamic_int8", "tflite_fp32", "tflite_fp16", "tflite_dynamic_int8", "tflite_int8")


def _sentencepiece(texts, pieces):
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=model, vocab_size=pieces,
                                             model_type="unigram", character_coverage=1.0, bos_id=-1, eos_id=-1,
                                             unk_id=0, hard_vocab_limit=False, minloglevel=2)
    return model.getvalue()


def write_opus_mt_folder(folder, layers, width, heads, feed_forward, vocabulary, seed=SEED):
    """Writes a Marian checkpoint folder of this shape with random weights; returns its path."""
    import numpy as np
    import sentencepiece
    from safetensors.numpy import save_file

    import kzoo.data

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    task = kzoo.data.load_task("numbers_en_de")
    pieces = min(PIECES, vocabulary // 4)
    source = _sentencepiece([s for s, _ in task.train], pieces)
    target = _sentencepiece([t for _, t in task.train], pieces)
    (folder / "source.spm").write_bytes(source)
    (folder / "target.spm").write_bytes(target)
    known = ["</s>", "<unk>"]
    for proto in (source, target):
        processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
        known += [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    entries = list(dict.fromkeys(known))
    entries += [f"\u2581filler{i}" for i in range(vocabulary - 1 - len(entries))]
    table = {piece: index for index, piece in enumerate(entries)}
    table["<pad>"] = vocabulary - 1
    (folder / "vocab.json").write_text(json.dumps(table, ensure_ascii=False))
    pad = vocabulary - 1
    (folder / "tokenizer_config.json").write_text(json.dumps({"source_lang": "en", "target_lang": "de"}))
    config = {
        "architectures": ["MarianMTModel"], "model_type": "marian", "activation_function": "swish",
        "d_model": width, "encoder_layers": layers, "decoder_layers": layers, "encoder_attention_heads": heads,
        "decoder_attention_heads": heads, "encoder_ffn_dim": feed_forward, "decoder_ffn_dim": feed_forward,
        "vocab_size": vocabulary, "decoder_vocab_size": vocabulary, "max_position_embeddings": 512,
        "scale_embedding": True, "share_encoder_decoder_embeddings": True, "tie_word_embeddings": True,
        "pad_token_id": pad, "decoder_start_token_id": pad, "eos_token_id": 0, "forced_eos_token_id": 0,
        "normalize_before": False, "is_encoder_decoder": True, "dropout": 0.1, "attention_dropout": 0.0,
        "activation_dropout": 0.0,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    generation = {"bad_words_ids": [[pad]], "decoder_start_token_id": pad, "eos_token_id": 0, "forced_eos_token_id": 0,
                  "max_length": 512, "num_beams": 4, "pad_token_id": pad}
    (folder / "generation_config.json").write_text(json.dumps(generation, indent=2))
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype("float32")

    tensors = {"model.shared.weight": normal(vocabulary, width), "final_logits_bias": normal(1, vocabulary)}
    for side in ("encoder", "decoder"):
        for index in range(layers):
            prefix = f"model.{side}.layers.{index}"
            attentions = ["self_attn"] + (["encoder_attn"] if side == "decoder" else [])
            for attention in attentions:
                for projection in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    tensors[f"{prefix}.{attention}.{projection}.weight"] = normal(width, width)
                    tensors[f"{prefix}.{attention}.{projection}.bias"] = normal(width)
                tensors[f"{prefix}.{attention}_layer_norm.weight"] = 1.0 + normal(width)
                tensors[f"{prefix}.{attention}_layer_norm.bias"] = normal(width)
            tensors[f"{prefix}.fc1.weight"], tensors[f"{prefix}.fc1.bias"] = normal(feed_forward, width), normal(feed_forward)
            tensors[f"{prefix}.fc2.weight"], tensors[f"{prefix}.fc2.bias"] = normal(width, feed_forward), normal(width)
            tensors[f"{prefix}.final_layer_norm.weight"] = 1.0 + normal(width)
            tensors[f"{prefix}.final_layer_norm.bias"] = normal(width)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    return folder


def _source_batch(tokenizer, texts):
    from kzoo.runtime.packing import pack_batch

    ids, mask = pack_batch(tokenizer.encode(texts), start_id=None, end_id=tokenizer.end_id, pad_id=tokenizer.pad_id,
                           max_length=SOURCE_LENGTH)
    return {"encoder_token_ids": ids, "encoder_padding_mask": mask}


def run(setting, folder, threads, say=print, formats=None):
    """Writes, imports and exports the checkpoint, then times decoding; returns (rows, facts)."""
    import numpy as np

    import kzoo
    import kzoo.data
    from export.bundle import ExportOptions, export_bundle
    from kzoo.runtime import decoding
    from kzoo.runtime.backends import open_backend

    layers, width, heads, feed_forward, vocabulary, new_tokens, warmup, repetitions = SETTINGS[setting]
    say(f"[checkpoints] writing a {layers}+{layers}-layer, d={width}, vocabulary {vocabulary:,} Marian folder")
    checkpoint = write_opus_mt_folder(Path(folder) / "opus-mt-size", layers, width, heads, feed_forward, vocabulary)
    checkpoint_bytes = (checkpoint / "model.safetensors").stat().st_size
    started = time.perf_counter()
    imported = kzoo.import_checkpoint(checkpoint)
    import_seconds = time.perf_counter() - started
    model, tokenizer = imported.model, imported.tokenizer
    sentences = [source for source, _ in kzoo.data.load_task("numbers_en_de").test[:PARITY_SENTENCES]]
    sample = _source_batch(tokenizer, sentences)
    out = Path(folder) / "bundle"
    special = {"pad": tokenizer.pad_id, "end": tokenizer.end_id, "decoder_start": tokenizer.decoder_start_id}
    rules = {key: value for key, value in imported.decoding.items() if key in decoding.TOKEN_RULES}
    started = time.perf_counter()
    manifest = export_bundle(model, out, sample, ExportOptions(
        formats=tuple(formats or ("savedmodel", "tflite", "onnx")),
        onnx_quantize=True, skip_failing=True, task={"name": "synthetic", "kind": "translation"},
        special_tokens=special, generation=rules, max_new_tokens=new_tokens,
        progress=lambda message: say(f"[export] {message}")))
    export_seconds = time.perf_counter() - started
    sizes = _sizes(out, manifest)
    # Timing: one sentence, no end token, so every call decodes exactly `new_tokens` tokens.
    source = {name: value[:1] for name, value in sample.items()}
    layout = manifest["decoding"]
    positions = decoding.decoded_positions(manifest["max_length"], encoder=True)
    options = decoding.DecodingOptions(start_token_id=tokenizer.decoder_start_id, pad_token_id=tokenizer.pad_id)
    items = {"keras": lambda: np.asarray(model.generate(source, new_tokens, start_token_id=tokenizer.decoder_start_id,
                                                        pad_token_id=tokenizer.pad_id))}
    for name in VARIANTS[1:]:
        if name in manifest["parity"]["variants"]:
            backend = open_backend(out, manifest["exports"][name], threads=threads)
            items[name] = (lambda backend=backend: decoding.generate(backend, layout, source, new_tokens, positions,
                                                                     options))
    loads = []
    times = time_items(items, warmup, repetitions, loads)
    reference = items["keras"]()
    rows = []
    for name in VARIANTS:
        if name not in manifest["exports"] and name not in manifest["parity"]["skipped"]:
            continue  # A format not asked for.
        report = manifest["parity"]["variants"].get(name)
        row = {"variant": name, "bytes": sizes.get(name), "passed": report is not None,
               "skipped": manifest["parity"]["skipped"].get(name)}
        if report is not None:
            row.update(max_abs_diff=report.get("max_abs_diff"), token_mismatches=report.get("token_mismatches"),
                       seconds=report.get("seconds"))
        key = name if name in items else None
        if key:
            call = times[key]
            row.update(ms_per_token=1000 * statistics.median(call) / new_tokens,
                       min_ms_per_token=1000 * min(call) / new_tokens,
                       p90_ms_per_token=1000 * percentile(call, 90) / new_tokens,
                       speedup=statistics.median(times["keras"]) / statistics.median(call),
                       same_tokens_as_keras=bool(np.array_equal(items[key](), reference)))
        rows.append(row)
    keras_call = times["keras"]
    facts = {
        "setting": setting, "layers": layers, "width": width, "heads": heads, "feed_forward": feed_forward,
        "vocabulary": vocabulary, "parameters": model.count_params(), "checkpoint_bytes": checkpoint_bytes,
        "import_seconds": import_seconds, "export_seconds": export_seconds, "new_tokens": new_tokens,
        "repetitions": repetitions, "keras_ms_per_token": 1000 * statistics.median(keras_call) / new_tokens,
        "keras_min_ms_per_token": 1000 * min(keras_call) / new_tokens, "loads": loads,
        "unused_tensors": imported.unused_tensors, "formats": list(formats or ("savedmodel", "tflite", "onnx")),
    }
    return rows, facts


def _megabytes(value):
    return "-" if value is None else f"{value / 2**20:.1f} MB"


def format_table(rows, facts, markdown=False):
    header = ["variant", "size", "parity", "ms/token (p50)", "min", "vs Keras", "tokens = Keras"]
    body = [["Keras `model.generate`", "-", "reference", f"{facts['keras_ms_per_token']:.1f}",
             f"{facts['keras_min_ms_per_token']:.1f}", "1.00x", "-"]]
    for row in rows:
        if row["passed"]:
            parity = f"max diff {row['max_abs_diff']:.1e}"
            if row.get("token_mismatches") is not None:
                parity += f", {row['token_mismatches']} tokens off"
        else:
            parity = "skipped: " + (row["skipped"] or "")[:90]
        timed = "ms_per_token" in row
        body.append([row["variant"], _megabytes(row["bytes"]), parity,
                     f"{row['ms_per_token']:.1f}" if timed else "-", f"{row['min_ms_per_token']:.1f}" if timed else "-",
                     f"{row['speedup']:.2f}x" if timed else "-",
                     ("yes" if row["same_tokens_as_keras"] else "no") if timed else "-"])
    return table(header, body, markdown)


def markdown_section(rows, facts, info, command):
    loads = facts["loads"]
    load_text = f"{min(loads):.2f}-{max(loads):.2f}" if loads else "n/a"
    return "\n".join([
        "## Checkpoints: an OPUS-MT-size Marian imported and exported",
        "",
        f"Command: `{command}`. Machine: {info['cpu']}, {info['cores']}; Python {info['python']}, TensorFlow "
        f"{info['tensorflow']}, Keras {info['keras']}; measured {info['date']}; 1-minute load average during the timed "
        f"repetitions {load_text}.",
        "",
        f"A Hugging Face Marian folder of OPUS-MT en-de's shape ({facts['layers']}+{facts['layers']} layers, "
        f"d_model {facts['width']}, {facts['heads']} heads, feed-forward {facts['feed_forward']}, vocabulary "
        f"{facts['vocabulary']:,}; random weights, {facts['checkpoint_bytes'] / 2**20:.0f} MB of safetensors) imports "
        f"as a `TransformerSeq2Seq` of {facts['parameters']:,} parameters in {facts['import_seconds']:.1f} s; "
        f"`export_bundle` writes {', '.join(facts['formats'])} with parity checks in "
        f"{facts['export_seconds'] / 60:.1f} min"
        + ("" if "tflite" in facts["formats"] else " (TFLite left out: converting this model outgrew the 22 GB of "
           "this machine)") + ". "
        f"Decoding: one sentence, greedy, {facts['new_tokens']} new tokens per call, median (p50) and fastest of "
        f"{facts['repetitions']} interleaved calls; \"vs Keras\" is Keras p50 / format p50 in the same run. "
        "Quantized variants of a random-weight model can fail the token check (near-uniform logits); they are "
        "listed with the reason.",
        "",
        format_table(rows, facts, markdown=True),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checkpoints", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 2-layer, width-64 Marian instead of OPUS-MT's size")
    parser.add_argument("--markdown", help="write the section into this file")
    parser.add_argument("--threads", type=int, default=usable_cores())
    parser.add_argument("--json", help="also write the rows and facts as JSON here")
    parser.add_argument("--formats", nargs="+", choices=("savedmodel", "tflite", "onnx"),
                        help="export formats (default: every one with --quick, savedmodel and onnx at full size)")
    args = parser.parse_args(argv)
    set_tf_threads(args.threads)
    setting = "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="kzoo-checkpoints-") as folder:
        formats = args.formats or (("savedmodel", "tflite", "onnx") if args.quick else ("savedmodel", "onnx"))
        rows, facts = run(setting, folder, args.threads, formats=formats)
    print(format_table(rows, facts))
    print(f"import {facts['import_seconds']:.1f} s, export {facts['export_seconds']:.0f} s, "
          f"{facts['parameters']:,} parameters, load {load_average()}")
    if args.markdown:
        command = "python -m benchmarks.checkpoints" + (" --quick" if args.quick else "") + (
            f" --formats {' '.join(args.formats)}" if args.formats else "")
        write_section(args.markdown, SECTION, markdown_section(rows, facts, machine(), command))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "facts": facts}, indent=2))
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
