"""`ContinuousDecoder`: continuous batching, where requests join a running decode batch between steps.

One thread runs the decoding loop of a `BundleModel`. Before every step it admits
waiting requests (one prefill call each: the encoder and start token of a
translator, the whole prompt of a causal LM) and appends their rows and state to
the running batch; then one `decode_step` serves every row at its own position
(decode-step contract 2); a request whose rows have all ended, or that was
cancelled, leaves at once. So a short request is not held behind a long one.

Each request keeps its own options and random generator, and its rows stay in
the batch until the whole request is done: its tokens equal those of
`model.generate_ids` on it alone (greedy exactly; sampling with the same seed
draws the same numbers), up to the last bits of float arithmetic a different
batch size may change. Beam search is not served here: its beams reorder their
caches every step (`generate_ids` runs it).

Example:
```python
decoder = ContinuousDecoder(model)
future = decoder.submit(model.decoding_inputs(["twelve"]), max_new_tokens=16, strategy="greedy")
model.decode_new_tokens(future.result())
decoder.close()
```
"""

import concurrent.futures
import threading

import numpy as np

from kzoo.runtime import decoding


class _Request:
    """One request's rows in the running batch: its options, generator, tokens so far and callbacks."""

    def __init__(self, inputs, max_new_tokens, options, rng, on_tokens):
        self.inputs, self.max_new_tokens, self.options, self.rng = inputs, max_new_tokens, options, rng
        self.on_tokens = on_tokens
        self.future = concurrent.futures.Future()
        self.future.kzoo_request = self  # For `ContinuousDecoder.cancel(future)`.
        self.rows = len(next(iter(inputs.values())))
        self.tokens = np.full((self.rows, max_new_tokens), options.pad_token_id, "int32")
        self.ended = np.zeros(self.rows, bool)
        self.count = 0
        self.cancelled = False
        self.lengths = self.last = None


class ContinuousDecoder:
    """Decodes the requests `submit` hands it in one running batch (see the module docstring).

    Args:
        model: `kzoo.runtime.BundleModel` of a generative bundle whose `decode_step`
            takes a position per row (`ContinuousDecoder.supports(model)`).
        max_rows: int. Most rows in the running batch; requests beyond wait.

    Attributes:
        steps: int. Decode steps run. rows_stepped: int. Rows they served (for the mean batch size).

    Example: `ContinuousDecoder(model).submit(model.decoding_inputs(["twelve"]), 16).result()`.
    """

    def __init__(self, model, max_rows=64):
        if not self.supports(model):
            raise ValueError("Received a bundle whose decode_step takes one position for the whole batch (or a "
                             "fixed batch); continuous batching needs decode-step contract 2: re-export it.")
        self.model, self.max_rows = model, max_rows
        self.limit = decoding.decoded_positions(model.max_length, model.seq2seq)
        self.steps = self.rows_stepped = 0
        self._waiting, self._active, self._state = [], [], None
        self._condition = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="kzoo-continuous-decoder", daemon=True)
        self._thread.start()

    @staticmethod
    def supports(model):
        """True when `model` is generative and its `decode_step` takes a position per row (contract 2)."""
        return bool(model.generative) and "positions" in model.backend.input_names("decode_step")

    @property
    def rows(self):
        """Rows decoding now."""
        return sum(request.rows for request in self._active)

    @property
    def waiting(self):
        """Requests waiting to join the batch."""
        return len(self._waiting)

    @property
    def load(self):
        """Rows decoding or waiting: where to send the next request among several decoders."""
        return self.rows + sum(request.rows for request in self._waiting)

    def submit(self, inputs, max_new_tokens, on_tokens=None, **choices):
        """Queues one request; returns a `concurrent.futures.Future` of its new tokens `[B, max_new_tokens]`.

        Args:
            inputs: what `model.decoding_inputs` returns (packed ids and mask).
            max_new_tokens: int. Tokens decoded per row.
            on_tokens: callable or None. Called from the decoding thread after each
                step with the tokens so far `[B, n]` (rows that ended hold pad after their end).
            **choices: the `DECODING_ARGUMENTS` of `model.generate_ids`, beam search aside.

        `cancel(future)` takes the request out of the batch at the next step.
        """
        options = self.model.decoding_options(**choices)
        if options.strategy == "beam":
            raise ValueError("Received strategy='beam'; continuous batching serves greedy and sampling (beam search "
                             "runs through generate_ids).")
        # As generate_ids does for a request within one chunk: its generator comes from the first spawned seed.
        seed = np.random.SeedSequence(options.seed).spawn(1)[0] if options.seed is not None else None
        rng = np.random.default_rng(seed) if options.strategy != "greedy" else None
        request = _Request({name: np.asarray(value, "int32") for name, value in inputs.items()}, max_new_tokens,
                           options, rng, on_tokens)
        with self._condition:
            if self._closed:
                raise RuntimeError("This ContinuousDecoder is closed.")
            self._waiting.append(request)
            self._condition.notify()
        return request.future

    def cancel(self, future):
        """Drops the request of `future` (its client left, or its deadline passed) before the next step."""
        request = future.kzoo_request
        with self._condition:
            request.cancelled = True
            if request in self._waiting:
                self._waiting.remove(request)
                future.cancel()

    def close(self):
        """Stops the loop; requests not done are cancelled."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join()

    # ------------------------------------------------------------------ the loop (its own thread)

    def _loop(self):
        while True:
            with self._condition:
                while not self._closed and not self._waiting and not self._active:
                    self._condition.wait()
                if self._closed:
                    for request in self._waiting + self._active:
                        request.future.cancel()
                    return
                admitted = self._admissible()
            for request in admitted:
                self._admit(request)
            if self._active:
                try:
                    self._step()
                except Exception as error:  # noqa: BLE001 - every request in the batch gets the error.
                    for request in self._active:
                        if not request.future.done():
                            request.future.set_exception(error)
                    self._active, self._state = [], None

    def _admissible(self):
        """The waiting requests that fit in the batch now (at least one when the batch is empty)."""
        admitted, rows = [], self.rows
        while self._waiting and (not admitted and not self._active or rows + self._waiting[0].rows <= self.max_rows):
            request = self._waiting.pop(0)
            rows += request.rows
            admitted.append(request)
        return admitted

    def _admit(self, request):
        if request.cancelled or not request.future.set_running_or_notify_cancel():
            return
        try:
            prompt = decoding.prompt_buffer(request.inputs, request.max_new_tokens, request.options, self.limit)
            request.last, state = decoding.prefill(self.model.backend, self.model.layout, request.inputs, prompt)
            request.lengths = prompt.lengths.astype("int32")
        except Exception as error:  # noqa: BLE001 - handed to the caller through its future.
            request.future.set_exception(error)
            return
        self._state = state if self._state is None else _concatenate(self._state, state)
        self._active.append(request)

    def _step(self):
        """Chooses every active request's next tokens, retires the finished ones, and steps the rest."""
        chosen, keep, positions = [], [], []
        for request in self._active:
            options = request.options
            tokens = decoding.next_tokens(request.last, options, request.rng,
                                          final=request.count + 1 == request.max_new_tokens)
            request.tokens[:, request.count] = np.where(request.ended, options.pad_token_id, tokens)
            if options.end_token_id is not None:
                request.ended |= tokens == options.end_token_id
            positions.append(request.lengths + request.count)
            request.count += 1
            if request.on_tokens is not None:
                _call_quietly(request.on_tokens, request.tokens[:, : request.count].copy())
            if request.ended.all() or request.count == request.max_new_tokens:
                self.model.record_generated(request.tokens, options.end_token_id)
                request.future.set_result(request.tokens)
            elif request.cancelled:
                request.future.set_exception(concurrent.futures.CancelledError())
            keep.append(np.full(request.rows, not request.future.done()))
            chosen.append(tokens)
        keep = np.concatenate(keep)
        self._active = [request for request in self._active if not request.future.done()]
        if not keep.any():
            self._state = None
            return
        if not keep.all():
            self._state = {name: value[keep] for name, value in self._state.items()}
        token_ids = np.concatenate(chosen)[keep][:, None]
        logits, self._state = decoding.step(self.model.backend, self.model.layout, token_ids, self._state,
                                            np.concatenate(positions)[keep])
        self.steps += 1
        self.rows_stepped += len(token_ids)
        start = 0
        for request in self._active:
            request.last = logits[start:start + request.rows, -1]
            start += request.rows


def _concatenate(state, new):
    """The running batch's state with `new` rows appended; axes that differ (source lengths) are zero-padded.

    Zeros past a row's own length are what the padding mask already hides (its
    mask entries are 0 there), so the padded rows decode as before.
    """
    merged = {}
    for name, value in state.items():
        other = new[name]
        if value.shape[1:] != other.shape[1:]:
            shape = [max(a, b) for a, b in zip(value.shape[1:], other.shape[1:])]
            value, other = _pad_to(value, shape), _pad_to(other, shape)
        merged[name] = np.concatenate([value, other])
    return merged


def _pad_to(array, shape):
    return np.pad(array, [(0, 0)] + [(0, size - have) for size, have in zip(shape, array.shape[1:])])


def _call_quietly(callback, tokens):
    try:
        callback(tokens)
    except Exception:  # noqa: BLE001 - a listener's failure must not stop the other requests' decoding.
        pass
