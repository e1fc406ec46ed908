"""Bearer-token check for the JSON API: closed unless AFTERCARE_API_TOKEN is set and matches."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# auto_error=False: we answer 401 ourselves, with a reason, in every failing case.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    description="The value of AFTERCARE_API_TOKEN, sent as `Authorization: Bearer <token>`.",
    auto_error=False,
)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def require_api_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> None:
    """Let the request through only with the configured token; never when none is configured."""
    expected: str = request.app.state.settings.api_token.get_secret_value()
    if not expected:
        raise _unauthorized("The JSON API is closed: AFTERCARE_API_TOKEN is not set.")
    if credentials is None:
        raise _unauthorized("Send Authorization: Bearer <AFTERCARE_API_TOKEN>.")
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise _unauthorized("Wrong API token.")
