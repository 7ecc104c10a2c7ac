"""Optional powers of a metrics source with a query language (PromQL): exact queries
the evidence can quote and link to, a catalogue that may leave signals out, and any
expression (an alert's own) evaluated as series."""

from datetime import datetime
from typing import Protocol, runtime_checkable

from medic.domain.cluster import MetricName
from medic.domain.model import Series

__all__ = ["ExpressionSource", "QueryCatalogued"]


@runtime_checkable
class QueryCatalogued(Protocol):
    # The evidence data key the exact query goes under: "promql", "datadog_query".
    query_key: str

    def covers(self, metric: MetricName) -> bool:
        """Whether the source has a query for `metric` (its catalogue may leave one out)."""
        ...

    def query_text(
        self, namespace: str, service: str, metric: MetricName, step_seconds: float
    ) -> str:
        """The exact query `query` sends for these arguments."""
        ...

    def graph_link(self, query: str, start: datetime, end: datetime) -> str:
        """A link to the source's own graph of `query` over [start, end]."""
        ...


@runtime_checkable
class ExpressionSource(Protocol):
    def expression(
        self, query: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Series]:
        """`query` evaluated over [start, end]: one Series per result series (its labels)."""
        ...
