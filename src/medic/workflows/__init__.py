"""Durable workflows (DBOS) that drive the loop: ingestion, the incident, the watchdog.

Owns: the incident workflow (diagnose -> plan -> approval -> execute -> verify ->
document) where every external call is a DBOS step, the scheduled watchdog, the
ingestion of signals into incidents, and the approval hand-off to waiting workflows.

Must not: hold domain logic. Deciding what is wrong, what to do and whether it worked
belongs to signals/, diagnosis/, remediation/, action/ and scribe/; this package only
sequences them durably and records what happened.
"""
