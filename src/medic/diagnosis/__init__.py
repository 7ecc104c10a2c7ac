"""Layer 2, the diagnostician: from an incident to ranked, explained root causes.

Owns evidence gathering through the read ports (metrics, changes, topology, logs),
onset detection and robust per-service anomaly scores, change correlation, the
hypotheses with their explanations and cited evidence, and the confidence that
decides between a conclusive diagnosis and "inconclusive, check this next".

Must not: execute or plan actions, write to the cluster, import the action, store,
workflow or web layers, or treat text from the watched system (log lines, commit
messages, alert annotations) as anything but data to count.
"""

from medic.diagnosis.engine import diagnose

__all__ = ["diagnose"]
