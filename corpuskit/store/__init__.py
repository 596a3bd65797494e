"""The document store: the one place that knows a corpus's layout and its commit rules.

- :mod:`~corpuskit.store.layout`: where every file of a source lives; attribute-set names.
- :mod:`~corpuskit.store.atomic`: atomic writes, digests, temp-file cleanup.
- :mod:`~corpuskit.store.commits`: commit and failure records; what counts as done.
- :mod:`~corpuskit.store.parts`: writing one input's documents as Parquet files.
- :mod:`~corpuskit.store.read`: reading a source joined with its current attribute sets.
- :mod:`~corpuskit.store.lock`: one writer per source.
- :mod:`~corpuskit.store.units`: the resumable unit-of-work runner every stage uses.
- :mod:`~corpuskit.store.corpus_root`: a corpus root that is a URL (``s3://``, any fsspec URL), worked on
  in a local working copy: :mod:`~corpuskit.store.remote` (object I/O), :mod:`~corpuskit.store.sync`
  (pull committed units, push them back record last), :mod:`~corpuskit.store.remote_lock` (a lock
  object per source), :mod:`~corpuskit.store.mirrors` (commits pushed as they happen).
"""

from corpuskit.store.atomic import atomic_write_json, atomic_write_parquet, read_json, remove_temp_files
from corpuskit.store.commits import (
    FileRecord,
    Part,
    attribute_current,
    document_files,
    list_parts,
    write_attributes,
)
from corpuskit.store.layout import CURATE, DEDUP, MINHASH, SIGNALS, SourceStore, list_sources
from corpuskit.store.lock import SourceBusy, source_lock, source_locks
from corpuskit.store.read import (
    IncompleteSource,
    current_attribute_files,
    doc_records,
    require_complete,
    scan_documents,
    scan_file,
    stale_sets,
)

__all__ = [
    "CURATE",
    "DEDUP",
    "MINHASH",
    "SIGNALS",
    "FileRecord",
    "IncompleteSource",
    "Part",
    "SourceBusy",
    "SourceStore",
    "atomic_write_json",
    "atomic_write_parquet",
    "attribute_current",
    "current_attribute_files",
    "doc_records",
    "document_files",
    "list_parts",
    "list_sources",
    "read_json",
    "remove_temp_files",
    "require_complete",
    "scan_documents",
    "scan_file",
    "source_lock",
    "source_locks",
    "stale_sets",
    "write_attributes",
]
