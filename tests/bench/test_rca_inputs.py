"""`medic bench rca`: baselines in the same run, breakdowns, the onset found from the
data, logs and traces inside the ranking, and malformed inputs failing one by one."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from medic.cli import app
from tests.bench.test_rca import cases_of, summary_of, write_case
from tests.shared_data import SHARED_DATA

runner = CliRunner()
T0 = 1_700_000_000
ONSET = T0 + 120 * 5


def bench(folder: Path, *flags: str) -> dict[str, object]:
    result = runner.invoke(app, ["bench", "rca", str(folder), "--json", *flags])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def test_baselines_and_breakdowns_are_reported_beside_medic(tmp_path: Path) -> None:
    write_case(tmp_path / "one" / "a-case", {"b": 2.0}, truth="b")
    write_case(tmp_path / "two" / "b-case", {"c": 2.0}, truth="c")
    summary = summary_of(bench(tmp_path, "--baselines"))
    assert summary["conclusive_rate"] == 1.0 and summary["ac_at_1_conclusive"] == 1.0
    assert isinstance(summary["cases_per_second"], float) and summary["cases_per_second"] > 0
    by_dataset = summary["by_dataset"]
    assert isinstance(by_dataset, dict) and set(by_dataset) == {"one", "two"}
    assert by_dataset["one"] == {"cases": 1, "ac_at_1": 1.0, "ac_at_3": 1.0, "avg_at_5": 1.0}
    by_fault = summary["by_fault"]
    assert isinstance(by_fault, dict) and set(by_fault) == {"cpu"}
    baselines = summary["baselines"]
    assert isinstance(baselines, dict) and set(baselines) == {"random", "nsigma", "baro"}
    assert baselines["random"]["ac_at_1"] == pytest.approx(1 / 5)  # five services
    assert baselines["nsigma"]["ac_at_1"] == 1.0  # a clean jump: every method finds it
    assert set(baselines["baro"]["by_dataset"]) == {"one", "two"}
    table = runner.invoke(app, ["bench", "rca", str(tmp_path), "--baselines"])
    assert table.exit_code == 0 and "best" in table.output and "nsigma 1.000" in table.output


def test_no_inject_time_finds_the_onset_from_the_data(tmp_path: Path) -> None:
    write_case(tmp_path / "case", {"c": 1.5}, truth="c")
    case = cases_of(bench(tmp_path, "--no-inject-time"))["case"]
    assert case["onset_found"] is True and case["rank"] == 1
    assert abs(float(case["onset"]) - ONSET) <= 10  # type: ignore[arg-type]


def _append_logs(folder: Path, rows: list[tuple[float, str, str]]) -> None:
    with (folder / "logs.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["time", "service", "message"])
        writer.writerows(rows)


def test_a_new_log_template_decides_between_services_that_moved_alike(tmp_path: Path) -> None:
    write_case(tmp_path / "plain", {"a": 1.0, "b": 1.0}, truth="b")
    write_case(tmp_path / "logs", {"a": 1.0, "b": 1.0}, truth="b")
    rows = [
        (float(T0 + 5 * k), s, f"served request {k} in {k % 7} ms")
        for k in range(240)
        for s in ("a", "b")
    ]
    rows += [
        (float(ONSET + 5 * k), "b", f"ERROR connection to 10.0.0.{k % 9} refused")
        for k in range(120)
    ]
    _append_logs(tmp_path / "logs", rows)
    cases = cases_of(bench(tmp_path))
    assert cases["logs"]["rank"] == 1
    assert str(cases["logs"]["top_metric"]).startswith("log_template_")


def test_spans_attribute_latency_to_the_service_that_spent_it(tmp_path: Path) -> None:
    # a calls b; only the spans say that b's own work got slower (a's metrics are flat)
    write_case(tmp_path / "spans", {}, truth="b")
    rows = []
    for k in range(240):
        t = T0 + 5 * k
        slow = 80.0 if t >= ONSET else 5.0
        rows.append([t, f"t{k}", f"a{k}", "", "a", "GET /", 10.0 + slow, "ok"])
        rows.append([t, f"t{k}", f"b{k}", f"a{k}", "b", "query", slow, "ok"])
    with (tmp_path / "spans" / "traces.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "time",
                "trace_id",
                "span_id",
                "parent_span_id",
                "service",
                "operation",
                "duration_ms",
                "status",
            ]
        )
        writer.writerows(rows)
    (tmp_path / "spans" / "graph.csv").write_text("source,target\na,b\n")
    case = cases_of(bench(tmp_path))["spans"]
    assert case["top5"][0] == "b"  # type: ignore[index]
    assert case["top_metric"] == "trace_self_latency_ms"


def _rewrite(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))


def test_malformed_inputs_fail_their_case_alone_with_the_file_and_the_problem(
    tmp_path: Path,
) -> None:
    write_case(tmp_path / "good", {"d": 1.0}, truth="d")
    for name in ("words", "dup", "unsorted", "graph", "symptom", "logs", "spans", "one-row"):
        write_case(tmp_path / name, {"d": 1.0}, truth="d")
    data = "data.csv"
    lines = (tmp_path / "words" / data).read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",lots"
    (tmp_path / "words" / data).write_text("\n".join(lines) + "\n")
    _rewrite(tmp_path / "dup" / data, "a_latency-90", "a_cpu")
    lines = (tmp_path / "unsorted" / data).read_text().splitlines()
    lines[3], lines[4] = lines[4], lines[3]
    (tmp_path / "unsorted" / data).write_text("\n".join(lines) + "\n")
    (tmp_path / "graph" / "graph.csv").write_text("source,target\na,ghost\n")
    (tmp_path / "symptom" / "symptom.json").write_text('{"service": "ghost"}')
    (tmp_path / "logs" / "logs.csv").write_text("time,message\n1,hello\n")
    (tmp_path / "spans" / "traces.csv").write_text(
        "time,trace_id,span_id,parent_span_id,service,operation,duration_ms,status\n"
        "1,t,s,,a,op,12,maybe\n"
    )
    lines = (tmp_path / "one-row" / data).read_text().splitlines()
    (tmp_path / "one-row" / data).write_text("\n".join(lines[:2]) + "\n")
    cases = cases_of(bench(tmp_path))
    assert cases["good"]["status"] == "ok" and cases["good"]["rank"] == 1
    reasons = {n: str(c["reason"]) for n, c in cases.items() if c["status"] == "failed"}
    assert set(reasons) == set(cases) - {"good"}
    assert "column 'e_latency-90' is not numeric (line 6: 'lots')" in reasons["words"]
    assert "duplicate columns: a_cpu" in reasons["dup"]
    assert "unsorted timestamps" in reasons["unsorted"]
    assert "graph.csv: names services with no column in data.csv: ghost" in reasons["graph"]
    assert "symptom.json: names 'ghost'" in reasons["symptom"]
    assert "logs.csv: missing columns: service" in reasons["logs"]
    assert "`status` must be ok or error" in reasons["spans"]
    assert "1 row(s)" in reasons["one-row"]


def test_export_writes_logs_traces_and_a_symptom_the_bench_reads(tmp_path: Path) -> None:
    case = tmp_path / "cases" / "seed"
    result = runner.invoke(
        app, ["sandbox", "export-rca", "auth-memory-leak-after-deploy", str(case)]
    )
    assert result.exit_code == 0, result.output
    symptom = json.loads((case / "symptom.json").read_text())
    assert symptom["service"] == "api-gateway" and symptom["metric"] == "latency"
    with (case / "logs.csv").open() as f:
        logs = list(csv.DictReader(f))
    assert {r["service"] for r in logs} >= {"auth-service", "api-gateway"}
    with (case / "traces.csv").open() as f:
        spans = list(csv.DictReader(f))
    roots = [s for s in spans if not s["parent_span_id"]]
    assert roots and all(s["service"] == "api-gateway" for s in roots)
    seed = cases_of(bench(tmp_path / "cases"))["seed"]
    assert seed["rank"] == 1 and seed["symptom_path"][0] == "api-gateway"  # type: ignore[index]


@pytest.mark.parametrize(
    "case",
    [
        "sockshop-rcd/rcd-sockshop-carts-cpu-4",  # user-db's memory falls 65 % meanwhile
        "sockshop-rcd/rcd-sockshop-orders-mem-1",
        "sockshop-udevops/udevops-sockshop-A1000-front-end-24",  # a near-idle orders busy
        "sockshop-udevops/udevops-sockshop-B100-orders-7",  # glitching memory gauges
    ],
)
def test_real_incidents_rank_the_faulty_service_first(case: str, tmp_path: Path) -> None:
    source = SHARED_DATA / "rca" / case
    assert source.is_dir(), f"shared data missing: {source}"
    shutil.copytree(source, tmp_path / "case")
    ranked = cases_of(bench(tmp_path))["case"]
    assert ranked["rank"] == 1 and ranked["conclusive"] is True


def test_data_with_nan_columns_and_constant_columns_still_ranks(tmp_path: Path) -> None:
    write_case(tmp_path / "case", {"c": 1.5}, truth="c")
    path = tmp_path / "case" / "data.csv"
    rows = list(csv.reader(path.open()))
    rows[0] += ["x_cpu", "y_memory"]
    for row in rows[1:]:
        row += ["", "5"]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    assert cases_of(bench(tmp_path))["case"]["rank"] == 1
    assert np.isfinite(1.0)
