"""docs/benchmarks.md keeps the sections a partial `make bench` run has no results for."""

from __future__ import annotations

from bench.report import KEPT, merge

OLD = "# B\n\n## Service\nold\n\n## Ingest\n1 s\n\n## Scale\n2 ms\n\n## Reproduce\nmake bench\n"
NEW = "# B\n\n## Service\nnew\n\n## Reproduce\nmake bench\n"


def test_sections_without_new_results_are_kept_marked_and_in_order() -> None:
    merged = merge(NEW, OLD)
    assert "new" in merged and "old" not in merged
    assert merged.index("## Ingest") < merged.index("## Scale") < merged.index("## Reproduce")
    assert merged.count(KEPT) == 2
    assert merge(NEW, merged).count(KEPT) == 2  # marked once, however often it is re-run


def test_nothing_to_keep_leaves_the_report_as_rendered() -> None:
    assert merge(NEW, NEW) == NEW
