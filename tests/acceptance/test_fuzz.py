"""Schema-driven fuzzing of a running server from its own /openapi.json (schemathesis)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.http import ApiServer

pytestmark = pytest.mark.acceptance

# Every check about the server's answers. Left out: positive_data_acceptance, since
# the API deliberately refuses some schema-valid input that PostgreSQL cannot store
# (NUL characters, unpaired surrogates) or that contradicts itself (an Idempotency-Key
# header and body field that differ).
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
    ]
)


def test_fuzzing_finds_no_server_error_and_no_answer_off_schema(api: ApiServer) -> None:
    st = str(Path(sys.executable).parent / "st")
    run = subprocess.run(
        [
            st,
            "run",
            f"{api.url}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            "25",
            "--seed",
            "7",
            "--generation-database",
            "none",
            "--request-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "request failed" not in api.logs()  # no handler raised
