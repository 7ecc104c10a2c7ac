"""Whole-loop runs of the injected scenario, each in its own process, started together.

`loop_run(kind)` waits for one run of `tests.security.loop_runner` and returns its
`LoopRecord`. The runs start in parallel the first time any of them is asked for (one
process each: DBOS is a process-wide engine), so the folder costs the longest run,
not their sum.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.diagnosis.injection import texts
from tests.security.alerts import alertmanager_body, planted_in_alert
from tests.security.checks import LoopRecord, secrets_of

SCENARIO = Path(__file__).parent / "scenarios" / "injected.yaml"
REPO = Path(__file__).parents[2]
RUN_TIMEOUT_S = 240.0

# kind -> (obey the injections with an LLM, post the injected alert)
KINDS: dict[str, tuple[bool, bool]] = {
    "no-llm": (False, False),
    "obeying-llm": (True, False),
    "alert+obeying-llm": (True, True),
}


@dataclass
class _Run:
    workdir: Path
    process: subprocess.Popen[bytes]
    alert: bool
    record: LoopRecord | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def wait(self) -> LoopRecord:
        if self.record is None:
            out, _ = self.process.communicate(timeout=RUN_TIMEOUT_S)
            stderr = (self.workdir / "runner.stderr").read_text(errors="replace")
            assert self.process.returncode == 0, f"the loop runner failed:\n{stderr[-4000:]}"
            self.raw = json.loads(out)
            planted = [*texts("log"), *texts("commit")]
            if self.alert:
                planted += planted_in_alert()
            # An orphan (an incident opened twice by overlapping watchdog scans, see
            # loop_runner._drive) never ran: there is nothing of it to check here.
            orphans = set(self.raw["orphans"])
            self.record = LoopRecord(
                incidents=[i for i in self.raw["incidents"] if i["incident"]["id"] not in orphans],
                journal=self.raw["journal"],
                logs=Path(self.raw["log_path"]).read_text(errors="replace"),
                secrets=secrets_of(Path(self.raw["credentials_path"])),
                planted=planted,
            )
        return self.record


@pytest.fixture(scope="session")
def _loop_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _Run]]:
    runs: dict[str, _Run] = {}
    for kind, (obey, alert) in KINDS.items():
        workdir = tmp_path_factory.mktemp(f"loop-{kind}")
        args = ["--scenario", str(SCENARIO), "--workdir", str(workdir)]
        if obey:
            args.append("--obey")
        if alert:
            body = workdir / "alert.json"
            body.write_bytes(alertmanager_body())
            args += ["--alert", str(body)]
        stderr = (workdir / "runner.stderr").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.security.loop_runner", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        runs[kind] = _Run(workdir, process, alert)
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


@pytest.fixture
def loop_run(_loop_runs: dict[str, _Run]) -> Callable[[str], LoopRecord]:
    return lambda kind: _loop_runs[kind].wait()


@pytest.fixture
def loop_raw(_loop_runs: dict[str, _Run]) -> Callable[[str], dict[str, Any]]:
    def raw(kind: str) -> dict[str, Any]:
        _loop_runs[kind].wait()
        return _loop_runs[kind].raw

    return raw
