"""The store: medic's own durable state in SQLite or PostgreSQL.

Owns the SQLAlchemy models, the repository (`Store`), the Alembic migrations and the
JSON codec of the domain's dataclasses (`encode`, `decode`, also used to render
domain objects as JSON).

Must not: leak ORM objects or SQLAlchemy errors outside (it takes and returns domain
objects, and raises medic's error tree), hold domain logic, or call the watched
system.
"""

from medic.store.codec import JSONValue, decode, encode
from medic.store.records import RejectedWebhook
from medic.store.repository import Store

__all__ = ["JSONValue", "RejectedWebhook", "Store", "decode", "encode"]
