"""`medic bench logs`: template mining scored on Loghub-2k.

For each system of a Loghub-2k directory (`<System>/<System>_2k.log` and
`<System>_2k.log_structured.csv` with the ground truth `EventId` and `EventTemplate` of
every line) the lines are mined with `medic.signals.logpatterns.LogPatterns`, set up
with the Loghub benchmark's per-system preprocessing (the log format that cuts the
header off, and its regexes) and Drain's per-system `st`/`depth` as a starting point,
then scored:

- Grouping accuracy (GA; Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
  ICSE-SEIP 2019): a line is correct iff the set of lines in its predicted group equals
  the set of lines in its ground-truth group (the lines sharing its `EventId`). GA is
  the fraction of correct lines.
- Parsing accuracy (PA; Dai et al. 2020, Khan et al. ICSE 2022): a line is correct iff
  its predicted template equals its ground-truth template after both are normalised by
  `normalise_template`: named placeholders become `<*>`; a run of placeholders joined
  only by whitespace or the punctuation `: . , / - _ = @` (e.g. `<*>:<*>`,
  `<*>.<*>.<*>`, `<*> <*>`) becomes one `<*>`; runs of whitespace become one space;
  leading and trailing whitespace is dropped. PA is the fraction of correct lines.
- Lines per second: lines divided by the time spent parsing them (header extraction,
  masking, mining and consolidation), excluding reading the files.

Lines whose ground truth has no `EventId` are left out of both scores, as Loghub's
evaluator does.
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from medic.analysis.logtemplates import LogPatterns, generic_template, header_regex
from medic.bench.report import Report
from medic.domain.errors import InvalidInputError

__all__ = [
    "SETTINGS",
    "SystemResult",
    "System",
    "grouping_accuracy",
    "normalise_template",
    "parsing_accuracy",
    "run_logs",
    "score_system",
]


@dataclass(frozen=True)
class System:
    """The Loghub benchmark's preprocessing and Drain parameters for one system."""

    log_format: str
    regexes: tuple[str, ...] = ()
    similarity: float = 0.5
    depth: int = 4


# The Loghub benchmark's settings for Drain (logpai/logparser) as a starting point. Its
# regexes that only find IPs, numbers, block ids or times are left out: the generic
# masks find those, and keep literal prefixes such as `blk_` that the truth keeps.
SETTINGS: dict[str, System] = {
    "HDFS": System("<Date> <Time> <Pid> <Level> <Component>: <Content>"),
    "Hadoop": System(r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>"),
    "Spark": System(
        "<Date> <Time> <Level> <Component>: <Content>",
        (r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"),
    ),
    "Zookeeper": System(r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>"),
    "BGL": System(
        "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level>"
        " <Content>",
    ),
    "HPC": System("<LogId> <Node> <Component> <State> <Time> <Flag> <Content>"),
    "Thunderbird": System(
        r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> "
        r"<Component>(\[<PID>\])?: <Content>",
    ),
    "Windows": System(
        "<Date> <Time>, <Level>                  <Component>    <Content>",
        (r"0x.*?\s",),
        0.7,
        5,
    ),
    "Linux": System(
        r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
        (),
        0.39,
        6,
    ),
    "Android": System(
        "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
        (
            r"(/[\w-]+)+",
            r"([\w-]+\.){2,}[\w-]+",
            r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b",
        ),
        0.2,
        6,
    ),
    "HealthApp": System(r"<Time>\|<Component>\|<Pid>\|<Content>", (), 0.2, 4),
    "Apache": System(r"\[<Time>\] \[<Level>\] <Content>"),
    "Proxifier": System(
        r"\[<Time>\] <Program> - <Content>",
        (r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*", r"[KGTM]B"),
        0.6,
        3,
    ),
    "OpenSSH": System(
        r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
        (r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+"),
        0.6,
        5,
    ),
    "OpenStack": System(
        r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
        (r"((\d+\.){3}\d+,?)+", r"/.+?\s"),
        0.5,
        5,
    ),
    "Mac": System(
        r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
        (r"([\w-]+\.){2,}[\w-]+",),
        0.7,
        6,
    ),
}

_RUN = re.compile(r"<\*>(?:[\s:.,/\-_=@]*<\*>)+")
_SPACES = re.compile(r"\s+")


def normalise_template(template: str) -> str:
    """A template in the one form PA compares (see the module docstring)."""
    flat = _RUN.sub("<*>", generic_template(template))
    return _SPACES.sub(" ", flat).strip()


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """GA: the fraction of lines whose predicted group is exactly their true group."""
    if len(truth) != len(predicted):
        raise InvalidInputError("truth and prediction differ in length")
    if not truth:
        return 0.0
    true_sizes = Counter(truth)
    predicted_sizes = Counter(predicted)
    # A predicted group equals a true group iff all its lines share one true id and
    # the two groups have the same size.
    truths_in_group: dict[Hashable, set[Hashable]] = {}
    for t, p in zip(truth, predicted, strict=True):
        truths_in_group.setdefault(p, set()).add(t)
    correct = 0
    for group, truths in truths_in_group.items():
        if len(truths) == 1 and true_sizes[next(iter(truths))] == predicted_sizes[group]:
            correct += predicted_sizes[group]
    return correct / len(truth)


def parsing_accuracy(truth: Sequence[str], predicted: Sequence[str]) -> float:
    """PA: the fraction of lines whose normalised predicted template equals the truth's."""
    if len(truth) != len(predicted):
        raise InvalidInputError("truth and prediction differ in length")
    if not truth:
        return 0.0
    correct = sum(
        normalise_template(t) == normalise_template(p)
        for t, p in zip(truth, predicted, strict=True)
    )
    return correct / len(truth)


@dataclass(frozen=True)
class SystemResult:
    system: str
    lines: int
    templates: int
    true_templates: int
    grouping_accuracy: float
    parsing_accuracy: float
    seconds: float

    def row(self) -> dict[str, str | int | float]:
        return {
            "system": self.system,
            "lines": self.lines,
            "templates": self.templates,
            "true_templates": self.true_templates,
            "grouping_accuracy": round(self.grouping_accuracy, 4),
            "parsing_accuracy": round(self.parsing_accuracy, 4),
            "lines_per_second": round(self.lines / self.seconds) if self.seconds else 0,
        }


def _read_system(directory: Path, system: str) -> tuple[list[str], list[str], list[str]]:
    log = directory / system / f"{system}_2k.log"
    structured = directory / system / f"{system}_2k.log_structured.csv"
    if not log.is_file() or not structured.is_file():
        raise InvalidInputError(f"{system}: expected {log} and {structured}")
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    with structured.open(encoding="utf-8", errors="replace", newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(lines):
        raise InvalidInputError(f"{system}: {len(lines)} lines but {len(rows)} truth rows")
    return lines, [r["EventId"] for r in rows], [r["EventTemplate"] for r in rows]


def score_system(directory: Path, system: str, setting: System | None = None) -> SystemResult:
    """Mine one system's 2k lines and score them against its ground truth."""
    setting = setting or SETTINGS[system]
    lines, true_ids, true_templates = _read_system(directory, system)
    miner = LogPatterns(
        similarity=setting.similarity,
        depth=setting.depth,
        extra_patterns=setting.regexes,
        header=header_regex(setting.log_format),
    )
    started = time.perf_counter()
    parsed = miner.parse(lines)
    seconds = time.perf_counter() - started
    ids = [t.id for t in parsed]
    texts = {t.id: t.text for t in parsed}
    keep = [k for k, t in enumerate(true_ids) if t]
    return SystemResult(
        system=system,
        lines=len(lines),
        templates=len(texts),
        true_templates=len({true_ids[k] for k in keep}),
        grouping_accuracy=grouping_accuracy([true_ids[k] for k in keep], [ids[k] for k in keep]),
        parsing_accuracy=parsing_accuracy(
            [true_templates[k] for k in keep], [texts[ids[k]] for k in keep]
        ),
        seconds=seconds,
    )


def run_logs(directory: Path, systems: Sequence[str] | None = None) -> Report:
    """Score every system of `directory` (or `systems`) and summarise."""
    if not directory.is_dir():
        raise InvalidInputError(f"no Loghub-2k directory at {directory}")
    chosen = list(systems) if systems else [s for s in SETTINGS if (directory / s).is_dir()]
    if not chosen:
        raise InvalidInputError(f"no Loghub-2k system found in {directory}")
    unknown = [s for s in chosen if s not in SETTINGS]
    if unknown:
        raise InvalidInputError(f"unknown systems: {', '.join(unknown)}")
    results = [score_system(directory, s) for s in chosen]
    lines = sum(r.lines for r in results)
    seconds = sum(r.seconds for r in results)
    return Report(
        suite="logs",
        cases=[r.row() for r in results],
        summary={
            "systems": len(results),
            "grouping_accuracy": round(sum(r.grouping_accuracy for r in results) / len(results), 4),
            "parsing_accuracy": round(sum(r.parsing_accuracy for r in results) / len(results), 4),
            "lines_per_second": round(lines / seconds) if seconds else 0,
        },
        columns=(
            "system",
            "lines",
            "templates",
            "true_templates",
            "grouping_accuracy",
            "parsing_accuracy",
            "lines_per_second",
        ),
    )
