"""The error shape every failure is answered with: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

_STATUS_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "invalid_request",
    422: "validation_error",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error the server answers with the error shape (never a 5xx)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _STATUS_CODES[status]
        self.message = message
        self.headers = headers or {}
        self.details = details


def error_response(error: ApiError) -> JSONResponse:
    """Render an :class:`ApiError` as a JSON response."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return JSONResponse({"error": body}, status_code=error.status, headers=error.headers)


def bearer_error(message: str, *, missing: bool = False) -> ApiError:
    """A 401 for a missing or bad bearer token, with the RFC 6750 challenge."""
    challenge = 'Bearer realm="sergio"' if missing else 'Bearer realm="sergio", error="invalid_token"'
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})
