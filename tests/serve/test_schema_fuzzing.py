"""The schema is the contract: a schema-based fuzzer (schemathesis, every check) over every route of every kind.

No 5xx but the declared 503 / 504, no status the route does not declare, no
schema-valid request refused except by a declared limit (413) or overload
(503 / 504), every answer matching its declared schema (SSE events included).
One exception: a V2 inference request's `data` must hold as many elements as its
`shape` says, which JSON Schema cannot state, so /infer is held to every check
but that one. The app runs in-process (ASGI), one per test bundle.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kzoo.runtime import load
from kzoo.serve.app import create_app

EXAMPLES = 12  # Per operation; enough to cover each operation's shapes, cheap enough for the suite.
ACCEPTED = ["2xx", "413", "503", "504"]  # A schema-valid request may meet a limit or an overload, nothing else.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}})


@schemathesis.check
def only_declared_server_errors(ctx, response, case):
    """A 5xx is a bug unless it is the declared 503 (overload) or 504 (the request's own timeout_ms)."""
    if response.status_code >= 500 and response.status_code not in (503, 504):
        raise AssertionError(f"{case.method} {case.path} answered {response.status_code}: {response.text[:200]}")


@pytest.mark.parametrize("name", ["translator", "classifier", "tagger", "lm", "vit"])
def test_every_route_keeps_to_its_schema(built, name):
    app = create_app(load(built[name][0], threads=1), concurrency=1)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        excluded = [not_a_server_error] + ([positive_data_acceptance] if operation.path.endswith("/infer") else [])

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            try:
                case.call_and_validate(excluded_checks=excluded, additional_checks=[only_declared_server_errors])
            except Exception as error:  # noqa: BLE001 - collected, so that one run reports every operation.
                failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:600]}")

        fuzz()
    assert not failures, "\n\n".join(failures[:5])
