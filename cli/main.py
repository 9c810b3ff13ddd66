"""The `rag` command line: ingest, ask, search, serve, eval."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import Progress

from rag.config import Settings
from rag.errors import IndexMismatch, RagError

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(stderr=True)


def _settings(overrides: list[str] | None = None) -> Settings:
    settings = Settings()
    if overrides:
        pairs = {}
        for item in overrides:
            if "=" not in item:
                raise typer.BadParameter(f"--set takes key=value, got {item!r}")
            key, value = item.split("=", 1)
            pairs[key.strip()] = value.strip()
        settings = settings.with_overrides(pairs)
    return settings


def _pipeline(settings: Settings) -> Pipeline:
    # Imported here so `rag --help` answers without loading torch and the models.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.pipeline import Pipeline

    return Pipeline(settings)


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: seeds/)")
    ] = None,
    if_missing: Annotated[
        bool,
        typer.Option(
            help="Do nothing if a usable index exists (one built by another version of the "
            "pipeline or with other settings is rebuilt)."
        ),
    ] = False,
) -> None:
    """Build (or update) the index from documents."""
    settings = _settings()
    pipeline = _pipeline(settings)
    if if_missing and pipeline.store.exists():
        try:
            _ = pipeline.loaded
        except IndexMismatch as exc:
            console.print(f"rebuilding the index in {settings.paths.index_dir}: {exc}")
        else:
            console.print(f"index exists in {settings.paths.index_dir}; nothing to do")
            return
    targets = paths or [settings.paths.seeds_dir]
    t0 = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("ingesting", total=None)

        def step(doc_id: str, n_chunks: int) -> None:
            bar.update(task, advance=1, description=f"{doc_id}: {n_chunks} chunks")

        data = pipeline.ingest(targets, progress=step)
    console.print(
        f"indexed {len(data.documents)} documents, {len(data.chunks)} chunks, "
        f"{len(data.sentences)} sentences in {time.perf_counter() - t0:.1f} s "
        f"(embedded {pipeline.embedder.misses} new texts) -> {settings.paths.index_dir}/"
        f"versions/{data.version}"
    )


@app.command()
def add(
    path: Annotated[Path, typer.Argument(help=".txt, .md, .html or .pdf file")],
    title: Annotated[str | None, typer.Option()] = None,
    date: Annotated[str | None, typer.Option(help="YYYY, YYYY-MM or YYYY-MM-DD")] = None,
    publisher: Annotated[str | None, typer.Option()] = None,
    author: Annotated[list[str] | None, typer.Option(help="Repeat for several authors.")] = None,
    kind: Annotated[str | None, typer.Option(help="news, analysis, opinion, ...")] = None,
    url: Annotated[str | None, typer.Option()] = None,
    replace: Annotated[
        bool, typer.Option(help="Replace an existing document of that name.")
    ] = False,
) -> None:
    """Add (or replace) one document; only it is embedded."""
    from rag.documents import load_bytes

    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file")
    overrides = {
        "title": title,
        "date": date,
        "publisher": publisher,
        "authors": author,
        "kind": kind,
        "url": url,
    }
    pipeline = _pipeline(_settings())
    doc = load_bytes(path.name, path.read_bytes(), None, overrides)
    change = pipeline.add_document(doc, replace_existing=replace)
    print(change.model_dump_json(indent=2))


@app.command()
def remove(doc_id: str) -> None:
    """Remove one document from the index."""
    change = _pipeline(_settings()).remove_document(doc_id)
    print(change.model_dump_json(indent=2))


@app.command(name="list")
def list_documents(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the indexed documents."""
    docs = _pipeline(_settings()).documents()
    if as_json:
        print("[" + ",".join(d.model_dump_json() for d in docs) + "]")
        return
    for d in docs:
        date = f"{d.date or 'undated'}{' (est.)' if d.date_estimated else ''}"
        print(f"{d.doc_id}\t{d.chunks} chunks\t{date}\t{d.publisher}\t{d.title}")


@app.command()
def ask(
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /ask response body.")] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50)] = None,
) -> None:
    """Answer a question with citations, or say the documents don't say."""
    pipeline = _pipeline(_settings())
    result = pipeline.ask(question, top_k=top_k)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    answer = result.answer
    if result.short_answer:
        where = (
            f" [{result.short_answer_citation}]" if result.short_answer_citation is not None else ""
        )
        print(f"{result.short_answer}{where}")
        print()
        first, _, rest = answer.partition("\n")
        if first.rstrip(".") == result.short_answer.rstrip("."):
            answer = rest  # the answer text leads with it too: don't print it twice
    print(answer)
    print()
    for c in result.citations:
        date = f"{c.date}{' (est.)' if c.date_estimated else ''}"
        print(f"[{c.id}] {c.publisher}, {date} — {c.title}")
        print(f"    {c.doc_id} [{c.start}:{c.end}] “{c.quote}”")
    if result.abstained:
        for p in result.related[:3]:
            print(f"  related: {p.doc_id} [{p.start}:{p.end}] {p.text[:160]}…")


@app.command()
def timeline(
    topic: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /timeline body.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, max=100)] = None,
) -> None:
    """Dated events on a topic, oldest first, each quoted verbatim."""
    pipeline = _pipeline(_settings())
    result = pipeline.timeline(topic, limit)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    if not result.events:
        print(f"The documents date nothing on “{topic}”.")
        return
    for event in result.events:
        c = event.citation
        inferred = " (date inferred)" if event.date_estimated else ""
        print(f"{event.date}{inferred} — {c.publisher}, {c.date}")
        print(f"    {c.doc_id} [{c.start}:{c.end}] “{event.text.strip()}”")
        for other in event.also_reported_by:
            print(f"    also: {other.publisher}, {other.date} [{other.start}:{other.end}]")
    print(f"\nas of {result.as_of} (the newest source)")


@app.command()
def search(
    query: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50)] = None,
) -> None:
    """Show the passages hybrid search finds."""
    pipeline = _pipeline(_settings())
    result = pipeline.search(query, top_k=top_k)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    for i, r in enumerate(result.results, start=1):
        print(f"{i}. {r.doc_id} [{r.start}:{r.end}] score={r.score:.4f}")
        print(f"   {r.text[:240]}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    local_only: Annotated[
        bool,
        typer.Option(
            help="Local-only mode: loopback clients may change documents without a token."
        ),
    ] = False,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from service.app import create_app

    overrides = {"service.host": host} if host else {}
    if local_only:
        overrides["service.local_only"] = "true"
    settings = _settings().with_overrides(overrides) if overrides else _settings()
    from service.observability import configure_logging

    configure_logging(settings)  # text or JSON (service.log_json), with request ids
    uvicorn.run(
        create_app(settings),
        host=host or settings.service.host,
        port=port or settings.service.port,
        log_level="info",
        log_config=None,  # keep the handler set up above
        access_log=False,  # the service logs its own access lines, with request ids
        timeout_keep_alive=settings.service.keep_alive_s,
    )


@app.command(name="eval")
def evaluate(
    questions: Annotated[Path, typer.Option(help="JSONL question set.")] = Path(
        "eval/questions/seeds.jsonl"
    ),
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write metrics + per-question results.")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown report.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a setting: key=value")
    ] = None,
    sweep: Annotated[str | None, typer.Option(help="key=v1,v2,...: run each variant")] = None,
    calibrate: Annotated[
        bool, typer.Option(help="Also run without abstaining and print the threshold curve.")
    ] = False,
    gate: Annotated[
        Path | None, typer.Option(help="JSON of metric floors; exit 1 below any.")
    ] = None,
    split: Annotated[
        Literal["tune", "test"] | None,
        typer.Option(help="Run, report and gate only this half of the set (default: all)."),
    ] = None,
) -> None:
    """Score the pipeline on a question set."""
    from eval.harness import run_cli

    code = run_cli(
        questions=questions,
        base=_settings(set_),
        json_out=json_out,
        markdown=markdown,
        sweep=sweep,
        gate=gate,
        calibrate=calibrate,
        split=split,
    )
    raise typer.Exit(code)


def main() -> None:
    """Console-script entry point: RagErrors become a one-line message and exit code 2."""
    try:
        app()
    except RagError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
