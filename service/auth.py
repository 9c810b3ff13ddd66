"""Bearer-token checks for write and operator endpoints."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from rag.config import Settings
from rag.errors import Forbidden, InvalidInput, Unauthorized

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


def require_writer(request: Request, settings: Settings) -> None:
    """401 without a bearer token, 403 with a wrong one; local-only mode trusts loopback."""
    if not settings.service.enable_writes:
        raise Forbidden("document changes are disabled on this server (service.enable_writes)")
    token = settings.api_token
    if token is None:
        client = request.client.host if request.client else None
        if settings.service.local_only and is_loopback(client):
            return
        raise Forbidden("document changes need RAG_API_TOKEN configured on the server")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("send 'Authorization: Bearer <RAG_API_TOKEN>' to change documents")
    # Constant-time comparison; the token is never logged.
    if not hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode()):
        raise Forbidden("wrong token")
