"""The code ports: where changes come from (commits) and where long-term fixes (revert
pull requests) are proposed."""

from dataclasses import dataclass
from typing import Protocol

from medic.domain.code import Commit, RevertContext

__all__ = ["CodeHost", "CommitSource", "PullRequest"]


@dataclass(frozen=True)
class PullRequest:
    branch: str
    title: str
    url: str
    reverted: tuple[str, ...]  # commit shas reverted, newest first


class CodeHost(Protocol):
    def open_revert(
        self,
        service: str,
        good_version: str,
        bad_version: str,
        title: str,
        body: str,
        key: str,
        *,
        context: RevertContext | None = None,
    ) -> PullRequest:
        """A branch reverting the commits in good_version..bad_version, proposed for review.

        Idempotent by `key`: a second call returns the first pull request. `context`
        (the incident, its root cause and evidence links) goes into the description.
        """
        ...


class CommitSource(Protocol):
    def commits_between(self, service: str, good_version: str, bad_version: str) -> list[Commit]:
        """The commits in bad_version that good_version lacks, newest first.

        Versions are tags (or branches, or shas) of the service's repository. Raises
        NotFoundError for an unknown service or version.
        """
        ...
