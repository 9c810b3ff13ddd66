"""`make bench`: wait for a quiet machine, run the benchmarks, write docs/benchmarks.md.

Each part saves JSON under artifacts/bench/; the report renders whatever results exist, so a
part can be re-run alone (`--only service`) and the report stays whole.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import report
from bench.common import REPO, load, machine, save, wait_quiet

PARTS = ("service", "backends", "ingest", "milvus", "scale")


def _baseline_ingest(src: Path) -> dict[str, Any]:
    """bench.ingest with the `rag` package of another source tree (a baseline)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.ingest"],
        env={**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{REPO}"},
        cwd=src,  # `-m` puts the working directory first: the baseline's `rag` must win
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out[out.index("{") :])
    return result


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=PARTS, action="append", help="Run only these parts.")
    parser.add_argument("--report-only", action="store_true", help="Just re-render the report.")
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="Also measure the service from this source tree (e.g. `git archive` of an older "
        "commit unpacked in /tmp) as the 'before' numbers.",
    )
    parser.add_argument("--quiet-load", type=float, default=0.7, help="1-minute load to wait for.")
    parser.add_argument("--max-wait", type=float, default=1800.0, help="Seconds to wait at most.")
    parser.add_argument("--scale-real", type=int, default=30_000, help="Real texts to embed.")
    parser.add_argument(
        "--scale-sizes", default="100000,1000000", help="Comma-separated collection sizes."
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not args.report_only:
        parts = args.only or list(PARTS)
        load_before = wait_quiet(args.quiet_load, args.max_wait)
        facts = machine()
        facts["loadavg_at_start"] = load_before
        previous = load("machine") or {}
        save("machine", {**previous, **dict.fromkeys(parts, facts), "latest": facts})
        if "service" in parts:
            from bench import service

            if args.baseline_src:
                save("service-baseline", service.run("baseline", src=args.baseline_src))
            save("service-unbatched", service.run("unbatched", {"RAG_EMBEDDING__QUERY_BATCH": "1"}))
            save("service", service.run("current"))
        if "backends" in parts:
            from bench import backends

            save("backends", backends.run())
        if "ingest" in parts:
            from bench import ingest

            if args.baseline_src:
                save("ingest-baseline", _baseline_ingest(args.baseline_src))
            save("ingest", ingest.run())
        if "milvus" in parts:
            from bench import milvus

            save("milvus", milvus.run())
        if "scale" in parts:
            from bench import scale

            sizes = tuple(int(s) for s in args.scale_sizes.split(",") if s)
            save("scale", scale.run(n_real=args.scale_real, sizes=sizes))
    path = report.write()
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
