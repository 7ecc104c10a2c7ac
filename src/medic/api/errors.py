"""medic's error tree, as HTTP statuses with a message that says what is wrong."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from medic.domain import ConflictError, InvalidInputError, MedicError, NotFoundError
from medic.domain.errors import TransientError

__all__ = ["install_error_handlers"]

_STATUS: tuple[tuple[type[MedicError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (TransientError, 503),
    (MedicError, 500),
)


def install_error_handlers(app: FastAPI) -> None:
    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        status = next(code for kind, code in _STATUS if isinstance(exc, kind))
        return JSONResponse({"detail": str(exc)}, status_code=status)

    app.add_exception_handler(MedicError, handle)
