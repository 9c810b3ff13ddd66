"""Document endpoints: list, read, add, replace, remove - live, without a restart."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from rag.documents import Document, check_doc_id, load_bytes
from rag.errors import InvalidInput, PayloadTooLarge
from rag.schemas import DocumentChange, DocumentDetail, DocumentInfo
from service.auth import WriterDep
from service.common import DOC_ID_SCHEMA, DocIdPath, PipelineDep, SettingsDep

router = APIRouter(tags=["documents"])

META_FIELDS = ("title", "publisher", "authors", "date", "date_estimated", "kind", "url", "language")
# What DocMeta accepts as a date (it refuses others with a 422 naming the value).
DATE_SCHEMA: dict[str, Any] = {"pattern": r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"}


class DocumentIn(BaseModel):
    """JSON body for adding a document as text."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str = Field(
        description="File-like name; its extension picks the format, e.g. a.txt",
        json_schema_extra=DOC_ID_SCHEMA,
    )
    text: str
    title: str | None = None
    publisher: str | None = None
    authors: list[str] | None = None
    date: str | None = Field(
        None, description="YYYY, YYYY-MM or YYYY-MM-DD", json_schema_extra=DATE_SCHEMA
    )
    date_estimated: bool | None = None
    kind: str | None = None
    url: str | None = None
    language: str | None = None


async def _document_from_request(
    request: Request, settings: SettingsDep, doc_id: str | None = None
) -> Document:
    """Parse a multipart upload (field ``file``) or a JSON body into a Document."""
    limit = settings.service.max_upload_bytes
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit:
        raise PayloadTooLarge(f"upload is {declared} bytes; the limit is {limit}")
    content_type = request.headers.get("content-type", "")
    overrides: dict[str, Any] = {}
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) and not hasattr(upload, "read"):
            raise InvalidInput("multipart upload needs a file in the field named 'file'")
        raw = await upload.read(limit + 1)  # type: ignore[union-attr]
        name = doc_id or upload.filename or ""  # type: ignore[union-attr]
        for key in META_FIELDS:
            value = form.get(key)
            if isinstance(value, str) and value.strip():
                overrides[key] = _form_value(key, value)
    elif content_type.startswith("application/json"):
        try:
            body = DocumentIn.model_validate_json(await request.body())
        except ValueError as exc:
            raise InvalidInput(f"invalid JSON document body: {exc}") from exc
        raw = body.text.encode("utf-8")
        name = doc_id or body.doc_id
        overrides = body.model_dump(include=set(META_FIELDS), exclude_none=True)
    else:
        raise InvalidInput(
            f"content-type {content_type or '(none)'!r} not accepted: send multipart/form-data "
            "with a 'file' field, or application/json with doc_id and text"
        )
    if len(raw) > limit:
        raise PayloadTooLarge(f"upload is larger than the limit of {limit} bytes")
    if not name:
        raise InvalidInput("the upload needs a file name (or doc_id) with an extension")
    check_doc_id(name)
    doc = await run_in_threadpool(load_bytes, name, raw, None, overrides)
    max_chars = settings.limits.max_document_chars
    if len(doc.text) > max_chars:
        raise PayloadTooLarge(
            f"{name}: {len(doc.text)} characters of text; the limit is {max_chars}"
        )
    return doc


def _form_value(key: str, value: str) -> Any:
    if key == "authors":
        return [a.strip() for a in value.split(",") if a.strip()]
    if key == "date_estimated":
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value.strip()


@router.get("/documents")
async def list_documents(pipeline: PipelineDep) -> list[DocumentInfo]:
    """The documents in the collection, with metadata and chunk counts."""
    return pipeline.documents()


@router.get("/documents/{doc_id}")
async def get_document(doc_id: DocIdPath, pipeline: PipelineDep) -> DocumentDetail:
    """Metadata plus the canonical text that citation offsets index."""
    return pipeline.get_document(check_doc_id(doc_id))


# The handlers read the body themselves (multipart or JSON): this tells clients its shapes.
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **{k: {"type": "string"} for k in META_FIELDS},
                        "date": {"type": "string", **DATE_SCHEMA},
                    },
                }
            },
            "application/json": {"schema": DocumentIn.model_json_schema()},
        },
    }
}


@router.post("/documents", status_code=status.HTTP_201_CREATED, openapi_extra=_UPLOAD_BODY)
async def add_document(
    request: Request, settings: SettingsDep, pipeline: PipelineDep, _: WriterDep
) -> DocumentChange:
    """Add a document (.txt, .md, .html, .pdf); answerable as soon as this returns."""
    doc = await _document_from_request(request, settings)
    return await run_in_threadpool(pipeline.add_document, doc, False)


@router.put("/documents/{doc_id}", openapi_extra=_UPLOAD_BODY)
async def replace_document(
    doc_id: DocIdPath, request: Request, settings: SettingsDep, pipeline: PipelineDep, _: WriterDep
) -> DocumentChange:
    """Replace a document's content (and metadata); only it is re-embedded."""
    doc = await _document_from_request(request, settings, check_doc_id(doc_id))
    return await run_in_threadpool(pipeline.add_document, doc, True)


@router.delete("/documents/{doc_id}")
async def delete_document(doc_id: DocIdPath, pipeline: PipelineDep, _: WriterDep) -> DocumentChange:
    """Remove a document; it is never cited again."""
    return await run_in_threadpool(pipeline.remove_document, check_doc_id(doc_id))
