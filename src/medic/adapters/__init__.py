"""Adapters: one module per external system, each implementing medic's ports.

Owns the translation between a real system (Prometheus, Datadog, Loki, Kubernetes,
git and GitHub, Slack, Confluence) and the ports' types, the translation of that
system's errors into medic's error tree (`TransientError` / `PermanentError`,
chained with `from e`), and a `health()` check per adapter.

Must not: import another adapter, or be imported by anything but `medic.bootstrap`
(the composition root wires adapters into the loop); it sees only ports and the domain.
"""
