"""Tensors of the KServe V2 / Open Inference Protocol: JSON and the binary tensor extension.

A V2 tensor is `{"name", "datatype", "shape", "data"}`: `data` holds the elements
in row-major order (flat or nested). With the binary tensor data extension the
request or response body is a JSON header followed by raw bytes; the
`Inference-Header-Content-Length` HTTP header gives the header's size and each
binary tensor says its `binary_data_size` in its `parameters`. Raw bytes are
little-endian; a BYTES element is a 4-byte little-endian length and then its bytes.
The format is Triton's (its `binary_data` extension); tritonclient speaks it by
default, so both forms are read and written here.

Example:
```python
array = tensor_array({"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a", "b"]})
json_tensor, raw = encode_tensor("translation", "BYTES", ["un", "deux"], binary=False)
```
"""

import json
import struct

import numpy as np

from kzoo.serve.client_error import ClientError

NUMPY_TYPES = {"BOOL": "bool", "INT32": "<i4", "INT64": "<i8", "FP32": "<f4", "FP64": "<f8"}
HEADER_LENGTH = "inference-header-content-length"


def split_body(body, header_length):
    """`(header dict, raw bytes after it)` of a V2 request body.

    Args:
        body: bytes. The whole request body.
        header_length: str or None. The `Inference-Header-Content-Length` header.

    Raises:
        ClientError: 400 when the header is not a JSON object or the length is wrong.
    """
    size = len(body)
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > len(body):
            raise ClientError(400, f"Inference-Header-Content-Length={header_length!r} is not a length within the "
                                   f"{len(body)}-byte body.")
        size = int(header_length)
    if not body[:size].strip():
        raise ClientError(400, "The request body is empty; /infer takes a JSON object with an \"inputs\" list.")
    try:
        header = json.loads(body[:size])
    except (ValueError, UnicodeDecodeError) as error:
        raise ClientError(400, f"The inference request header is not valid JSON ({error}).") from None
    if not isinstance(header, dict):
        raise ClientError(400, "The inference request must be a JSON object with an \"inputs\" list.")
    return header, body[size:]


def tensor_array(tensor, raw=b"", offset=0):
    """`(value, bytes consumed)` of one V2 input tensor: a numpy array, or a list of str for BYTES.

    Args:
        tensor: dict. The tensor as the request's JSON gives it.
        raw: bytes. The binary part of the body (for `binary_data_size`).
        offset: int. Where this tensor's bytes start in `raw`.

    Raises:
        ClientError: 400 naming the tensor when its datatype, shape or data do not agree.
    """
    name, datatype, shape = tensor["name"], tensor["datatype"], tensor["shape"]
    count = int(np.prod(shape)) if shape else 1
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(raw):
            raise ClientError(400, f"Input {name!r} says binary_data_size={size!r}, beyond the "
                                   f"{len(raw) - offset} bytes left in the body.")
        chunk = raw[offset:offset + size]
        if datatype == "BYTES":
            return _unpack_bytes(name, chunk, count), size
        if size != count * np.dtype(NUMPY_TYPES[datatype]).itemsize:
            raise ClientError(400, f"Input {name!r} has {size} bytes; shape {shape} of {datatype} needs "
                                   f"{count * np.dtype(NUMPY_TYPES[datatype]).itemsize}.")
        return np.frombuffer(chunk, NUMPY_TYPES[datatype]).reshape(shape), size
    if "data" not in tensor:
        raise ClientError(400, f"Input {name!r} has neither \"data\" nor a binary_data_size parameter.")
    flat = _flatten(tensor["data"])
    if len(flat) != count:
        raise ClientError(400, f"Input {name!r} has {len(flat)} elements; its shape {shape} needs {count}.")
    if datatype == "BYTES":
        if not all(isinstance(item, str) for item in flat):
            raise ClientError(400, f"Input {name!r} is BYTES; send its elements as JSON strings.")
        return flat, 0
    if not all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in flat):
        raise ClientError(400, f"Input {name!r} is {datatype}; send its elements as JSON numbers.")
    return np.asarray(flat, NUMPY_TYPES[datatype]).reshape(shape), 0


def encode_tensor(name, datatype, value, binary):
    """`(JSON tensor, raw bytes or None)` of one output: `value` is a numpy array or a list of str.

    Example: `encode_tensor("label_id", "INT64", np.array([3]), binary=True)`.
    """
    if datatype == "BYTES":
        items = list(value)
        shape = [len(items)]
        if binary:
            encoded = [item.encode("utf-8") for item in items]
            raw = b"".join(struct.pack("<I", len(item)) + item for item in encoded)
            return {"name": name, "datatype": datatype, "shape": shape, "parameters": {"binary_data_size": len(raw)}}, raw
        return {"name": name, "datatype": datatype, "shape": shape, "data": items}, None
    array = np.ascontiguousarray(value, NUMPY_TYPES[datatype])
    if binary:
        raw = array.tobytes()
        return {"name": name, "datatype": datatype, "shape": list(array.shape),
                "parameters": {"binary_data_size": len(raw)}}, raw
    return {"name": name, "datatype": datatype, "shape": list(array.shape), "data": array.ravel().tolist()}, None


def _unpack_bytes(name, chunk, count):
    items, position = [], 0
    while position < len(chunk):
        if position + 4 > len(chunk):
            break
        (length,) = struct.unpack_from("<I", chunk, position)
        position += 4
        if position + length > len(chunk):
            break
        try:
            items.append(chunk[position:position + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise ClientError(400, f"Input {name!r} element {len(items)} is not valid UTF-8.") from None
        position += length
    if position != len(chunk) or len(items) != count:
        raise ClientError(400, f"Input {name!r}'s binary data does not hold {count} length-prefixed BYTES elements.")
    return items


def _flatten(data):
    if not isinstance(data, list):
        return [data]
    flat = []
    for item in data:
        flat.extend(_flatten(item) if isinstance(item, list) else [item])
    return flat
