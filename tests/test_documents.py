"""Live document management over HTTP: formats, uploads, replace, delete, auth, filters."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.errors import InvalidInput
from rag.pipeline import Pipeline
from service.app import create_app

from .conftest import DATA, make_settings

UPLOADS = DATA / "uploads"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def token_settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "index", DATA, embedding={"model": "hash"})
    return settings.with_overrides({"service.local_only": "false", "service.host": "0.0.0.0"})


@pytest.fixture
def client(token_settings: Settings) -> Iterator[TestClient]:
    settings = Settings.model_validate(
        {**token_settings.model_dump(exclude={"api_token"}), "api_token": TOKEN}
    )
    pipeline = Pipeline(settings)
    pipeline.ingest([DATA])
    with TestClient(create_app(settings, pipeline)) as c:
        yield c


def _upload(client: TestClient, name: str, **form: str) -> object:
    raw = (UPLOADS / name).read_bytes()
    return client.post("/documents", files={"file": (name, raw)}, data=form, headers=AUTH)


def _state(client: TestClient) -> list[tuple[str, str, int]]:
    return sorted((d["doc_id"], d["sha256"], d["chunks"]) for d in client.get("/documents").json())


def _check_citations(client: TestClient, body: dict) -> None:  # type: ignore[type-arg]
    for c in body["citations"]:
        text = client.get(f"/documents/{c['doc_id']}").json()["text"]
        assert text[c["start"] : c["end"]] == c["quote"]


def test_html_upload_is_cleaned_answerable_and_verifiable(client: TestClient) -> None:
    response = _upload(client, "valley_dam.html", kind="news")
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    change = response.json()  # type: ignore[attr-defined]
    assert change["doc_id"] == "valley_dam.html" and change["chunks"] > 0
    detail = client.get("/documents/valley_dam.html").json()
    assert detail["publisher"] == "Northern Ledger" and detail["date"] == "2025-05-02"
    assert detail["authors"] == ["Priya Nair"] and detail["kind"] == "news"
    for debris in ("cookies", "Subscribe", "corrupt crooks", "miracle cure", "tracking", "Sport"):
        assert debris not in detail["text"]
    body = client.post("/ask", json={"question": "How much will the Valley Dam cost?"}).json()
    assert "300 million euros" in body["answer"]
    assert body["citations"][0]["doc_id"] == "valley_dam.html"
    _check_citations(client, body)


def test_pdf_upload_cites_pages(client: TestClient) -> None:
    response = _upload(client, "tidal_report.pdf", publisher="Marine Power Institute")
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    detail = client.get("/documents/tidal_report.pdf").json()
    assert detail["title"] == "Tidal Energy Outlook 2025" and len(detail["pages"]) == 2
    body = client.post(
        "/ask", json={"question": "What will maintenance costs of the tidal array fall to?"}
    ).json()
    assert "9 million pounds" in body["answer"]
    cited = body["citations"][0]
    assert cited["page"] == 2 and "p. 2" in body["answer"]
    _check_citations(client, body)


def test_json_upload_replace_and_delete(client: TestClient) -> None:
    doc = {
        "doc_id": "lighthouse.txt",
        "text": "The old lighthouse was repainted red in April 2025 by volunteers.\n",
        "title": "Lighthouse repainted",
        "publisher": "Harbour Notes",
        "date": "2025-04-20",
    }
    assert client.post("/documents", json=doc, headers=AUTH).status_code == 201
    body = client.post("/ask", json={"question": "What colour was the lighthouse painted?"}).json()
    assert "red" in body["answer"]
    doc["text"] = "The old lighthouse was repainted blue in June 2025 after complaints.\n"
    replaced = client.put("/documents/lighthouse.txt", json=doc, headers=AUTH)
    assert replaced.status_code == 200 and replaced.json()["action"] == "replaced"
    body = client.post("/ask", json={"question": "What colour was the lighthouse painted?"}).json()
    assert "blue" in body["answer"] and "red" not in body["answer"]
    deleted = client.delete("/documents/lighthouse.txt", headers=AUTH)
    assert deleted.status_code == 200
    assert "lighthouse.txt" not in {d["doc_id"] for d in client.get("/documents").json()}
    hits = client.post("/search", json={"query": "lighthouse repainted blue"}).json()["results"]
    assert all(h["doc_id"] != "lighthouse.txt" for h in hits)
    assert client.get("/documents/lighthouse.txt").status_code == 404


def test_only_the_new_document_is_embedded(client: TestClient) -> None:
    change = _upload(client, "valley_dam.html").json()  # type: ignore[attr-defined]
    detail = client.get("/documents/valley_dam.html").json()
    # chunks + sentences of this document only; the two existing documents cost nothing.
    assert 0 < change["embedded_texts"] <= detail["chunks"] + detail["text"].count(".") + 2


BAD_UPLOADS = [
    ("virus.exe", b"MZ\x90\x00\x03", 415, "unsupported format"),
    ("empty.txt", b"   \n\t", 422, "empty"),
    ("junk.txt", bytes(range(256)) * 4, 422, "UTF-8"),
    ("latin1.txt", "caf\xe9 au lait".encode("latin-1"), 422, "UTF-8"),
    ("nul.txt", b"text\x00with\x00nul\x00bytes" * 10, 422, "binary"),
    ("fake.pdf", b"%PDF-1.4 this is not really a pdf", 422, "PDF"),
    ("empty.html", b"<html><body><nav>Home</nav></body></html>", 422, "empty"),
]


@pytest.mark.parametrize(("name", "raw", "code", "says"), BAD_UPLOADS)
def test_bad_uploads_get_4xx_and_change_nothing(
    client: TestClient, name: str, raw: bytes, code: int, says: str
) -> None:
    before = _state(client)
    response = client.post("/documents", files={"file": (name, raw)}, headers=AUTH)
    assert response.status_code == code, response.text
    assert says.lower() in response.json()["detail"].lower()
    assert _state(client) == before


def test_duplicate_and_name_clash_are_reported(client: TestClient) -> None:
    assert _upload(client, "valley_dam.html").status_code == 201  # type: ignore[attr-defined]
    before = _state(client)
    raw = (UPLOADS / "valley_dam.html").read_bytes()
    again = client.post("/documents", files={"file": ("copy.html", raw)}, headers=AUTH)
    assert again.status_code == 409 and "valley_dam.html" in again.json()["detail"]
    first = {"doc_id": "clash.txt", "text": "The ferry runs every hour in summer."}
    assert client.post("/documents", json=first, headers=AUTH).status_code == 201
    before = _state(client)
    second = {"doc_id": "clash.txt", "text": "The ferry runs twice a day in winter."}
    same_name = client.post("/documents", json=second, headers=AUTH)
    assert same_name.status_code == 409 and "PUT" in same_name.json()["detail"]
    assert _state(client) == before


def test_write_auth(client: TestClient) -> None:
    raw = (UPLOADS / "valley_dam.html").read_bytes()
    no_token = client.post("/documents", files={"file": ("v.html", raw)})
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"] == "Bearer"
    wrong = client.post(
        "/documents", files={"file": ("v.html", raw)}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 403
    assert client.delete("/documents/harbor_bridge.txt").status_code == 401
    assert (
        client.delete("/documents/harbor_bridge.txt", headers={"Authorization": "x"}).status_code
        == 401
    )
    assert client.get("/documents").status_code == 200  # reads stay open


@pytest.mark.parametrize("doc_id", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E", ".hidden", "a b.txt"])
def test_path_traversal_in_doc_ids_is_refused(client: TestClient, doc_id: str) -> None:
    assert client.get(f"/documents/{doc_id}").status_code in (404, 422)
    assert client.delete(f"/documents/{doc_id}", headers=AUTH).status_code in (404, 422)


def test_refuses_to_start_writable_without_token(token_settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="RAG_API_TOKEN"):
        create_app(token_settings)
    readonly = token_settings.with_overrides({"service.enable_writes": "false"})
    create_app(readonly)  # read-only needs no token
    public_local = token_settings.with_overrides({"service.local_only": "true"})
    with pytest.raises(InvalidInput, match="local-only"):
        create_app(public_local)  # local-only mode must be bound to 127.0.0.1


def test_filters_on_ask_and_search(client: TestClient) -> None:
    question = {"question": "How many steel cables were replaced?"}
    only_park = client.post("/ask", json={**question, "filters": {"doc_ids": ["river_park.md"]}})
    assert all(c["doc_id"] == "river_park.md" for c in only_park.json()["citations"])
    by_publisher = client.post(
        "/search", json={"query": "bridge cables", "filters": {"publishers": ["coastal times"]}}
    ).json()["results"]
    assert by_publisher and all(r["doc_id"] == "harbor_bridge.txt" for r in by_publisher)
    too_old = client.post(
        "/search", json={"query": "bridge cables", "filters": {"date_to": "2024-12-31"}}
    ).json()["results"]
    assert all(r["doc_id"] != "harbor_bridge.txt" for r in too_old)
    bad = client.post("/search", json={"query": "x", "filters": {"date_to": "last year"}})
    assert bad.status_code == 422 and "date_to" in bad.json()["detail"]


def test_concurrent_asks_during_uploads_never_fail(client: TestClient) -> None:
    failures: list[str] = []
    stop = threading.Event()

    def asker() -> None:
        while not stop.is_set():
            r = client.post("/ask", json={"question": "When did the Harbor Bridge reopen?"})
            if r.status_code != 200:
                failures.append(f"{r.status_code} {r.text}")

    threads = [threading.Thread(target=asker) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(3):
            doc = {
                "doc_id": f"note{i}.txt",
                "text": f"Note number {i} says the ferry runs daily.\n",
            }
            assert client.post("/documents", json=doc, headers=AUTH).status_code == 201
            assert client.delete(f"/documents/note{i}.txt", headers=AUTH).status_code == 200
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
