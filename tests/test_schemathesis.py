"""Schemathesis against the OpenAPI spec served by the real app (`repere serve` in a subprocess, over
HTTP). Every documented operation gets schema-valid and schema-violating requests (examples, coverage
and fuzzing phases, derandomized); all of schemathesis' checks run: no 5xx, documented status codes,
content types and bodies (SSE events included), valid data accepted, invalid data rejected, 405 with
`Allow` for undeclared methods."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.openapi import from_url

# 413 (request over 256 KiB, refused before it is read) is a correct rejection of schema-violating data
# too; schemathesis' default list for that check does not have it.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""
OPERATIONS = {
    "POST /api/ask",
    "GET /api/sources/{section_id}",
    "POST /api/feedback",
    "GET /healthz",
    "GET /v1/models",
    "POST /v1/chat/completions",
}


@pytest.fixture(scope="session")
def api_schema(server: str) -> schemathesis.BaseSchema:
    return from_url(f"{server}/openapi.json", config=SchemathesisConfig.from_str(CONFIG))


def test_the_spec_documents_every_operation(server: str) -> None:
    """The JSON API and the OpenAI-compatible routes (the HTML pages and the trainers' pages, behind
    their token, are not part of the API spec)."""
    spec = httpx.get(f"{server}/openapi.json").json()
    found = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert found == OPERATIONS
    for label in found:
        method, path = label.split()
        responses = spec["paths"][path][method.lower()]["responses"]
        for status, response in responses.items():
            if status.startswith("4"):  # every error is documented as the French {"detail": …} body
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (label, status)
    assert {"400", "404", "413", "422", "429"} <= set(spec["paths"]["/v1/chat/completions"]["post"]["responses"])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(timeout=60)
