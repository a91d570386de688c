"""`ContinuousDecoder`: continuous batching, where requests join a running decode batch between steps.

One thread runs the decoding loop of a `BundleModel`. Before every step it admits
the waiting requests that fit (`max_rows`) and appends their rows and state to
the running batch: one `encode` call for all newcomers to a translator, whose
start tokens then ride along with the next step; one prefill call for all
prompts new to a causal LM. Each step is one `decode_step` for every row at its
own position (decode-step contract 2); a request whose rows have all ended, or
that was cancelled, leaves at once. So a short request is not held behind a
long one. The state lives in buffers with room for `max_rows` rows: joining
writes only the new rows, leaving moves the rows behind the gap.

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
        self.lengths = self.last = self.first = None


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
        self._waiting, self._active = [], []
        self._state, self._count = {}, 0  # Buffers with room for max_rows rows; the first _count are running.
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
        return self._count

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
            try:
                if admitted:
                    self._admit(admitted)
                if self._active:
                    self._step()
            except Exception as error:  # noqa: BLE001 - every request in the batch gets the error.
                for request in self._active + admitted:
                    if not request.future.done():
                        request.future.set_exception(error)
                self._active, self._count = [], 0

    def _admissible(self):
        """The waiting requests that fit in the batch now (at least one when the batch is empty)."""
        admitted, rows = [], self._count
        while self._waiting and (not admitted and not self._active or rows + self._waiting[0].rows <= self.max_rows):
            request = self._waiting.pop(0)
            if request.cancelled or not request.future.set_running_or_notify_cancel():
                continue
            rows += request.rows
            admitted.append(request)
        return admitted

    def _admit(self, requests):
        """One prefill call for every admitted request (ragged prompts together), then their rows join the batch."""
        prompts = []
        for request in requests:
            try:
                prompts.append(decoding.prompt_buffer(request.inputs, request.max_new_tokens, request.options,
                                                      self.limit))
            except Exception as error:  # noqa: BLE001 - this request alone is at fault.
                request.future.set_exception(error)
                prompts.append(None)
        requests = [request for request, prompt in zip(requests, prompts) if prompt is not None]
        prompts = [prompt for prompt in prompts if prompt is not None]
        if not requests:
            return
        inputs = {name: _stack([request.inputs[name] for request in requests])
                  for name in requests[0].inputs}
        for request, request_prompt in zip(requests, prompts):
            request.lengths = request_prompt.lengths.astype("int32")
        if self.model.seq2seq:
            # The encoder only: each new row's first step (its start token at position 0) rides along with the
            # running rows' next step, instead of a decode_step call of its own.
            self._append(decoding.start_state(self.model.backend, self.model.layout, inputs, len(inputs[
                "encoder_token_ids"])))
            for request, request_prompt in zip(requests, prompts):
                request.first = request_prompt.tokens[:, 0]
            self._active.extend(requests)
            return
        prompt = decoding.PromptBuffer(_stack([p.tokens for p in prompts], requests[0].options.pad_token_id),
                                       _stack([p.forced for p in prompts]), np.concatenate([p.lengths for p in prompts]))
        last, state = decoding.prefill(self.model.backend, self.model.layout, inputs, prompt)
        self._append(state)
        start = 0
        for request in requests:
            request.last = last[start:start + request.rows]
            start += request.rows
        self._active.extend(requests)

    def _append(self, state):
        """Writes new rows' state after the running ones, growing the buffers where the new rows need room."""
        rows = len(next(iter(state.values())))
        for name, value in state.items():
            buffer = self._state.get(name)
            shape = [max(self.max_rows, self._count + rows)] + list(value.shape[1:])
            if buffer is not None:
                shape = [max(a, b) for a, b in zip(shape, buffer.shape)]
            if buffer is None or list(buffer.shape) != shape:
                grown = np.zeros(shape, value.dtype)
                if buffer is not None:
                    grown[tuple(slice(0, size) for size in buffer.shape)] = buffer
                buffer = self._state[name] = grown
            # Zeros past the new rows' own lengths (source length) are what their padding mask hides.
            buffer[self._count:self._count + rows] = 0
            buffer[(slice(self._count, self._count + rows),) + tuple(slice(0, size) for size in value.shape[1:])] = value
        self._count += rows

    def _step(self):
        """Chooses every active request's next tokens, retires the finished ones, and steps the rest."""
        chosen, keep, positions = [], [], []
        for request in self._active:
            if request.last is None:  # Joined since the last step: it feeds its start token at position 0.
                chosen.append(request.first)
                positions.append(np.zeros(request.rows, "int32"))
                keep.append(np.full(request.rows, not request.cancelled))
                if request.cancelled:
                    request.future.set_exception(concurrent.futures.CancelledError())
                continue
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
        if not keep.all():
            kept = np.flatnonzero(keep)
            for buffer in self._state.values():
                buffer[: len(kept)] = buffer[kept]  # Compact: the running rows stay first, in order.
            self._count = len(kept)
        if not self._count:
            return
        token_ids = np.concatenate(chosen)[keep][:, None]
        view = {name: buffer[: self._count] for name, buffer in self._state.items()}
        logits, stepped = decoding.step(self.model.backend, self.model.layout, token_ids, view,
                                        np.concatenate(positions)[keep])
        for name in self.model.layout.get("updated", []):  # Returned whole; the caches were written in place.
            self._state[name][: self._count] = stepped[name]
        self.steps += 1
        self.rows_stepped += self._count
        start = 0
        for request in self._active:
            request.last = logits[start:start + request.rows, -1]
            start += request.rows


def _stack(arrays, fill=0):
    """Rows of several requests in one array; a shorter second axis is padded with `fill` (the mask's 0)."""
    width = max(array.shape[1] for array in arrays)
    return np.concatenate([np.pad(array, [(0, 0), (0, width - array.shape[1])], constant_values=fill)
                           for array in arrays])


def _call_quietly(callback, tokens):
    try:
        callback(tokens)
    except Exception:  # noqa: BLE001 - a listener's failure must not stop the other requests' decoding.
        pass
