"""GET /docs: Swagger UI served from this process, so it works on machines without internet.

FastAPI's own /docs loads Swagger UI's script and stylesheet from a CDN; here they come from
the swagger-ui files a PyPI package ships, and the page gets the demo page's kind of CSP: its
one inline script by hash, everything else from this origin. /redoc is off (app.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

from service.security import page_csp

router = APIRouter(include_in_schema=False)

ASSETS = Path(swagger_ui_path)
ASSET_PREFIX = "/docs/assets"
# The only files the page loads (the package also ships demo pages that point at the internet).
_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
# Revalidate each load (FileResponse sends an ETag): the URLs carry no version.
_HEADERS = {"Cache-Control": "no-cache"}


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """The interactive API documentation."""
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - API",
        swagger_js_url=f"{ASSET_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSET_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{ASSET_PREFIX}/favicon-32x32.png",
        # No badge fetched from the online validator.
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body).decode()
    return HTMLResponse(html, headers={"content-security-policy": page_csp(html), **_HEADERS})


@router.get(ASSET_PREFIX + "/{name}")
async def swagger_asset(name: str) -> FileResponse:
    """One of Swagger UI's files."""
    media_type = _MEDIA_TYPES.get(name)
    if media_type is None:
        raise HTTPException(404, f"no such documentation asset: {name}")
    return FileResponse(ASSETS / name, media_type=media_type, headers=_HEADERS)
