"""The server's request and response schemas (pydantic), built on first use.

`schemas()` returns them by name; building them lazily keeps `import kzoo.serve`
light on a host that only loads bundles.

Example:
```python
TranslateRequest = schemas()["TranslateRequest"]
TranslateRequest(texts=["forty-two"], strategy="beam")
```
"""

from typing import Any, Literal, Optional, Union

STREAM = ("Answer with Server-Sent Events (text/event-stream): a `token` event per new piece of text, then a `done` "
          "event with the whole output and timings.")
# A text must hold a non-space character (JSON Schema `pattern` matches anywhere in the string).
NON_BLANK = r"\S"


def integral(value):
    """JSON Schema's integers include 2.0: such a float passes the strict int check as 2, any other float fails it."""
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 2**63 else value


def schemas(target_languages=(), image_shape=None):
    """Pydantic request/response models by name (built on first use so `import kzoo.serve` stays light).

    What a bundle fixes is stated in the schema, so that it never offers what the
    server would refuse (limits aside: those are 413s the routes declare).

    Args:
        target_languages: the `>>xx<<` codes a multilingual translator takes; none: requests have no
            `target_language` field.
        image_shape: `(H, W, C)` of an image classifier's images, or None (any).
    """
    from typing import Annotated

    from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

    def integer(**bounds):
        """An int within `bounds` (pydantic's gt, le, ...), stated where JSON Schema reads them."""
        return Annotated[int, Field(**bounds), BeforeValidator(integral)]  # This order: JSON Schema sees the bounds.

    Text = Annotated[str, Field(pattern=NON_BLANK, description="Non-empty text (at least one non-space character).")]

    class _Strict(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)

    class _Request(_Strict):
        timeout_ms: Optional[integer(gt=0, le=3_600_000)] = Field(
            None, description="Answer 504 when the result is not ready within this many ms.")

    class DecodingOptions(_Request):
        # What `_strategy_needs` checks, in JSON Schema's words.
        model_config = ConfigDict(json_schema_extra={"allOf": [
            {"if": {"properties": {"strategy": {"const": strategy}}, "required": ["strategy"]},
             "then": {"properties": {strategy: {"type": kind}}, "required": [strategy]}}
            for strategy, kind in (("top_k", "integer"), ("top_p", "number"))]})
        max_new_tokens: Optional[integer(gt=0)] = Field(None, description="Most tokens to generate (default: the bundle's).")
        # None: the bundle's own default (its manifest's `generation`, else greedy; see kzoo.runtime.BundleModel).
        strategy: Optional[Literal["greedy", "beam", "top_k", "top_p"]] = Field(
            None, description="Default: the bundle's (greedy unless an imported checkpoint says otherwise).")
        num_beams: Optional[integer(gt=0)] = Field(None, description="Beam width for strategy=beam (default 4).")
        length_penalty: Optional[float] = Field(
            None, ge=-10.0, le=10.0, allow_inf_nan=False, description="Length-normalisation exponent for beam search.")
        length_normalization: Optional[Literal["gnmt", "average"]] = Field(
            None, description="Beam ranking: GNMT's penalty or transformers' score / length**length_penalty.")
        early_stopping: Optional[Union[bool, Literal["never"]]] = Field(
            None, description="transformers' beam stopping rule (with length_normalization=average).")
        top_k: Optional[integer(gt=0)] = Field(None, description="For strategy=top_k (and optionally top_p).")
        top_p: Optional[float] = Field(None, gt=0.0, le=1.0, allow_inf_nan=False, description="For strategy=top_p.")
        temperature: Optional[float] = Field(None, gt=0.0, le=100.0, allow_inf_nan=False, description="Default 1.")
        seed: Optional[integer(ge=0, le=2**53 - 1)] = Field(None, description="Makes sampling reproducible (a JSON-safe integer).")

        @model_validator(mode="after")
        def _strategy_needs(self):
            if self.strategy == "top_k" and self.top_k is None:
                raise ValueError("strategy='top_k' needs top_k, e.g. 10")
            if self.strategy == "top_p" and self.top_p is None:
                raise ValueError("strategy='top_p' needs top_p, e.g. 0.9")
            return self

    if target_languages:
        class TranslateOptions(DecodingOptions):
            target_language: Optional[Literal[tuple(target_languages)]] = Field(
                None, description="The >>xx<< language code to translate into, e.g. \"fr\".")
    else:
        class TranslateOptions(DecodingOptions):
            pass

    class TranslateRequest(TranslateOptions):
        texts: list[Text] = Field(..., min_length=1, description="Source texts.", examples=[["forty-two"]])
        stream: bool = Field(False, description=STREAM)

    class GenerateRequest(DecodingOptions):
        stream: bool = Field(False, description=STREAM)
        prompt: Union[Text, list[Text]] = Field(..., description="A prompt, or a list of prompts.", examples=["The module"])
        max_new_tokens: Optional[integer(gt=0)] = Field(
            None, description="Most new tokens (default 32, or fewer if the bundle decodes fewer)."
        )

    class TextsRequest(_Request):
        texts: list[Text] = Field(..., min_length=1, examples=[["a sentence to label"]])

    height, width, channels = image_shape or (None, None, None)
    Pixel = Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=channels, max_length=channels)]
    Row = Annotated[list[Pixel], Field(min_length=width, max_length=width)]
    Image = Annotated[list[Row], Field(min_length=height, max_length=height)]

    class ImagesRequest(_Request):
        images: list[Image] = Field(..., min_length=1, description="Images [B, H, W, C] in [0, 1].")

    class TranslateResponse(BaseModel):
        translations: list[str]

    class GenerateResponse(BaseModel):
        text: Union[str, list[str]] = Field(..., description="The continuation (a list for a list of prompts).")

    class Prediction(BaseModel):
        label: str
        label_id: int
        probabilities: list[float]

    class ClassifyResponse(BaseModel):
        predictions: list[Prediction]
        label_names: Optional[list[str]]

    class WordTag(BaseModel):
        word: str
        tag: Optional[str]
        tag_id: Optional[int]
        score: Optional[float]

    class TagResponse(BaseModel):
        tags: list[list[WordTag]]
        label_names: Optional[list[str]]

    class ErrorResponse(BaseModel):
        error: str
        limit: Optional[str] = None

    # KServe V2 / Open Inference Protocol (https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol).
    class TensorMetadata(BaseModel):
        name: str
        datatype: str
        shape: list[int] = Field(..., description="-1 for a dimension of any size.")

    class ServerMetadata(BaseModel):
        name: str
        version: str
        extensions: list[str]

    class ModelMetadata(BaseModel):
        name: str
        versions: list[str]
        platform: str
        inputs: list[TensorMetadata]
        outputs: list[TensorMetadata]

    class LiveResponse(BaseModel):
        live: bool

    class ReadyResponse(BaseModel):
        ready: bool

    class ModelReadyResponse(BaseModel):
        name: str
        ready: bool

    class RequestInput(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        shape: list[Annotated[int, Field(ge=0)]]
        datatype: Literal["BOOL", "INT32", "INT64", "FP32", "FP64", "BYTES"]
        parameters: Optional[dict[str, Any]] = None
        data: Optional[Any] = Field(None, description="The elements in row-major order, flat or nested.")

    class RequestOutput(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        parameters: Optional[dict[str, Any]] = None

    class InferenceRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: Optional[str] = None
        parameters: Optional[dict[str, Any]] = Field(
            None, description="Decoding options of generative models (strategy, num_beams, max_new_tokens, seed, ...).")
        inputs: list[RequestInput] = Field(..., min_length=1)
        outputs: Optional[list[RequestOutput]] = None

    class ResponseOutput(BaseModel):
        name: str
        shape: list[int]
        datatype: str
        parameters: Optional[dict[str, Any]] = None
        data: Optional[list[Any]] = None

    class InferenceResponse(BaseModel):
        model_name: str
        model_version: Optional[str] = None
        id: Optional[str] = None
        parameters: Optional[dict[str, Any]] = None
        outputs: list[ResponseOutput]

    return {name: value for name, value in locals().items() if isinstance(value, type)}
