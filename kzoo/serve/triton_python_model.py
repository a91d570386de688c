"""The `model.py` of a generative bundle in a Triton model repository (`write_triton_repository` copies it).

Triton's Python backend runs it beside a copy of the bundle (`bundle/`) and of
`kzoo.runtime` (`kzoo/runtime/`); it decodes with `kzoo.runtime.load(...).translate`
or `.generate`. Input `text` (TYPE_STRING, `[-1]`); output `translation` (or
`continuation`); the request's parameters are the decoding options (`strategy`,
`num_beams`, `max_new_tokens`, `seed`, ...). A bad request gets a `TritonError`
whose message is the runtime's one sentence. Outside Triton this module imports
nothing but the standard library.

Example request (tritonclient):
```python
text = httpclient.InferInput("text", [1], "BYTES").set_data_from_numpy(np.array(["twelve"], dtype=object))
client.infer("translator", [text], parameters={"strategy": "beam"}).as_numpy("translation")
```
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class TritonPythonModel:
    """Triton's Python-backend entry point over a kzoo bundle."""

    def initialize(self, args):
        sys.path.insert(0, HERE)  # The copy of kzoo.runtime beside this file.
        from kzoo.runtime import load

        self.model = load(os.path.join(HERE, "bundle"), threads=1)
        self.output = "translation" if self.model.seq2seq else "continuation"

    def execute(self, requests):
        import numpy as np
        import triton_python_backend_utils as pb_utils

        responses = []
        for request in requests:
            try:
                values = pb_utils.get_input_tensor_by_name(request, "text").as_numpy().reshape(-1)
                texts = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in values]
                options = json.loads(request.parameters() or "{}")
                method = self.model.translate if self.model.seq2seq else self.model.generate
                outputs = method(texts, truncate=False, **options)
                tensor = pb_utils.Tensor(self.output, np.array([o.encode("utf-8") for o in outputs], dtype=object))
                responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
            except (ValueError, TypeError, KeyError) as error:  # The runtime's sentence for a bad request.
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(error))))
        return responses
