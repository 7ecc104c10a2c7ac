"""The code host port: where long-term fixes (revert pull requests) are proposed."""

from dataclasses import dataclass
from typing import Protocol

__all__ = ["CodeHost", "PullRequest"]


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
    ) -> PullRequest:
        """A branch reverting the commits in good_version..bad_version, proposed for review.

        Idempotent by `key`: a second call returns the first pull request.
        """
        ...
