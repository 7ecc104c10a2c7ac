"""Schemathesis against medic's own OpenAPI schema, in-process (ASGI), authenticated
as the webhook senders and a user: every operation, valid and invalid requests built
from the declared parameters and request bodies (the webhooks' real ones). Any answer
>= 500 or an unhandled exception fails the run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from tests.api.hostile import Rig, rig

# Bounded so that the run stays well under two minutes on two cores.
EXAMPLES_PER_OPERATION = 15
SEEN: dict[str, int] = {"cases": 0, "server_errors": 0}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    data = tmp_path_factory.mktemp("openapi")
    with rig(data, f"sqlite:///{data / 'medic.sqlite'}", signed=False) as medic:
        yield medic
    print(f"\nschemathesis: {SEEN['cases']} cases, {SEEN['server_errors']} answers >= 500")
    assert SEEN["server_errors"] == 0


def _headers(running: Rig, case: Case[Any]) -> dict[str, str]:
    path = case.operation.path
    source = path.removeprefix("/webhooks/")
    tokens = running.medic.credentials.webhook_tokens
    if path.startswith("/webhooks/") and source in tokens:
        return {"Authorization": f"Bearer {tokens[source]}"}
    return running.user_headers()


def _operations(running: Rig) -> list[APIOperation[Any, Any, Any, Any]]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", running.app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema itself is valid
        operations.append(result.ok())
    return operations


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_5xx(running: Rig, mode: GenerationMode) -> None:
    operations = _operations(running)
    assert len(operations) >= 10  # the schema lists the whole API, webhooks included
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def answers(case: Case[Any]) -> None:
            headers = {**_headers(running, case), **dict(case.headers or {})}
            response = case.call(headers=headers)
            SEEN["cases"] += 1
            if response.status_code >= 500:
                SEEN["server_errors"] += 1
            case.validate_response(response, checks=[not_a_server_error])

        try:
            answers()
        except Unsatisfiable:
            # Nothing of this operation can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
