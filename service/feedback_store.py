"""Durable feedback rows in SQLite (WAL): committed before the service answers."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT
)
"""


class FeedbackStore:
    """One SQLite file; a short-lived connection per call, so threads never share one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False
        self._init_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            with self._init_lock:
                if not self._ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with sqlite3.connect(self.path, timeout=10) as conn:
                        conn.execute("PRAGMA journal_mode=WAL")  # persists in the file
                        conn.execute(_SCHEMA)
                    conn.close()
                    self._ready = True
        conn = sqlite3.connect(self.path, timeout=10)
        # In WAL mode NORMAL may lose the last commits on power loss; FULL syncs each commit.
        conn.execute("PRAGMA synchronous=FULL")
        conn.row_factory = sqlite3.Row
        return conn

    def add(self, question: str, answer: str, rating: str, comment: str | None) -> int:
        """Insert one row and commit; return its id."""
        conn = self._connect()
        try:
            with conn:  # one transaction, committed on leaving the block
                cur = conn.execute(
                    "INSERT INTO feedback (created_at, question, answer, rating, comment) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        datetime.now(UTC).isoformat(timespec="seconds"),
                        question,
                        answer,
                        rating,
                        comment,
                    ),
                )
            row_id = cur.lastrowid
            assert row_id is not None
            return row_id
        finally:
            conn.close()

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest rows first."""
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT id, created_at, question, answer, rating, comment FROM feedback "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [dict(r) for r in rows]
        finally:
            conn.close()
