"""Layer 1, the senses: turn what the watched system says into `Signal`s.

Owns the webhook payload parsers (Alertmanager, ...), the grouping of signals into
incidents (`group_key`, `incident_title`), and the watchdog: pure detectors over
`Series` (trend/leak, level shift, error-ratio jump) and the scan that runs them
through the ports.

Must not: call the cluster's write side, decide remediations, or import the store,
workflows or web layers. Labels, annotations and log text are untrusted data: they
are carried along, never interpreted as instructions.
"""
