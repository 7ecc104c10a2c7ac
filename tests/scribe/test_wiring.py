"""The scribe's settings: SLOs, the post-mortem folder and the publishers, each
misconfiguration a clear error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medic.adapters.confluence import ConfluencePages
from medic.adapters.github_docs import GitHubIssues
from medic.bootstrap.docstores import docstores, slos
from medic.domain import InvalidInputError
from medic.scribe import Slo
from medic.settings import Settings


def test_slos_and_the_folder_come_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        slo={"auth-service": {"availability": 0.995, "latency_seconds": 0.3}},
        postmortems={"dir": tmp_path / "pm"},
    )

    assert slos(settings) == {
        "auth-service": Slo("auth-service", availability=0.995, latency_seconds=0.3)
    }
    assert settings.postmortem_dir == tmp_path / "pm"
    assert Settings(data_dir=tmp_path).postmortem_dir == tmp_path / "postmortems"


def test_a_misspelled_or_impossible_slo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="availabilty"):
        Settings(data_dir=tmp_path, slo={"auth": {"availabilty": 0.99}})
    with pytest.raises(ValidationError, match="less than 1"):
        Settings(data_dir=tmp_path, slo={"auth": {"availability": 1.5}})


def test_publishers_are_built_only_when_configured_and_complete(tmp_path: Path) -> None:
    assert docstores(Settings(data_dir=tmp_path)) == ((), {})
    full = Settings(
        data_dir=tmp_path,
        confluence={
            "url": "https://acme.atlassian.net/wiki",
            "space": "OPS",
            "username": "bot@example.com",
            "api_token": "t",
        },
        github={"token": "gh", "postmortem_repo": "acme/postmortems"},
    )
    publishers, checks = docstores(full)
    assert [type(p) for p in publishers] == [ConfluencePages, GitHubIssues]
    assert sorted(checks) == ["confluence (post-mortems)", "github (post-mortems)"]

    half = Settings(data_dir=tmp_path, confluence={"url": "https://acme.atlassian.net/wiki"})
    with pytest.raises(InvalidInputError, match=r"confluence\.space, username and api_token"):
        docstores(half)
    no_token = Settings(data_dir=tmp_path, github={"postmortem_repo": "acme/pm"})
    with pytest.raises(InvalidInputError, match=r"github\.token"):
        docstores(no_token)
