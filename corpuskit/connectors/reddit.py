"""Reddit dumps (pushshift style): one document per submission with its comment tree, or per comment.

Input: a ``.jsonl`` / ``.ndjson`` / ``.json`` file (JSON lines; a small JSON array also works), or the
same compressed (``.zst`` with a 2 GiB window as pushshift needs, ``.gz``, ``.bz2``, ``.xz``), or a
folder of such files. Objects may be bare pushshift objects or Reddit API ``{"kind": "t1", "data":
{…}}`` wrappers. A line is a submission if it has a ``title`` (or a ``t3_`` name), a comment if it
has a ``body`` and ``link_id``.

Modes:

* ``threads`` — one document per submission: title, self text, then the comment tree depth-first
  as a nested Markdown list, siblings by score (highest first). Needs the submissions *and* the
  comments: give a folder holding both, a file mixing both, or a submissions file whose comments
  sit beside it (``RS_2019-01.zst`` → ``RC_2019-01.zst``, ``*submissions*`` → ``*comments*``).
* ``comments`` — one document per comment (and per submission with self text), streamed directly.
* ``auto`` (default) — ``threads`` when the input holds any submission, else ``comments``.

Why an on-disk store for threads: pushshift files are ordered by time, so a thread's comments are
spread over the whole month; grouping them in memory would grow with the file. One pass writes the
kept fields to a scratch SQLite store (:mod:`corpuskit.connectors.tempstore`) and threads are read
back by ``link_id`` index, so RAM holds one thread at a time.

Dropped, each counted: ``[deleted]``/``[removed]`` bodies, bot authors (a configurable list and
pattern), scores below ``min_score``, bad JSON lines, non-UTF-8 lines, truncated archives. A deleted
comment's replies stay in the thread (lifted to its place). Authors are not kept (personal data).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpuskit.connectors.base import Connector, Record, Skip
from corpuskit.connectors.reddit_comments import comment_records
from corpuskit.connectors.reddit_dump import classify, input_files, iter_objects, sibling_comment_files, utc
from corpuskit.connectors.reddit_fields import DEFAULT_BOTS, REMOVED, RedditOptions
from corpuskit.connectors.reddit_threads import render_tree, thread_records

__all__ = [
    "DEFAULT_BOTS",
    "REMOVED",
    "RedditConnector",
    "RedditOptions",
    "classify",
    "input_files",
    "iter_objects",
    "render_tree",
    "sibling_comment_files",
    "utc",
]


class RedditConnector(Connector[RedditOptions]):
    kind = "reddit"
    requires = (("zstandard", "zstandard"),)
    accepts_directories = True
    default_patterns = ("*.jsonl", "*.ndjson", "*.json", "*.zst", "*.gz", "*.bz2", "*.xz")

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        files = input_files(path, self.options.pair_siblings)
        mode = self.options.mode
        if mode == "auto":
            mode = "threads" if self._has_submissions(files) else "comments"
        label = len(files) > 1
        if mode == "comments":
            yield from comment_records(files, label, self.options)
        else:
            yield from thread_records(files, label, self.options)

    def _has_submissions(self, files: list[Path]) -> bool:
        """Look at the first readable object of each file (dumps hold one kind per file)."""
        for f in files:
            for item in iter_objects([f], False):
                if isinstance(item, Skip):
                    continue
                kind = classify(item[1])
                if kind is not None:
                    if kind[0] == "submission":
                        return True
                    break
        return False
