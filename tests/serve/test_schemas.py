"""kzoo.serve.schemas: what a request may hold, checked before the runtime sees it."""

import pydantic
import pytest

from kzoo.serve.schemas import schemas


def test_decoding_options_are_strict_and_complete():
    translate = schemas()["TranslateRequest"]
    request = translate(texts=["forty-two"], strategy="beam", num_beams=2)
    assert request.model_dump(exclude={"texts"})["num_beams"] == 2
    with pytest.raises(pydantic.ValidationError, match="strategy='top_k' needs top_k"):
        translate(texts=["x"], strategy="top_k")
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        translate(texts=["x"], beams=2)
    with pytest.raises(pydantic.ValidationError):
        translate(texts=["x"], num_beams="2")  # Strict: no string to int coercion.


def test_every_request_and_response_schema_is_built():
    assert {"TranslateRequest", "GenerateRequest", "TextsRequest", "ImagesRequest", "TranslateResponse",
            "GenerateResponse", "ClassifyResponse", "TagResponse", "ErrorResponse"} <= set(schemas())
