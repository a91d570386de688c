"""The decoding loop over an exported `decode_step`, in numpy: greedy, beam, top-k, top-p.

It decodes what `kzoo.generation` decodes (right-padded ragged prompts, rows frozen
after their end token, the same strategies and token rules) so a bundle gives the
Keras model's tokens; the two share this module's options, prompt buffer and output
trimming, so their rules cannot drift apart. The loop differs where the exported
step allows it (decode-step contract 2, see `kzoo.models.ExportDescription`): one
prefill call reads every row's whole prompt, then every row steps at its own
position (the Keras loop steps the batch at one position, forcing prompt tokens).
The step reads the KV caches this loop keeps and returns only the new keys and
values, which are written in place; beam search reorders the caches here and a
state returned whole (the GRU's) inside the graph. Bundles written before (one scalar
`index`) decode each prompt length apart. The state entries and their origin come
from the bundle manifest's decoding layout.

- Greedy is the arg-max loop the export parity checks run.
- Beam search is `kzoo.generation`'s beam search step for step: `2K` candidates
  per row, finished hypotheses kept apart and scored with the GNMT length penalty
  `((5 + length) / 6) ** length_penalty` (Wu et al., 2016), the best of finished
  and unfinished beams wins at the end.
- Top-k and top-p sample as keras-hub's `TopKSampler` / `TopPSampler` do
  (softmax of `logits / temperature` in float32, top-p keeps the smallest prefix
  of the sorted distribution whose mass reaches `p`, optionally within the top
  `k`), from a `numpy.random.Generator` seeded with `seed`; the random stream is
  numpy's, so sampled tokens differ from the Keras model's for the same seed.

Example:
```python
options = DecodingOptions(start_token_id=1, end_token_id=2)
tokens = generate(backend, layout, {"encoder_token_ids": ids, "encoder_padding_mask": mask},
                  max_new_tokens=16, max_length=17, options=options)
beams = generate(backend, layout, inputs, 16, 17,
                 dataclasses.replace(options, strategy="beam", num_beams=4, length_penalty=0.6))
```
"""

import dataclasses

import numpy as np

from kzoo.runtime.validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_probability,
    invalid_argument,
)

STRATEGIES = ("greedy", "beam", "top_k", "top_p")
LENGTH_NORMALIZATIONS = ("gnmt", "average")
# Options that change which tokens may come out, whatever the strategy: parity checks decode with them.
TOKEN_RULES = ("suppressed_token_ids", "force_end_token", "renormalize_logits")
_NEGATIVE_INFINITY = np.float32(-1e9)


@dataclasses.dataclass(frozen=True)
class DecodingOptions:
    """How to pick each new token, and the special ids decoding needs; checked when built.

    Args:
        strategy: one of `STRATEGIES`. Defaults to "greedy".
        num_beams: int. Beam width for "beam". Defaults to 4.
        length_penalty: float. GNMT alpha for "beam"; 0 ranks by log-probability
            alone (so `num_beams=1` equals greedy). Defaults to 0.
        top_k: int or None. For "top_k" (and optionally "top_p").
        top_p: float in (0, 1] or None. For "top_p".
        temperature: float > 0. Divides the logits before sampling. Defaults to 1.
        seed: int, `numpy.random.SeedSequence` or None. Makes sampling reproducible.
        start_token_id: int or None. The first decoder token of encoder-decoders.
        end_token_id: int or None. A row stops at its first end token.
        pad_token_id: int. Fills rows after their end. Defaults to 0.
        length_normalization: str. How beam search ranks finished hypotheses:
            "gnmt" (default): log-probability / ((5 + length) / 6) ** length_penalty
            (Wu et al., 2016); "average": log-probability / length ** length_penalty,
            with transformers' beam search rules (only the K best candidates may
            finish, `early_stopping`), so imported checkpoints decode as there.
        early_stopping: False (default), True or "never": transformers' beam search
            stopping rule, for `length_normalization="average"`.
        suppressed_token_ids: tuple of int. Tokens never generated (a checkpoint's
            `bad_words_ids`, e.g. Marian's pad).
        force_end_token: bool. The last new token of a row that has not ended is
            the end token (transformers' `forced_eos_token_id`).
        renormalize_logits: bool. Beam search takes the log-softmax again after
            the rules above, so a suppressed token's probability is spread over
            the others (transformers' `renormalize_logits`, which Marian's
            generation configs set). Greedy and sampling are unchanged by it.

    Example:
    ```python
    DecodingOptions(strategy="top_p", top_p=0.9, seed=1, end_token_id=3)
    ```
    """

    strategy: str = "greedy"
    num_beams: int = 4
    length_penalty: float = 0.0
    top_k: int = None
    top_p: float = None
    temperature: float = 1.0
    seed: object = None
    start_token_id: int = None
    end_token_id: int = None
    pad_token_id: int = 0
    length_normalization: str = "gnmt"
    early_stopping: object = False
    suppressed_token_ids: tuple = ()
    force_end_token: bool = False
    renormalize_logits: bool = False

    def __post_init__(self):
        check_choice("strategy", self.strategy, STRATEGIES)
        check_choice("length_normalization", self.length_normalization, LENGTH_NORMALIZATIONS)
        if self.early_stopping not in (True, False, "never"):
            raise invalid_argument("early_stopping", "True, False or 'never'", self.early_stopping)
        object.__setattr__(self, "suppressed_token_ids", tuple(int(t) for t in self.suppressed_token_ids))
        if self.force_end_token and self.end_token_id is None:
            raise ValueError("Received force_end_token=True without an end_token_id; pass the end token to force.")
        if self.strategy == "beam":
            check_positive_int("num_beams", self.num_beams)
        if self.strategy == "top_k" or (self.strategy == "top_p" and self.top_k is not None):
            check_positive_int("top_k", self.top_k)
        if self.strategy == "top_p":
            check_probability("top_p", self.top_p)
        check_positive_float("temperature", self.temperature)

    @classmethod
    def from_special_tokens(cls, special_tokens, **choices):
        """Options decoding with a bundle's or tokenizer's special ids (`{"start", "end", "pad", ...}`).

        An encoder-decoder whose target begins with another token than its
        source (Marian starts from pad) names it `decoder_start`; it wins over
        `start`. A causal LM without a pad token pads with 0 (masked anyway).

        Example: `DecodingOptions.from_special_tokens({"start": 1, "end": 2, "pad": 0}, strategy="beam")`.
        """
        start = special_tokens.get("decoder_start", special_tokens.get("start"))
        return cls(start_token_id=start, end_token_id=special_tokens.get("end"),
                   pad_token_id=special_tokens.get("pad", 0), **choices)

    def check_token_ids(self, vocabulary_size):
        """Raises `ValueError` for a special id outside `[0, vocabulary_size)`."""
        for name in ("end_token_id", "pad_token_id", "start_token_id"):
            token = getattr(self, name)
            if token is not None and not 0 <= int(token) < vocabulary_size:
                raise invalid_argument(name, f"a token id in [0, {vocabulary_size})", token)
        return self


@dataclasses.dataclass
class PromptBuffer:
    """Right-padded prompts with room for the new tokens: `tokens` and `forced` `[B, L]`, `lengths` `[B]`.

    `forced` is True on prompt positions (kept, not sampled); `start` is where
    decoding begins for the whole batch, the shortest prompt's end.
    """

    tokens: np.ndarray
    forced: np.ndarray
    lengths: np.ndarray

    @property
    def start(self):
        return int(self.lengths.min())


def decoded_positions(max_length, encoder):
    """Positions a decoding loop fills: the cache size, plus the start token an encoder-decoder's target begins with."""
    return max_length + 1 if encoder else max_length


def prompt_buffer(inputs, max_new_tokens, options, max_length):
    """The `PromptBuffer` for `inputs` and `max_new_tokens` more tokens, in at most `max_length` positions.

    Encoder-decoders (`encoder_token_ids` in `inputs`) start every row with the
    start token; causal LMs start from their right-padded `token_ids` (their
    `padding_mask` tells each prompt's length).
    """
    if "encoder_token_ids" in inputs:
        if options.start_token_id is None:
            raise ValueError("Encoder-decoder generation needs `start_token_id`, the token that starts every target.")
        batch = np.asarray(inputs["encoder_token_ids"]).shape[0]
        prompt, lengths = np.full((batch, 1), options.start_token_id, "int32"), np.ones(batch, "int32")
    else:
        prompt = np.asarray(inputs["token_ids"], "int32")
        lengths = np.asarray(inputs.get("padding_mask", np.ones_like(prompt)), bool).sum(axis=1).astype("int32")
        if np.any(lengths == 0):
            raise ValueError("Every prompt needs at least one token; received an empty prompt.")
    total = int(lengths.max()) + check_positive_int("max_new_tokens", max_new_tokens)
    if total > max_length:
        raise ValueError(
            f"A prompt of {int(lengths.max())} tokens plus max_new_tokens={max_new_tokens} needs {total} positions, "
            f"more than the {max_length} this model decodes; shorten the prompt or max_new_tokens."
        )
    tokens = np.full((prompt.shape[0], total), options.pad_token_id, "int32")
    forced = np.zeros(tokens.shape, bool)
    for row, length in enumerate(lengths):
        tokens[row, :length], forced[row, :length] = prompt[row, :length], True
    return PromptBuffer(tokens, forced, lengths)


def start_state(backend, layout, inputs, batch):
    """The initial decoding state: encoder outputs, copied inputs and zero caches."""
    encoded = backend.run("encode", inputs) if "encode" in backend.parts else {}
    state = {}
    for name, entry in layout["state"].items():
        if entry["source"] == "encode":
            state[name] = encoded[name]
        elif entry["source"] == "input":
            state[name] = np.asarray(inputs[name], entry["dtype"])
        else:
            state[name] = np.zeros([batch] + entry["shape"][1:], entry["dtype"])
    return state


def step(backend, layout, token_ids, state, positions, parents=None):
    """One `decode_step` of rows at their own `positions`: logits `[B, T, V]` and the new state.

    Args:
        token_ids: int32 `[B, T]`, the tokens at `positions[b], positions[b] + 1, ...`.
        state: the decoding state (one row per row of the previous step's output).
            Its appended entries (KV caches) are written in place, unless `parents`
            reorders them into new arrays first.
        positions: int `[B]`.
        parents: int `[B]` or None. The state row each row continues (beam search);
            None: its own.

    The layout's appended entries are reordered here (a numpy gather) and get the
    step's new keys and values written at each row's positions; its updated
    entries are replaced by the step's outputs, reordered inside the graph when it
    takes `beam_parents` (else here). A version-1 graph takes one scalar `index`,
    so its rows must share a position.
    """
    names = backend.input_names("decode_step")
    positions = np.asarray(positions, "int32")
    appended = layout.get("appended", [])
    if parents is not None and np.array_equal(parents, np.arange(len(parents))):
        parents = None  # Every beam continues itself: nothing to reorder.
    if parents is not None:
        state = dict(state, **{name: state[name][parents] for name in appended})
    feeds = dict(state, token_ids=token_ids)
    if "beam_parents" in names:
        feeds["beam_parents"] = np.arange(len(positions), dtype="int32") if parents is None else parents
    elif parents is not None:
        feeds.update({name: state[name][parents] for name in layout["updated"]})
    if "index" in names:
        if np.any(positions != positions[0]):
            raise ValueError("This bundle's decode_step takes one position for the whole batch; step rows of one length.")
        feeds["index"] = positions[0]
    else:
        feeds["positions"] = positions
    outputs = backend.run("decode_step", feeds)
    new_state = dict(state)
    for name in layout["updated"]:
        new_state[name] = outputs[f"next_{name}"]
    for name in appended:
        _write_positions(new_state[name], outputs[f"new_{name}"], positions, layout["position_axis"])
    return outputs["logits"], new_state


def _write_positions(cache, new, positions, axis):
    """Write `new` (T positions on `axis`) into `cache` in place, row b from `positions[b]` on."""
    slots = positions[:, None] + np.arange(new.shape[axis])  # [B, T]
    np.moveaxis(cache, axis, 1)[np.arange(len(positions))[:, None], slots] = np.moveaxis(new, axis, 1)


def generate(backend, layout, inputs, max_new_tokens, max_length, options=DecodingOptions()):
    """Decodes `max_new_tokens` tokens per row; returns int32 `[B, max_new_tokens]` like `kzoo.generation.generate`.

    One `decode_step` call reads every row's whole prompt (the prefill); then each
    step feeds every row's newest token at that row's own position, so ragged
    prompts cost no extra steps.

    Args:
        backend: an `OnnxBackend` or `TFLiteBackend` with `decode_step` (and `encode`).
        layout: the manifest's `decoding` entry.
        inputs: `{"encoder_token_ids", "encoder_padding_mask"}` `[B, S]`, or
            `{"token_ids", "padding_mask"}` `[B, T]` (right-padded prompts).
        max_new_tokens: int. Tokens decoded per row.
        max_length: int. Positions the bundle decodes (the cache size, plus 1
            for the start token of encoder-decoders).
        options: `DecodingOptions`. Defaults to greedy.
    """
    prompt = prompt_buffer(inputs, max_new_tokens, options, max_length)
    lengths = prompt.lengths
    if "index" in backend.input_names("decode_step") and np.any(lengths != lengths[0]):
        # A version-1 step takes one position for the whole batch: decode each prompt length apart.
        tokens = np.empty((len(lengths), max_new_tokens), "int32")
        for length in np.unique(lengths):
            rows = np.flatnonzero(lengths == length)
            picked = {name: np.asarray(value)[rows] for name, value in inputs.items()}
            tokens[rows] = generate(backend, layout, picked, max_new_tokens, max_length, options)
        return tokens
    batch = len(lengths)
    last, state = prefill(backend, layout, inputs, prompt)
    if options.strategy == "beam":
        return _beam_search(backend, layout, last, state, lengths, options, max_new_tokens)
    rng = np.random.default_rng(options.seed) if options.strategy != "greedy" else None
    tokens = np.full((batch, max_new_tokens), options.pad_token_id, "int32")
    ended = np.zeros(batch, bool)
    for count in range(max_new_tokens):
        chosen = next_tokens(last, options, rng, final=count + 1 == max_new_tokens)
        tokens[:, count] = np.where(ended, options.pad_token_id, chosen)
        if options.end_token_id is not None:
            ended |= chosen == options.end_token_id
        if ended.all() or count + 1 == max_new_tokens:
            break
        logits, state = step(backend, layout, chosen[:, None], state, lengths + count)
        last = logits[:, -1]
    return tokens


def prefill(backend, layout, inputs, prompt):
    """The decoding state after each row's prompt (`PromptBuffer`), and the logits `[B, V]` of its first new token.

    One `decode_step` call reads every row's whole prompt at positions 0, 1, ...
    (after `encode` for an encoder-decoder, whose prompt is its start token).
    """
    batch, lengths = len(prompt.lengths), prompt.lengths
    state = start_state(backend, layout, inputs, batch)
    logits, state = step(backend, layout, prompt.tokens[:, : lengths.max()], state, np.zeros(batch, "int32"))
    return logits[np.arange(batch), lengths - 1], state


def next_tokens(last, options, rng, final):
    """The next token of each row from its logits `[B, V]`: greedy, or sampled with `rng`; `final`: its last one."""
    scores = process_scores(last, options, last=np.full(len(last), final))
    if options.strategy == "greedy":
        return scores.argmax(-1).astype("int32")
    return sample(scores, rng, top_k=options.top_k, top_p=options.top_p if options.strategy == "top_p" else None,
                  temperature=options.temperature)


def process_scores(scores, options, last):
    """Scores `[..., V]` with the suppressed tokens at -inf and, where `last` (`[...]` bool) holds, every token
    but the end token at -inf and the end token at 0 (transformers' NoBadWords and ForcedEOS processors)."""
    if options.suppressed_token_ids:
        scores = scores.copy()
        scores[..., list(options.suppressed_token_ids)] = -np.inf
    if options.force_end_token:
        forced_end = np.full(scores.shape[-1], -np.inf, scores.dtype)
        forced_end[options.end_token_id] = 0.0
        scores = np.where(np.asarray(last)[..., None], forced_end, scores)
    return scores


def _top_indices(scores, k):
    """Indices of the `k` largest scores per row, largest first; ties keep the lower index (as `top_k`).

    A partial selection (`argpartition`, linear in V) and a sort of the `k` picked,
    not a full sort: over beam search's `K x V` candidates per row the full sort
    took 6 ms of a 60 ms step (Transformer-base shape, batch 16, 4 beams). A row
    whose k-th score is tied with one left out is sorted fully, so ties break
    exactly as before.
    """
    width = scores.shape[-1]
    if 4 * k >= width:
        return np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    picked = np.argpartition(-scores, k - 1, axis=-1)[..., :k]
    values = np.take_along_axis(scores, picked, axis=-1)
    order = np.lexsort((picked, -values), axis=-1)  # By score, then by index.
    picked = np.take_along_axis(picked, order, axis=-1)
    tied = (scores >= values.min(axis=-1, keepdims=True)).sum(axis=-1) > k
    if np.any(tied):
        picked[tied] = np.argsort(-scores[tied], axis=-1, kind="stable")[..., :k]
    return picked


def sample(logits, rng, top_k=None, top_p=None, temperature=1.0):
    """One token per row from logits `[B, V]`: top-k, then top-p, sampling (keras-hub's rules).

    Args:
        logits: float array `[B, V]`.
        rng: `numpy.random.Generator`.
        top_k: int or None. Sample among the `top_k` most likely tokens.
        top_p: float or None. Keep the most likely tokens up to and including
            the one whose cumulative probability passes `top_p`.
        temperature: float. Divides the logits first.

    Returns:
        int32 `[B]`.
    """
    scaled = np.asarray(logits, "float32") / np.float32(temperature)
    scaled = scaled - scaled.max(-1, keepdims=True)
    probabilities = np.exp(scaled)
    probabilities /= probabilities.sum(-1, keepdims=True)
    cutoff = min(int(top_k), probabilities.shape[-1]) if top_k is not None else probabilities.shape[-1]
    order = _top_indices(probabilities, cutoff)  # [B, k]
    kept = np.take_along_axis(probabilities, order, axis=-1).astype("float64")
    if top_p is not None:
        keep = np.cumsum(kept, axis=-1) <= top_p
        keep = np.concatenate([np.ones_like(keep[:, :1]), keep[:, :-1]], axis=-1)  # Keep the token that passes p.
        kept = np.where(keep, kept, 0.0)
    kept /= kept.sum(-1, keepdims=True)
    draws = rng.random((len(kept), 1))
    # Kept tokens are a prefix of the sorted order; rounding must not step past it.
    picked = np.minimum((np.cumsum(kept, axis=-1) < draws).sum(-1), (kept > 0).sum(-1) - 1)
    return np.take_along_axis(order, picked[:, None], axis=-1)[:, 0].astype("int32")


def _log_softmax(logits):
    logits = np.asarray(logits, "float32")
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def _length_penalty(length, alpha, normalization="gnmt"):
    """The divisor of a finished hypothesis's log-probability: GNMT's ((5 + length) / 6) ** alpha, or
    transformers' length ** alpha (computed in float64, then float32, as torch divides a float32 tensor)."""
    if normalization == "average":
        return np.power(np.asarray(length, "float64"), float(alpha)).astype("float32")
    return np.power((np.float32(5.0) + np.asarray(length, "float32")) / np.float32(6.0), np.float32(alpha))


def _beam_search(backend, layout, first_logits, state, lengths, options, max_new_tokens):
    """`kzoo.generation`'s beam search in numpy, from the prefill's logits; returns the new tokens `[B, max_new_tokens]`.

    Each step keeps the `2K` best continuations. Unfinished beams compete on
    log-probability; a hypothesis that emits the end token moves to a set of K
    finished ones, scored with its length normalization.
    - "gnmt": any of the `2K` candidates may finish; the loop runs to the last
      position; at the end the unfinished beams join the finished set (scored the
      same way) and the best wins.
    - "average" (transformers' rules): only the K best candidates may finish; a
      row's candidates all finish when it reaches `max_new_tokens`; a row stops
      taking finished hypotheses once its best running beam can no longer beat its
      worst finished one (`early_stopping` False: at its current length; "never":
      at the longest length when the penalty favours length), or once K have
      finished (`early_stopping=True`); the best finished hypothesis wins.
    Each step hands the kept beams' parent rows to `step`, which reorders the KV
    caches (and a state the graph returns whole, inside the graph when it can).
    """
    alpha, end_token_id, normalization = float(options.length_penalty), options.end_token_id, options.length_normalization
    average = normalization == "average"
    batch, beams = len(lengths), int(options.num_beams)
    rows = np.arange(batch)[:, None]
    sequences = np.full((batch, beams, max_new_tokens), options.pad_token_id, "int32")  # [B, K, N]
    log_probs = np.tile(np.array([[0.0] + [_NEGATIVE_INFINITY] * (beams - 1)], "float32"), (batch, 1))  # [B, K]
    finished = np.zeros_like(sequences)
    finished_scores = np.full((batch, beams), _NEGATIVE_INFINITY, "float32")
    finished_flags = np.zeros((batch, beams), bool)  # Slots holding a finished hypothesis.
    improvable = np.ones(batch, bool)  # Rows whose running beams may still beat their finished ones.
    top_k = np.arange(2 * beams) < beams  # Only these candidates may finish under "average".
    state = {name: np.repeat(value, beams, axis=0) for name, value in state.items()}  # [B * K, ...]
    positions = np.repeat(lengths, beams).astype("int32")
    logits = np.repeat(first_logits, beams, axis=0)  # [B * K, V]
    end = -1 if end_token_id is None else end_token_id
    parents = newest = None  # The kept beams' rows and tokens, fed to the next step.
    for count in range(max_new_tokens):
        if count:
            logits, state = step(backend, layout, newest[:, None], state, positions + count - 1, parents)
            logits = logits[:, -1]
        generated = count + 1  # Tokens generated after this step, the end token included.
        vocabulary = logits.shape[-1]
        scores = _log_softmax(logits).reshape(batch, beams, vocabulary)  # [B, K, V]
        scores = process_scores(scores, options, last=np.full((batch, beams), generated == max_new_tokens))
        if options.renormalize_logits:
            scores = _log_softmax(scores)
        scores = (log_probs[:, :, None] + scores).reshape(batch, beams * vocabulary)
        top = _top_indices(scores, 2 * beams)  # [B, 2K]
        top_scores = np.take_along_axis(scores, top, axis=1)
        origin, token = top // vocabulary, (top % vocabulary).astype("int32")
        candidates = sequences[rows, origin]  # [B, 2K, N]
        candidates[:, :, count] = token
        ends = token == end
        stops = ends | (generated >= max_new_tokens) if average else ends  # [B, 2K]
        # Unfinished: the K best candidates that did not just stop.
        alive_scores = top_scores + np.float32(-1e9) * stops if average else np.where(ends, _NEGATIVE_INFINITY, top_scores)
        alive = _top_indices(alive_scores, beams)
        log_probs = np.take_along_axis(alive_scores, alive, axis=1)
        sequences = candidates[rows, alive]
        parents = (np.take_along_axis(origin, alive, axis=1) + rows * beams).reshape(-1).astype("int32")
        newest = sequences[:, :, count].reshape(-1)
        # Finished: merge the candidates that just stopped into the finished set.
        normalized = top_scores / _length_penalty(generated, alpha, normalization)
        if average:
            finishing = stops & top_k
            closed = ~improvable | (finished_flags.all(axis=1) & (options.early_stopping is True))
            candidate_scores = normalized + np.float32(-1e9) * (closed[:, None] | ~finishing)
        else:
            finishing = ends
            candidate_scores = np.where(ends, normalized, _NEGATIVE_INFINITY)
        merged_scores = np.concatenate([finished_scores, candidate_scores], axis=1)
        keep = _top_indices(merged_scores, beams)
        finished_scores = np.take_along_axis(merged_scores, keep, axis=1)
        finished = np.concatenate([finished, candidates], axis=1)[rows, keep]
        finished_flags = np.take_along_axis(np.concatenate([finished_flags, finishing], axis=1), keep, axis=1)
        if average:
            longest = max_new_tokens if options.early_stopping == "never" and alpha > 0.0 else generated
            best_running = log_probs[:, 0] / _length_penalty(longest, alpha, normalization)
            worst_finished = np.where(finished_flags, finished_scores.min(axis=1, keepdims=True), np.float32(-1e9))
            improvable &= np.any(best_running[:, None] > worst_finished, axis=1)
            all_full = finished_flags.all() and options.early_stopping is True
            if not improvable.any() or all_full or stops.all():
                break
    if average:
        return pad_after_end(finished[:, 0], options)  # Sorted: the best finished hypothesis first.
    alive_scores = log_probs / _length_penalty(max_new_tokens, alpha)
    best = np.concatenate([finished_scores, alive_scores], axis=1).argmax(axis=1)
    return pad_after_end(np.concatenate([finished, sequences], axis=1)[np.arange(batch), best], options)


def new_tokens(buffer, lengths, max_new_tokens, options):
    """Each row's first `max_new_tokens` tokens after its prompt, `pad_token_id` after its end token."""
    rows = np.full((len(lengths), max_new_tokens), options.pad_token_id, "int32")
    for row, length in enumerate(lengths):
        taken = np.asarray(buffer[row, length : length + max_new_tokens])
        rows[row, : len(taken)] = taken
    return pad_after_end(rows, options)


def pad_after_end(rows, options):
    """`rows` `[B, N]` with `pad_token_id` after each row's first end token."""
    if options.end_token_id is None:
        return rows
    ended = np.cumsum(rows == options.end_token_id, axis=1) > 0
    after_end = np.concatenate([np.zeros_like(ended[:, :1]), ended[:, :-1]], axis=1)
    return np.where(after_end, options.pad_token_id, rows)
