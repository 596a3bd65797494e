"""Working copies of remote corpora that this process is mirroring: commits tell the mirror at once.

:func:`corpuskit.store.corpus_root.local_corpus` registers a local working copy with the
:class:`~corpuskit.store.remote.RemoteCorpus` it mirrors. The commit functions of
:mod:`corpuskit.store.commits` then call :func:`committed` after writing a commit record (the mirror
pushes the unit's files, then the record) and :func:`retracting` before removing one (the mirror deletes
the remote record first), so the remote corpus follows unit by unit, not only when the command ends.
A corpus that is not a working copy is not in the registry and these calls do nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corpuskit.store.layout import SourceStore

_mirrors: dict[Path, Any] = {}  # working copy (resolved) -> RemoteCorpus


def register(local: Path, remote: Any) -> None:
    _mirrors[Path(local).resolve()] = remote


def unregister(local: Path) -> None:
    _mirrors.pop(Path(local).resolve(), None)


def _mirror(store: SourceStore) -> Any | None:
    if not _mirrors:
        return None
    return _mirrors.get(Path(store.corpus).resolve())


def committed(store: SourceStore, record: Path) -> None:
    """A commit record was just written: push its unit (files first, the record last)."""
    if (m := _mirror(store)) is not None:
        m.push_record(store, record)


def retracting(store: SourceStore, record: Path) -> None:
    """A commit record is about to be removed: the remote one goes first."""
    if (m := _mirror(store)) is not None:
        m.retract_record(record)
