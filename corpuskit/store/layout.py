"""Where everything of a corpus lives on disk. No other module builds a path inside a corpus.

::

    <corpus>/<source>/documents/part-<key>-<n>.parquet        documents (plain Parquet: any tool reads it)
    <corpus>/<source>/attributes/<set>/part-<key>-<n>.parquet  signal columns by ``id`` (Dolma's attributes)
    <corpus>/<source>/_commits/documents/part-<key>.json       commit record of one ingested input
    <corpus>/<source>/_commits/documents/part-<key>.failed.json  why the last try of that input failed
    <corpus>/<source>/_commits/documents/_plan.json            the inputs the last ingest set out to do
    <corpus>/<source>/_commits/<set>/part-<key>-<n>.json       commit record of one attribute file
    <corpus>/<source>/_lock                                    one writer per source (flock; on object
                                                               storage a lock object, store/remote_lock.py)
    <corpus>/<source>/manifest.json, curate.json, funnel.json  summaries for people
    <corpus>/_dedup/overlap.json                               cross-source overlap (dedup)

A corpus root may also be a URL (``s3://bucket/corpus``): the same layout, under the URL, reached through
a local working copy of it (:mod:`corpuskit.store.corpus_root`), whose relative paths are the object keys.

Commit records live under ``_commits`` (a name other tools skip), so ``documents/`` and each
``attributes/<set>/`` folder hold only Parquet files: pyarrow, duckdb, Spark and Hugging Face datasets
read them as datasets as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Attribute sets written by the stages (a stage never spells these itself).
SIGNALS = "signals"  # curate: language, quality and model-score signals
CURATE = "curate"  # curate: keep/drop decisions, one reason column per filter
MINHASH = "minhash"  # dedup: text hash + MinHash signature
DEDUP = "dedup"  # dedup: cluster and keep/drop decision
DOCUMENTS = "documents"

DATA_FILE = re.compile(r"^part-[A-Za-z0-9_.-]+\.parquet$")  # the names the store gives data files
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def check_source_name(name: str) -> str:
    """A source name is a plain folder name: no separators, not ``.``/``..``, not hidden, not ``_``-led
    (those are the store's own)."""
    if not _NAME.match(name) or name in {".", ".."} or name.startswith("_"):
        raise ValueError(
            f"source name {name!r} must be a plain folder name: letters, digits, '_', '-', '.', "
            "not starting with '.' or '_'"
        )
    return name


@dataclass(frozen=True)
class SourceStore:
    """The paths of one source of a corpus."""

    corpus: Path
    name: str

    def __post_init__(self) -> None:
        check_source_name(self.name)
        object.__setattr__(self, "corpus", Path(self.corpus))

    @property
    def root(self) -> Path:
        return self.corpus / self.name

    @property
    def documents_dir(self) -> Path:
        return self.root / DOCUMENTS

    @property
    def attributes_root(self) -> Path:
        return self.root / "attributes"

    def attributes_dir(self, set_name: str) -> Path:
        return self.attributes_root / set_name

    @property
    def commits_root(self) -> Path:
        """Every commit record, failure record and plan of the source is under this folder."""
        return self.root / "_commits"

    def commits_dir(self, stage: str) -> Path:
        return self.commits_root / stage

    def part_commit(self, key: str) -> Path:
        return self.commits_dir(DOCUMENTS) / f"part-{key}.json"

    def part_failure(self, key: str) -> Path:
        return self.commits_dir(DOCUMENTS) / f"part-{key}.failed.json"

    @property
    def plan(self) -> Path:
        return self.commits_dir(DOCUMENTS) / "_plan.json"

    def part_file(self, key: str, n: int) -> Path:
        return self.documents_dir / f"part-{key}-{n:05d}.parquet"

    def attribute_file(self, set_name: str, doc_file: str) -> Path:
        return self.attributes_dir(set_name) / doc_file

    def attribute_commit(self, set_name: str, doc_file: str) -> Path:
        return self.commits_dir(set_name) / (Path(doc_file).stem + ".json")

    @property
    def lock_file(self) -> Path:
        return self.root / "_lock"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def summary(self, name: str) -> Path:
        """A per-source summary for people (``curate.json``, ``funnel.json``)."""
        return self.root / name

    def data_dirs(self) -> tuple[Path, Path]:
        """The folders of data files (documents, attribute sets): a file there counts only when a commit
        record names it."""
        return self.documents_dir, self.attributes_root

    def attribute_sets(self) -> list[str]:
        adir = self.attributes_root
        return sorted(p.name for p in adir.iterdir() if p.is_dir()) if adir.is_dir() else []


def overlap_file(corpus: Path | str) -> Path:
    """The corpus-wide cross-source overlap matrix written by dedup."""
    return Path(corpus) / "_dedup" / "overlap.json"


def corpus_files(corpus: Path | str) -> list[Path]:
    """The corpus-wide files (not of one source) that a copy of the corpus carries."""
    return [overlap_file(corpus)]


def list_sources(corpus: Path | str) -> list[str]:
    """Sources that have at least a documents folder, sorted by name."""
    root = Path(corpus)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if (p / DOCUMENTS).is_dir() and _NAME.match(p.name) and not p.name.startswith("_")
    )
