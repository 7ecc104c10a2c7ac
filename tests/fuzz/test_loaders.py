"""Property: the scenario loader and the policy loader, given any file, return a
scenario or policy, or raise InvalidInputError naming the problem; never any other
exception."""

from __future__ import annotations

import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medic.action.policy_file import parse_policy_document
from medic.domain import InvalidInputError
from medic.sandbox.scenario import list_scenarios, load_scenario
from tests.fuzz.strategies import json_values, mutated

DOCS = Path(__file__).parents[2] / "docs" / "policy.md"
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _policy_example() -> Any:
    found = re.search(r"## Example\n\n```yaml\n(.*?)```", DOCS.read_text(), re.S)
    assert found is not None
    return yaml.safe_load(found.group(1))


POLICY = _policy_example()
_PACKAGED = resources.files("medic.sandbox") / "scenarios" / f"{list_scenarios()[0]}.yaml"
SCENARIO = yaml.safe_load(_PACKAGED.read_text(encoding="utf-8"))
_YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["", "---", "- a\n- b", "a: [", "&a [*a]", "!!python/object:os.system {}"]),
)


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True)


def _scenario_holds(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            scenario = load_scenario(str(path))
        except InvalidInputError as e:
            assert str(e).startswith(str(path)) or "scenario" in str(e)
            return
        assert scenario.services


def _policy_holds(text: str) -> None:
    try:
        parse_policy_document(text, "policy.yaml")
    except InvalidInputError as e:
        assert str(e).startswith("policy.yaml")


@FUZZ
@given(text=_YAML_TEXT)
def test_scenario_of_any_text(text: str) -> None:
    _scenario_holds(text)


@FUZZ
@given(value=json_values)
def test_scenario_of_any_yaml(value: Any) -> None:
    _scenario_holds(_dump(value))


@FUZZ
@given(value=mutated(SCENARIO))
def test_a_packaged_scenario_with_parts_replaced(value: Any) -> None:
    _scenario_holds(_dump(value))


@FUZZ
@given(text=_YAML_TEXT)
def test_policy_of_any_text(text: str) -> None:
    _policy_holds(text)


@FUZZ
@given(value=json_values)
def test_policy_of_any_yaml(value: Any) -> None:
    _policy_holds(_dump(value))


@FUZZ
@given(value=mutated(POLICY))
def test_the_documented_policy_with_parts_replaced(value: Any) -> None:
    _policy_holds(_dump(value))
