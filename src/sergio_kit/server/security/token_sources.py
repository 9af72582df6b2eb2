"""Where a lenient server also looks for a bearer token: the ``auth.bearer.placement`` faults.

RFC 6750 lets a resource server accept a token outside the ``Authorization`` header, in the query
string (``?access_token=``, §2.3) or a form-encoded body (``access_token=``, §2.2). The reference
server reads the header only; with a fault on, it copies such a token into the header before
authentication, as a framework's "token from anywhere" helper would.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.types import Message, Receive, Scope

from sergio_kit.server.faults import Faults

QUERY_FAULT = "auth.bearer.placement"
FORM_FAULT = "auth.bearer.placement@form"
PARAMETER = "access_token"
FORM = b"application/x-www-form-urlencoded"


async def with_relocated_token(scope: Scope, receive: Receive, faults: Faults) -> tuple[Scope, Receive]:
    """``scope`` and ``receive`` as the request should be read: unchanged on a correct server; with a
    placement fault on and no ``Authorization`` header, a token found in the query string or a form
    body becomes ``Authorization: Bearer <token>`` (the body is read once and replayed)."""
    if QUERY_FAULT not in faults and FORM_FAULT not in faults:
        return scope, receive
    headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
    if any(name.lower() == b"authorization" for name, _ in headers):
        return scope, receive
    token = None
    if QUERY_FAULT in faults:
        token = _parameter(scope.get("query_string", b""))
    content_type = next((value for name, value in headers if name.lower() == b"content-type"), b"")
    if token is None and FORM_FAULT in faults and content_type.split(b";")[0].strip().lower() == FORM:
        body = await _whole_body(receive)
        receive = _replay(body, receive)
        token = _parameter(body)
    if token is None:
        return scope, receive
    headers.append((b"authorization", b"Bearer " + token.encode("latin-1", errors="replace")))
    return {**scope, "headers": headers}, receive


def _parameter(encoded: bytes) -> str | None:
    """The first ``access_token`` of a form-encoded string, or ``None``."""
    values = parse_qs(encoded.decode("latin-1")).get(PARAMETER)
    return values[0] if values else None


async def _whole_body(receive: Receive) -> bytes:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.extend(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return bytes(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands ``body`` over once more, then passes on what ``receive`` says (the
    client's disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
