"""The `rag` command line: ingest, ask, search, serve, eval."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from rag.config import Settings
from rag.errors import RagError

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


def _pipeline(settings: Settings):  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rag.pipeline import Pipeline

    return Pipeline(settings)


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (default: seeds/)")
    ] = None,
    if_missing: Annotated[bool, typer.Option(help="Do nothing if an index exists.")] = False,
) -> None:
    """Build (or update) the index from documents."""
    settings = _settings()
    pipeline = _pipeline(settings)
    if if_missing and pipeline.store.exists():
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
    print(result.answer)
    print()
    for c in result.citations:
        date = f"{c.date}{' (est.)' if c.date_estimated else ''}"
        print(f"[{c.id}] {c.publisher}, {date} — {c.title}")
        print(f"    {c.doc_id} [{c.start}:{c.end}] “{c.quote}”")
    if result.abstained:
        for p in result.related[:3]:
            print(f"  related: {p.doc_id} [{p.start}:{p.end}] {p.text[:160]}…")


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
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from service.app import create_app

    settings = _settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.service.host,
        port=port or settings.service.port,
        log_level="info",
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
