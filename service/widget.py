"""GET /widget.js (the embeddable chat widget) and GET / (a demo page that embeds it)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
# Revalidate each load (FileResponse sends an ETag), so embedding pages pick up a new widget.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> FileResponse:
    """The <peace-chat> custom element: one file, no build step."""
    return FileResponse(
        STATIC / "widget.js", media_type="text/javascript; charset=utf-8", headers=_HEADERS
    )


@router.get("/", include_in_schema=False)
async def demo_page() -> FileResponse:
    """A page with the widget inline and the snippet to embed it elsewhere."""
    return FileResponse(
        STATIC / "demo.html", media_type="text/html; charset=utf-8", headers=_HEADERS
    )
