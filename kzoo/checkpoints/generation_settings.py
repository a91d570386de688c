"""How a checkpoint wants to be decoded: generation_config.json as `kzoo.generation.generate` options.

transformers keeps a checkpoint's decoding defaults in generation_config.json
(older checkpoints: in config.json). The ones that change the tokens are read:
`num_beams`, `length_penalty` and `early_stopping` (beam search scored as
transformers scores it: `length_normalization="average"`), `bad_words_ids` of one
token each (never generated), `forced_eos_token_id` (the end token at the last
position), `renormalize_logits` (beam scores re-normalized after those rules).
`max_length` is read by `max_new_tokens` below. Sampling, a multi-token bad word
and the processors kzoo does not implement (`REFUSED`, when set to anything but
their no-op value) are refused by name; the remaining keys (output formats,
caching, token ids read elsewhere) do not change which tokens come out.

Example:
```python
generation_settings(folder, tokenizer)
# {'strategy': 'beam', 'num_beams': 4, 'length_penalty': 1.0, 'length_normalization': 'average',
#  'early_stopping': False, 'suppressed_token_ids': (58100,), 'force_end_token': True}
```
"""

from kzoo.checkpoints.checkpoint_error import CheckpointError


def generation_settings(folder, tokenizer):
    """`kzoo.generation.generate` keyword arguments from the folder's generation config (and config)."""
    settings = {**{k: v for k, v in folder.config.items() if k in _KEYS}, **folder.generation_config}
    where = f"{folder.path.name}/generation_config.json"
    if settings.get("do_sample"):
        raise CheckpointError(f"{where} has do_sample=true; kzoo imports checkpoints that decode greedily or by beam search.")
    bad_words = settings.get("bad_words_ids") or []
    if any(len(word) != 1 for word in bad_words):
        raise CheckpointError(f"{where} has bad_words_ids={bad_words}; kzoo suppresses single tokens only.")
    suppressed = tuple(sorted({word[0] for word in bad_words}))
    forced_end = settings.get("forced_eos_token_id")
    if forced_end is not None and forced_end != tokenizer.end_id:
        raise CheckpointError(
            f"{where} has forced_eos_token_id={forced_end}, not the tokenizer's end token {tokenizer.end_id}."
        )
    beams = int(settings.get("num_beams") or 1)
    decoding = {"strategy": "beam" if beams > 1 else "greedy", "length_normalization": "average"}
    if beams > 1:
        early = settings.get("early_stopping", False)
        decoding.update(num_beams=beams, length_penalty=float(settings.get("length_penalty", 1.0)),
                        early_stopping=early if early == "never" else bool(early))
    if suppressed:
        decoding["suppressed_token_ids"] = suppressed
    if forced_end is not None:
        decoding["force_end_token"] = True
    if settings.get("renormalize_logits"):
        decoding["renormalize_logits"] = True
    for key, no_op in REFUSED.items():
        if settings.get(key, no_op) not in (no_op, None):
            raise CheckpointError(f"{where} has {key}={settings[key]!r}; kzoo's decoding does not implement it, so "
                                  "the imported model would not decode as transformers does.")
    return decoding


def max_new_tokens(folder, model_positions):
    """New tokens a translation may take: generation_config's `max_length` less the decoder start, within the model's
    positions (transformers' default `max_length` is 20 where the checkpoint names none)."""
    settings = {**{k: v for k, v in folder.config.items() if k == "max_length"}, **folder.generation_config}
    return max(1, min(int(settings.get("max_length") or 20), model_positions) - 1)


_KEYS = ("num_beams", "length_penalty", "early_stopping", "bad_words_ids", "forced_eos_token_id", "do_sample",
         "renormalize_logits")
# Processors that change the tokens, with the value at which they do nothing.
REFUSED = {"no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "repetition_penalty": 1.0, "min_length": 0,
           "min_new_tokens": 0, "num_beam_groups": 1, "diversity_penalty": 0.0, "forced_bos_token_id": None,
           "suppress_tokens": None, "begin_suppress_tokens": None, "exponential_decay_length_penalty": None}
