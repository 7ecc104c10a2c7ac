"""Without an executor, every proposed action is handed to a human with its command."""

from __future__ import annotations

from medic.adapters.prometheus_topology import host_of
from medic.domain import ActionKind, Hypothesis, RootCause, RootCauseCategory
from medic.remediation import plan
from medic.remediation.handover import hand_over
from tests.remediation import seed

WHY = "no executor is configured (no Kubernetes): medic proposes, a human acts"


def test_each_action_becomes_an_escalation_that_keeps_the_exact_command() -> None:
    acting = plan(seed.diagnosis(), seed.services(), seed.history())
    assert acting.acts
    handed = hand_over(acting, WHY)
    assert not handed.acts  # nothing in it changes the system
    (now,) = handed.immediate
    assert now.kind is ActionKind.ESCALATE
    assert now.command == acting.immediate[0].command
    assert now.command.startswith("kubectl rollout undo deployment/auth-service -n production")
    assert now.params["proposed"] == "rollout_undo"
    assert WHY in now.reason and now.command in now.reason
    (later,) = handed.long_term
    assert later.kind is ActionKind.ESCALATE and later.command.startswith("git revert")
    assert handed.hash != acting.hash
    assert WHY in handed.rationale


def test_an_escalation_only_plan_is_left_as_it_is() -> None:
    only = plan(seed.diagnosis(confidence=0.3, conclusive=False), seed.services(), seed.history())
    assert hand_over(only, WHY) == only


HOSTS = {"auth-service": ("web-1.example", "10.0.0.7"), "catalog": ("db-1",)}


def test_on_hosts_a_restart_is_ssh_and_systemd_on_each_host_never_kubectl() -> None:
    leak = seed.with_top(
        seed.diagnosis(),
        Hypothesis(
            RootCause("auth-service", RootCauseCategory.RESOURCE_EXHAUSTION),
            0.9,
            "memory grows",
            ("ev-1",),
            "memory_leak",
        ),
    )
    acting = plan(leak, seed.services(), {})
    assert acting.immediate[0].kind is ActionKind.ROLLOUT_RESTART
    handed = hand_over(acting, WHY, hosts=HOSTS, fault="memory_leak")
    (now,) = handed.immediate
    assert now.kind is ActionKind.ESCALATE and not handed.acts
    assert "kubectl" not in now.command and "kubectl" not in now.reason
    # every host of the service, the biggest process with its unit first, then the restart
    assert now.command.startswith("for h in web-1.example 10.0.0.7; do")
    assert "ps -eo pid,rss,unit,args --sort=-rss" in now.command
    assert "sudo systemctl restart UNIT" in now.command
    assert now.params["proposed"] == "rollout_restart"
    assert now.params["proposed_command"] == now.command


def test_on_hosts_a_full_disk_escalation_says_what_to_look_at() -> None:
    top = Hypothesis(
        RootCause("catalog", RootCauseCategory.RESOURCE_EXHAUSTION), 0.9, "full", (), "disk_full"
    )
    escalation = plan(seed.with_top(seed.diagnosis(), top), seed.services(), {})
    assert not escalation.acts
    (now,) = hand_over(escalation, WHY, hosts=HOSTS, fault="disk_full").immediate
    assert now.command.startswith("ssh db-1 'df -h")
    assert "du -xh" in now.command and "To look at first: ssh db-1" in now.reason
    # on Kubernetes an escalation-only plan is left exactly as it was
    assert hand_over(escalation, WHY) == escalation


def test_host_names_from_labels_cannot_inject_into_the_command() -> None:
    top = Hypothesis(RootCause("catalog", RootCauseCategory.CAPACITY), 0.9, "busy", (), "cpu_hog")
    escalation = plan(seed.with_top(seed.diagnosis(), top), seed.services(), {})
    hostile = {"catalog": ("db-1; rm -rf /", "$(reboot)")}
    (now,) = hand_over(escalation, WHY, hosts=hostile, fault="cpu_hog").immediate
    assert now.command.startswith("ssh HOST ")
    assert "rm -rf" not in now.command and "reboot" not in now.command


def test_scrape_addresses_become_hosts() -> None:
    assert host_of("web-1:9100") == "web-1"
    assert host_of("10.0.0.7:9100") == "10.0.0.7"
    assert host_of("[::1]:9100") == "[::1]"
    assert host_of("db-1") == "db-1"
    assert host_of("x; rm -rf /:9100") is None
