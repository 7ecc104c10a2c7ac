"""The diagnosis tests never reach a real LLM: Pydantic AI refuses model requests here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic_ai import models


@pytest.fixture(autouse=True)
def _no_real_model_requests() -> Iterator[None]:
    # FunctionModel and TestModel are local and unaffected; any real provider raises.
    with models.override_allow_model_requests(False):
        yield
