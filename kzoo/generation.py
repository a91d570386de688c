"""Autoregressive decoding with a KV cache: greedy, beam, top-k, top-p.

Every generative kzoo model (`CausalLM`, `TransformerSeq2Seq`, `GRUSeq2Seq`)
exposes `start_decoding(inputs, max_length) -> state` and
`decode_step(token_ids, state, index) -> (logits, state)`, where `state` is a dict
of batch-major tensors (KV caches, encoder outputs). This module runs the loop over
that interface inside one `tf.function` (optionally XLA-compiled).

Greedy, top-k, top-p and temperature sampling reuse keras-hub's samplers
(`GreedySampler`, `TopKSampler`, `TopPSampler`): their `next(prompt, cache, index)`
contract accepts our state dict as the cache. Beam search is ours: keras-hub's
`BeamSampler` has no length penalty and keeps extending a beam after its end token,
so finished hypotheses compete with unfinished ones on raw log-probability. Ours
keeps finished hypotheses apart and scores them with the GNMT length penalty
`((5 + length) / 6) ** length_penalty` (Wu et al., 2016).

Ragged prompts follow keras-hub's scheme: prompts are right-padded into one buffer,
decoding starts at the shortest prompt's end, and rows whose prompt is longer keep
their prompt tokens (forced) until it ends. One scalar cache index then serves the
whole batch, which is what the exported `decode_step` graphs take.

`use_cache=False` recomputes the model's full forward pass (the training graph) over
the whole prefix at every step; tests check that it gives the same tokens.

The options, the prompt buffer and the trimming of the output are
`kzoo.runtime.decoding`'s (`DecodingOptions`, `prompt_buffer`, `new_tokens`): the
numpy loop that runs exported bundles follows the same rules from the same code.
`decoding_loop` is the traced loop itself; the SavedModel `generate` signature
(`export.savedmodel`) is built from it.

Example:
```python
tokens = generate(lm, {"token_ids": ids, "padding_mask": mask}, max_new_tokens=20,
                  strategy="top_p", top_p=0.9, seed=1, end_token_id=2)
```
"""

import weakref

import numpy as np
from keras import ops

from kzoo.runtime.decoding import STRATEGIES, DecodingOptions, decoded_positions, new_tokens, prompt_buffer
from kzoo.runtime.validation import check_positive_int

__all__ = ["STRATEGIES", "DecodingOptions", "decoding_loop", "generate"]


def _is_seq2seq(inputs):
    return "encoder_token_ids" in inputs


def _prompt_buffer(model, inputs, max_new_tokens, options):
    """Host-side `PromptBuffer`, within the positions `model` decodes."""
    if _is_seq2seq(inputs):
        source_length = np.asarray(inputs["encoder_token_ids"]).shape[1]
        if source_length > model.max_sequence_length:
            raise ValueError(
                f"The source has {source_length} tokens, more than the model's max_sequence_length="
                f"{model.max_sequence_length}; truncate it."
            )
    return prompt_buffer(inputs, max_new_tokens, options, decoded_positions(model.max_sequence_length, _is_seq2seq(inputs)))


def _model_inputs(inputs):
    names = ("encoder_token_ids", "encoder_padding_mask") if _is_seq2seq(inputs) else ()
    return {name: ops.convert_to_tensor(np.asarray(inputs[name], "int32")) for name in names}


def _full_forward_logits(model, model_inputs, tokens):
    """Logits [B, T, V] of the model's full (training) forward pass over `tokens` [B, T]."""
    mask = ops.ones_like(tokens)
    if "encoder_token_ids" in model_inputs:
        feed = dict(model_inputs, decoder_token_ids=tokens, decoder_padding_mask=mask)
    else:
        feed = {"token_ids": tokens, "padding_mask": mask}
    return model(feed, training=False)


def _step_function(model, model_inputs, use_cache):
    """keras-hub's `next(prompt, state, index)`: logits for position `index`."""

    def next_cached(prompt, state, index):
        token = ops.slice(prompt, [0, index - 1], [ops.shape(prompt)[0], 1])
        logits, state = model.decode_step(token, state, index - 1)
        return logits[:, -1, :], None, state

    def next_uncached(prompt, state, index):
        prefix = ops.slice(prompt, [0, 0], [ops.shape(prompt)[0], index])
        return _full_forward_logits(model, model_inputs, prefix)[:, -1, :], None, state

    return next_cached if use_cache else next_uncached


def _processed(next_function, options, lengths, max_new_tokens):
    """`next_function` whose logits have the suppressed tokens removed and the end forced at each row's last token."""
    if not options.suppressed_token_ids and not options.force_end_token:
        return next_function

    def next_processed(prompt, state, index):
        logits, hidden, state = next_function(prompt, state, index)
        last = ops.equal(index + 1 - lengths, max_new_tokens)  # [B]
        return _process_scores(logits, options, last), hidden, state

    return next_processed


def _sampler(options):
    """keras-hub's sampler for `options.strategy` (None for beam search), its seed states recorded."""
    import keras_hub

    if options.strategy == "beam":
        return None
    if options.strategy == "greedy":
        sampler = keras_hub.samplers.GreedySampler(temperature=options.temperature)
    elif options.strategy == "top_k":
        sampler = keras_hub.samplers.TopKSampler(k=options.top_k, seed=options.seed, temperature=options.temperature)
    else:
        sampler = keras_hub.samplers.TopPSampler(p=options.top_p, k=options.top_k, seed=options.seed,
                                                 temperature=options.temperature)
    sampler.initial_seed_states = [generator.state.numpy() for generator in sampler._seed_generators]
    return sampler


def _length_penalty(length, alpha, normalization="gnmt"):
    """The divisor of a finished hypothesis's log-probability (see `kzoo.runtime.decoding.DecodingOptions`)."""
    length = ops.cast(length, "float32")
    if normalization == "average":
        return ops.power(length, alpha)
    return ops.power((5.0 + length) / 6.0, alpha)


def _process_scores(scores, options, last):
    """`kzoo.runtime.decoding.process_scores` in TensorFlow: scores `[N, V]`, `last` `[N]` bool."""
    import tensorflow as tf

    vocabulary = ops.shape(scores)[-1]
    if options.suppressed_token_ids:
        suppressed = ops.sum(ops.one_hot(list(options.suppressed_token_ids), vocabulary), axis=0) > 0  # [V]
        scores = ops.where(suppressed, -np.inf, scores)
    if options.force_end_token:
        forced_end = ops.where(ops.equal(ops.arange(vocabulary), options.end_token_id), 0.0, -np.inf)  # [V]
        scores = tf.where(ops.expand_dims(last, -1), ops.cast(forced_end, scores.dtype), scores)
    return scores


def _beam_search(next_function, prompt, forced, lengths, state, start, options):
    """Beam search over `next_function`; returns the best sequence per row [B, L].

    Step for step the numpy beam search of `kzoo.runtime.decoding` (see there for
    the "gnmt" and "average" rules): unfinished beams compete on log-probability;
    a hypothesis that ends moves to a finished set scored with the length
    normalization; the best finished hypothesis wins ("gnmt": the unfinished
    beams join it at the end).
    """
    import tensorflow as tf

    batch, total = prompt.shape
    beams = check_positive_int("num_beams", options.num_beams)
    alpha, end_token_id, normalization = float(options.length_penalty), options.end_token_id, options.length_normalization
    average = normalization == "average"
    negative_infinity = -1e9

    def tile(x):  # [B, ...] -> [B * K, ...]
        return ops.repeat(x, beams, axis=0)

    sequences = ops.reshape(tile(prompt), (batch, beams, total))
    log_probs = ops.tile(ops.convert_to_tensor([[0.0] + [negative_infinity] * (beams - 1)]), (batch, 1))
    finished = ops.zeros_like(sequences)
    finished_scores = ops.full((batch, beams), negative_infinity)
    finished_flags = ops.zeros((batch, beams), "bool")
    improvable = ops.ones((batch,), "bool")
    state = tf.nest.map_structure(tile, state)
    forced = ops.convert_to_tensor(forced)
    lengths = ops.convert_to_tensor(lengths)
    max_new_tokens = total - ops.max(lengths)
    top_k_mask = ops.arange(2 * beams) < beams  # Only these candidates may finish under "average".
    end = -1 if end_token_id is None else end_token_id

    def gather(x, indices):  # x [B, K', ...], indices [B, K] -> [B, K, ...]
        return tf.gather(x, indices, batch_dims=1)

    def body(index, done, sequences, log_probs, finished, finished_scores, finished_flags, improvable, state):
        logits, _, state = next_function(ops.reshape(sequences, (batch * beams, total)), state, index)
        vocabulary = ops.shape(logits)[-1]
        generated = index + 1 - ops.expand_dims(lengths, 1)  # [B, 1]: tokens generated incl. this one
        last = ops.reshape(ops.repeat(ops.equal(generated, max_new_tokens), beams, axis=1), (-1,))
        step = _process_scores(ops.log_softmax(ops.cast(logits, "float32")), options, last)
        if options.renormalize_logits:
            step = ops.log_softmax(step)
        step = ops.reshape(step, (batch, beams, vocabulary))
        # Forced prompt positions: the prompt token costs nothing, anything else is impossible. A row
        # past its budget (a shorter prompt in a ragged batch) is forced too, to the buffer's pad.
        prompt_token = ops.one_hot(prompt[:, index], vocabulary)  # [B, V]
        forced_step = ops.expand_dims((1.0 - prompt_token) * negative_infinity, 1)
        spent = generated > max_new_tokens  # [B, 1]
        is_forced = ops.reshape(ops.logical_or(forced[:, index : index + 1], spent), (batch, 1, 1))
        step = ops.where(is_forced, forced_step, step)
        scores = ops.reshape(ops.expand_dims(log_probs, -1) + step, (batch, beams * vocabulary))
        top_scores, top_indices = ops.top_k(scores, k=2 * beams)
        origin, token = top_indices // vocabulary, top_indices % vocabulary  # [B, 2K]
        candidates = gather(sequences, origin)  # [B, 2K, L]
        position = ops.one_hot(index, total, dtype="int32")  # [L]
        candidates = candidates * (1 - position) + ops.expand_dims(token, -1) * position
        ends = ops.logical_and(ops.equal(token, end), ops.logical_not(ops.logical_or(forced[:, index : index + 1], spent)))
        stops = ops.logical_or(ends, generated >= max_new_tokens) if average else ends
        # Unfinished: the K best candidates that did not just stop.
        if average:
            alive_scores = top_scores + negative_infinity * ops.cast(stops, "float32")
        else:
            alive_scores = ops.where(ends, negative_infinity, top_scores)
        alive_scores, alive = ops.top_k(alive_scores, k=beams)
        sequences = gather(candidates, alive)
        state = tf.nest.map_structure(
            lambda x: tf.gather(x, ops.reshape(gather(origin, alive) + ops.arange(batch)[:, None] * beams, (-1,))),
            state,
        )
        # Finished: merge the candidates that just stopped into the finished set.
        normalized = top_scores / _length_penalty(generated, alpha, normalization)
        if average:
            finishing = ops.logical_and(stops, top_k_mask)
            full = ops.logical_and(ops.all(finished_flags, axis=1), options.early_stopping is True)
            closed = ops.logical_or(ops.logical_not(improvable), full)[:, None]
            blocked = ops.logical_or(closed, ops.logical_not(finishing))
            candidate_scores = normalized + negative_infinity * ops.cast(blocked, "float32")
        else:
            finishing = ends
            candidate_scores = ops.where(ends, normalized, negative_infinity)
        merged_scores = ops.concatenate([finished_scores, candidate_scores], axis=1)
        finished_scores, keep = ops.top_k(merged_scores, k=beams)
        finished = gather(ops.concatenate([finished, candidates], axis=1), keep)
        finished_flags = gather(ops.concatenate([finished_flags, finishing], axis=1), keep)
        if average:
            longest = max_new_tokens if options.early_stopping == "never" and alpha > 0.0 else generated[:, 0]
            best_running = alive_scores[:, 0] / _length_penalty(longest, alpha, normalization)
            worst = ops.where(finished_flags, ops.min(finished_scores, axis=1, keepdims=True), negative_infinity)
            improvable = ops.logical_and(improvable, ops.any(best_running[:, None] > worst, axis=1))
            all_full = ops.logical_and(ops.all(finished_flags), options.early_stopping is True)
            done = ops.logical_or(ops.logical_or(ops.logical_not(ops.any(improvable)), all_full), ops.all(stops))
        return index + 1, done, sequences, alive_scores, finished, finished_scores, finished_flags, improvable, state

    def condition(index, done, *unused):
        return ops.logical_and(index < total, ops.logical_not(done))

    loop_vars = (ops.convert_to_tensor(start, "int32"), ops.convert_to_tensor(False), sequences, log_probs, finished,
                 finished_scores, finished_flags, improvable, state)
    _, _, sequences, log_probs, finished, finished_scores, _, _, _ = tf.while_loop(condition, body, loop_vars)
    if average:
        return finished[:, 0]  # Sorted: the best finished hypothesis first.
    alive_scores = log_probs / _length_penalty(max_new_tokens, alpha)
    all_scores = ops.concatenate([finished_scores, alive_scores], axis=1)
    best = ops.argmax(all_scores, axis=1)
    everything = ops.concatenate([finished, sequences], axis=1)
    return ops.take_along_axis(everything, best[:, None, None], axis=1)[:, 0]


def generate(
    model,
    inputs,
    max_new_tokens,
    strategy="greedy",
    end_token_id=None,
    pad_token_id=0,
    start_token_id=None,
    num_beams=4,
    length_penalty=0.0,
    top_k=None,
    top_p=None,
    temperature=1.0,
    seed=None,
    use_cache=True,
    jit_compile=False,
    length_normalization="gnmt",
    early_stopping=False,
    suppressed_token_ids=(),
    force_end_token=False,
    renormalize_logits=False,
):
    """Decode `max_new_tokens` tokens per row; returns int32 `[B, max_new_tokens]`.

    Args:
        model: a generative kzoo model.
        inputs: for `CausalLM`, `{"token_ids": [B, T], "padding_mask": [B, T]}`
            (right-padded prompts of any lengths); for encoder-decoders,
            `{"encoder_token_ids": [B, S], "encoder_padding_mask": [B, S]}`.
        max_new_tokens: int > 0.
        strategy: one of "greedy", "beam", "top_k", "top_p".
        end_token_id: int or None. A row stops at its first end token: it is kept
            and everything after it is `pad_token_id`.
        pad_token_id: int. Fills rows after their end. Defaults to 0.
        start_token_id: int. The first decoder token of encoder-decoders.
        num_beams: int. Beam width. Defaults to 4.
        length_penalty: float. GNMT alpha for beam search; 0 ranks by
            log-probability alone (so `num_beams=1` equals greedy). Defaults to 0.
        top_k: int. For "top_k" (and optionally "top_p").
        top_p: float in (0, 1]. For "top_p".
        temperature: float. Divides the logits before sampling. Defaults to 1.
        seed: int. Makes sampling reproducible.
        use_cache: bool. False recomputes the full forward pass every step.
        jit_compile: bool. Compile the loop with XLA.
        length_normalization: "gnmt" (default) or "average" (transformers'
            beam search); see `kzoo.runtime.decoding.DecodingOptions`.
        early_stopping: False, True or "never", for "average".
        suppressed_token_ids: tuple of int. Tokens never generated.
        force_end_token: bool. End each unfinished row at its last new token.
        renormalize_logits: bool. Beam search re-normalizes the scores after
            the two rules above (transformers' `renormalize_logits`).

    An imported checkpoint's own settings are `kzoo.import_checkpoint(...).decoding`:
    `model.generate(inputs, 32, **imported.decoding, start_token_id=..., end_token_id=...)`.
    """
    import tensorflow as tf

    options = DecodingOptions(
        strategy=strategy, num_beams=num_beams, length_penalty=float(length_penalty), top_k=top_k, top_p=top_p,
        temperature=float(temperature) if not isinstance(temperature, bool) else temperature, seed=seed,
        start_token_id=start_token_id, end_token_id=end_token_id, pad_token_id=pad_token_id,
        length_normalization=length_normalization, early_stopping=early_stopping,
        suppressed_token_ids=tuple(suppressed_token_ids), force_end_token=force_end_token,
        renormalize_logits=bool(renormalize_logits),
    ).check_token_ids(model.decoded_vocabulary_size)
    prompt = _prompt_buffer(model, inputs, max_new_tokens, options)
    key = (options, use_cache, jit_compile, prompt.start)
    compiled, sampler = _compiled_loops.setdefault(model, {}).get(key) or (None, None)
    if compiled is None:
        sampler = _sampler(options)
        compiled = tf.function(decoding_loop(model, options, prompt.start, use_cache, sampler), jit_compile=jit_compile)
        _compiled_loops[model][key] = (compiled, sampler)
    if sampler is not None:  # Same seed, same samples, on every call.
        for generator, state in zip(sampler._seed_generators, sampler.initial_seed_states):
            generator.state.assign(state)
    tokens = compiled(_model_inputs(inputs), tf.constant(prompt.tokens), tf.constant(prompt.forced),
                      tf.constant(prompt.lengths))
    return new_tokens(np.asarray(tokens), prompt.lengths, max_new_tokens, options)


# model -> {options: (tf.function, sampler)}: a second call with the same options reuses the
# traced loop (tf.function retraces only for new shapes), as keras-hub's generate does.
_compiled_loops = weakref.WeakKeyDictionary()


def decoding_loop(model, options, start, use_cache=True, sampler=None):
    """The whole decoding loop as a function `(model inputs, tokens, forced, lengths) -> tokens`.

    `tokens` `[B, L]` holds the right-padded prompts (`forced` marks them) and room
    for the new tokens; decoding begins at position `start` for the whole batch
    (the common prompt prefix before it prefills the cache in one step). The
    function traces into one graph: `generate` compiles it with `tf.function`,
    and the SavedModel `generate` signature embeds it.

    Args:
        model: a generative kzoo model.
        options: `DecodingOptions`.
        start: int. The first position decoded.
        use_cache: bool. False recomputes the full forward pass every step.
        sampler: a keras-hub sampler for every strategy but beam (default: the
            one `options` asks for).
    """
    sampler = sampler if sampler is not None else _sampler(options)

    def run(model_inputs, tokens, forced, lengths):
        next_function = _step_function(model, model_inputs, use_cache)
        total = ops.shape(tokens)[1]  # Static when known; a tensor in the SavedModel signature of a causal LM.
        state = model.start_decoding(model_inputs or {"token_ids": tokens}, total) if use_cache else {}
        if use_cache and start > 1:  # Prefill the cache with the common prompt prefix, minus its last token.
            _, state = model.decode_step(tokens[:, : start - 1], state, 0)
        if options.strategy == "beam":
            return _beam_search(next_function, tokens, forced, lengths, state, start, options)
        next_function = _processed(next_function, options, lengths, total - ops.max(lengths))
        # keras-hub's samplers stop once every row holds the end id anywhere past its prompt, positions not yet
        # decoded included, which hold the pad id: where pad and end are one id (GPT-2), decode to the end instead.
        ends = options.end_token_id is not None and options.end_token_id != options.pad_token_id
        stop = [options.end_token_id] if ends else None
        return sampler(next_function, tokens, cache=state, index=start, mask=forced, stop_token_ids=stop)

    return run
