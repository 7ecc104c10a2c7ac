"""The HTTP entrypoint (FastAPI): webhooks in, incidents out, approvals in.

Owns: request parsing and authentication, status codes, the OpenAPI description.
Must not: hold domain logic. Parsing alerts belongs to signals/, deciding whether an
approval is valid to action/, and running the loop to workflows/.
"""

from medic.api.app import ApiContext, create_app

__all__ = ["ApiContext", "create_app"]
