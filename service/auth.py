"""Who may change documents and read feedback: one bearer-token check, two policies."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from rag.config import Settings
from rag.errors import Forbidden, InvalidInput, Unauthorized
from service.common import SettingsDep

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine (Starlette's TestClient counts)."""
    if host == "testclient":
        return True
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def check_startup(settings: Settings) -> None:
    """Refuse to serve writable endpoints to the network without a token."""
    service = settings.service
    if not service.enable_writes or settings.api_token is not None:
        return
    if service.local_only and service.host in LOOPBACK_HOSTS:
        return
    raise InvalidInput(
        "document write endpoints are enabled but RAG_API_TOKEN is not set: set a token, "
        "disable writes (RAG_SERVICE__ENABLE_WRITES=false), or run in local-only mode "
        "(RAG_SERVICE__LOCAL_ONLY=true) bound to 127.0.0.1"
    )


def bearer(
    action: str, without_token: str, trust_loopback: Callable[[Settings], bool]
) -> Callable[[Request, Settings], None]:
    """A dependency: 401 without a bearer token, 403 with a wrong one.

    With no RAG_API_TOKEN configured there is nothing to compare: loopback clients pass when
    ``trust_loopback(settings)``, everyone else gets 403 ``without_token``.
    """

    def require(request: Request, settings: SettingsDep) -> None:
        token = settings.api_token
        if token is None:
            client = request.client.host if request.client else None
            if trust_loopback(settings) and is_loopback(client):
                return
            raise Forbidden(without_token)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise Unauthorized(f"send 'Authorization: Bearer <RAG_API_TOKEN>' to {action}")
        # Constant-time comparison; the token is never logged.
        if not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
            raise Forbidden("wrong token")

    return require


_writer_token = bearer(
    "change documents",
    "document changes need RAG_API_TOKEN configured on the server",
    trust_loopback=lambda settings: settings.service.local_only,
)


def require_writer(request: Request, settings: SettingsDep) -> None:
    """Writes enabled, and the writer's token (local-only mode trusts loopback)."""
    if not settings.service.enable_writes:
        raise Forbidden("document changes are disabled on this server (service.enable_writes)")
    _writer_token(request, settings)


require_operator = bearer(
    "read feedback",
    "reading feedback is only allowed from this machine; set RAG_API_TOKEN on the server and "
    "send 'Authorization: Bearer <token>' to read it remotely",
    trust_loopback=lambda _: True,
)

# Declare one of these as a parameter (``_: WriterDep``) to protect an operation.
WriterDep = Annotated[None, Depends(require_writer)]
OperatorDep = Annotated[None, Depends(require_operator)]
