"""`medic bench scenarios --llm scripted`: the real agent, a scripted model, billed tokens."""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from medic.bench.scenario_case import CaseConfig, run_case
from medic.bench.scripted_llm import scripted_model
from medic.diagnosis.agent import AgentLimits, AgentStatus, refine
from medic.domain import InvalidInputError
from tests.diagnosis.agent_support import AgentWorld, agent_world

SEED = Path(__file__).parents[2] / "src" / "medic" / "sandbox" / "scenarios"


@pytest.fixture(scope="module")
def world() -> AgentWorld:
    return agent_world()


def test_agrees_with_the_top_hypothesis_after_one_tool_call(world: AgentWorld) -> None:
    before = world.diagnosis.top
    assert before is not None
    outcome = refine(world.diagnosis, world.incident, world.tools, scripted_model())
    assert outcome.status is AgentStatus.APPLIED, outcome.reason
    assert outcome.rejected_claims == ()
    assert (outcome.requests, outcome.tool_calls) == (2, 1)
    after = outcome.diagnosis.top
    assert after is not None
    assert after.root_cause == before.root_cause
    # it cited the deterministic evidence and the evidence its tool call gathered
    gathered = [e.id for e in outcome.new_evidence]
    assert gathered == ["ev-llm-1"]
    assert set(after.evidence_ids) >= {*before.evidence_ids, *gathered}
    # billed like a provider: the instructions and tool schemas alone are ~1k tokens
    assert 2000 < outcome.tokens <= outcome.token_limit
    assert outcome.output_tokens > 0


def test_the_agents_token_limit_applies_to_the_billed_tokens(world: AgentWorld) -> None:
    outcome = refine(
        world.diagnosis,
        world.incident,
        world.tools,
        scripted_model(),
        AgentLimits(total_tokens=1500),
    )
    assert outcome.status is AgentStatus.USAGE_LIMIT
    assert outcome.diagnosis is world.diagnosis
    # checked before the request: the first one alone would pass it, so none was sent
    assert outcome.tokens == 0


def test_a_scenario_case_records_the_agents_tokens(tmp_path: Path) -> None:
    scenario = str(SEED / "auth-memory-leak-after-deploy.yaml")
    # One process per case, as `run_suite` does: DBOS is a process-wide engine.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        case = pool.submit(run_case, scenario, str(tmp_path), CaseConfig(llm="scripted")).result()
    assert case["error"] is None
    assert case["incidents"] == 1
    assert case["rca_rank"] == 1
    assert case["action"] == "rollout_undo"
    tokens = case["llm_tokens"]
    assert isinstance(tokens, int)
    assert tokens > 0
    refined = [
        json.loads(line)
        for line in (tmp_path / "medic.log").read_text().splitlines()
        if '"llm.refined"' in line
    ]
    assert [(r["status"], r["tokens"]) for r in refined] == [("applied", tokens)]
    assert tokens < refined[0]["token_limit"]


def test_an_unknown_bench_llm_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown bench LLM 'gpt-9'"):
        CaseConfig(llm="gpt-9")
