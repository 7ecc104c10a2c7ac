"""The benchmark harness (`medic bench …`): measured quality and speed, as numbers.

Owns: the suites of BENCHMARK.md §3 (scenarios, rca, nab, logs, ingest), their scoring
and their reports (a human table, or one JSON object with `suite`, `cases`, `summary`).

Must not: be imported by the product. It drives the product (through bootstrap, the
real loop and the real server) exactly as a user would, and measures it.
"""
