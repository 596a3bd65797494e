"""A corpus root that is a local folder or a URL (``s3://bucket/corpus``, ``gs://``, ``memory://``, ...).

:func:`local_corpus` gives every stage a local folder to work in. For a local root that is the folder
itself. For a URL it is a **working copy** under the cache (``$CORPUSKIT_CACHE_DIR/corpora/<hash>-<name>``):

- a writer takes each written source's lock object (:mod:`corpuskit.store.remote_lock`), then every
  source it touches is pulled: only committed units, each file checked against its record;
- while the stage runs, each unit it commits is pushed at once (files, then the record:
  :mod:`corpuskit.store.mirrors`); when it ends (also on an error or Ctrl-C) the rest is synced
  (:mod:`corpuskit.store.sync`) and the locks are released.

The cost: local disk for the sources a command touches (their documents and attribute sets), and the
time to pull what the working copy does not already hold (a rerun on the same machine reuses it).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from corpuskit.store import mirrors
from corpuskit.store.layout import SourceStore, corpus_files, list_sources
from corpuskit.store.lock import source_locks
from corpuskit.store.remote import RemoteCorpus, default_cache_dir, is_remote, working_copy
from corpuskit.store.remote_lock import remote_lock


def corpus_sources(root: str | Path) -> list[str]:
    """The sources of a corpus, local or remote (one listing; nothing is pulled)."""
    if not is_remote(str(root)):
        return list_sources(root)
    url = str(root)
    return RemoteCorpus(url, working_copy(default_cache_dir(), url)).sources()


def remote_path(root: str | Path, where: Callable[[Path], Path]) -> str | Path:
    """A layout path (``where(corpus)``) as a person should see it: under the URL for a remote corpus."""
    if not is_remote(str(root)):
        return where(Path(root))
    return f"{str(root).rstrip('/')}/{where(Path('.')).as_posix()}"


@contextlib.contextmanager
def local_corpus(
    root: str | Path,
    command: str,
    *,
    write: Sequence[str] = (),
    read: Sequence[str] | None = (),
    wait: bool = False,
) -> Iterator[Path]:
    """A local folder holding the corpus ``root`` for the ``with`` block.

    ``write``: sources the command writes (locked, pulled, pushed back); ``read``: sources it only reads
    (pulled), ``None`` for every source of the corpus. A local ``root`` is yielded as it is (the stages
    take their own locks)."""
    if not is_remote(str(root)):
        yield Path(root)
        return
    url = str(root)
    remote = RemoteCorpus(url, working_copy(default_cache_dir(), url))
    remote.local.mkdir(parents=True, exist_ok=True)
    readers = remote.sources() if read is None else list(read)
    names = sorted({*write, *readers})
    if read is None:  # every source: drop working-copy sources the remote no longer has
        for p in remote.local.iterdir():
            if p.is_dir() and not p.name.startswith("_") and p.name not in names:
                shutil.rmtree(p)
    writers = [SourceStore(remote.local, s) for s in sorted(set(write))]
    shared = [SourceStore(remote.local, s) for s in names if s not in set(write)]
    with contextlib.ExitStack() as stack:
        stack.enter_context(source_locks(writers, command, wait=wait, shared=shared))
        for s in writers:
            stack.enter_context(remote_lock(remote, s.name, command, wait=wait))
        for s in names:
            remote.pull(s)
        _pull_corpus_files(remote)
        if not writers:
            yield remote.local
            return
        mirrors.register(remote.local, remote)
        try:
            yield remote.local
        except BaseException:
            mirrors.unregister(remote.local)
            with contextlib.suppress(Exception):  # what is committed locally still goes up, in order
                _push(remote, writers)
            raise
        mirrors.unregister(remote.local)
        _push(remote, writers)


def _push(remote: RemoteCorpus, writers: list[SourceStore]) -> None:
    for s in writers:
        remote.sync(s.name)
    for path in corpus_files(remote.local):
        rel = remote.rel(path)
        if path.is_file() and remote.known.get(rel) != (path.stat().st_size, _digest(path)):
            remote.upload(path)


def _digest(path: Path) -> str:
    from corpuskit.store.atomic import file_digest

    return file_digest(path)


def _pull_corpus_files(remote: RemoteCorpus) -> None:
    """Corpus-wide files (the overlap matrix): pulled as they are, or removed from the copy if gone."""
    for path in corpus_files(remote.local):
        rel = remote.rel(path)
        data = remote.cat(rel)
        if data is None:
            path.unlink(missing_ok=True)
        else:
            from corpuskit.store.atomic import atomic_write_bytes

            atomic_write_bytes(path, data)
            remote.known[rel] = (len(data), _digest(path))
