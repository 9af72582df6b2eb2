"""``GET /.well-known/jwks.json``: the public keys that verify the server's tokens (RS256, ES256).

An HS256 server has no public keys and does not route this operation (see ``app.build_api``).
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from sergio_kit.server.routing import Call, Handler


async def jwks(call: Call) -> Response:
    """The JSON Web Key Set: one public key per signing key, each with its ``kid``, ``alg`` and ``use``."""
    return JSONResponse(call.state.token_keys.jwks())


HANDLERS: dict[str, Handler] = {"getJwks": jwks}
