"""What every connector yields, and the registry that maps a config ``kind`` to a connector.

A connector turns one local input (a file, or a folder for kinds that say so) into a stream of
:class:`Record` (a document) and :class:`Skip` (something not turned into a document, with its reason).
It never raises for bad data inside a file: it yields a ``Skip`` and goes on, or stops the file after
yielding a ``Skip`` when the rest cannot be read (e.g. truncated gzip) — records before it are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict


@dataclass
class Record:
    text: str
    locator: str  # where in the input this record is, e.g. "offset=1234", "question=42"; unique per input
    url: str | None = None
    created: datetime | None = None  # timezone-aware (UTC) when known
    metadata: dict[str, Any] = field(default_factory=dict)


#: The one reason for "the input stops early" (a cut gzip/zstd/bz2/7z stream, a partial download), whatever
#: the connector: every complete record before the cut is kept, and the skip says where reading stopped.
TRUNCATED = "truncated_input"


@dataclass
class Skip:
    reason: str  # short snake_case reason counted in summaries, e.g. "non_html", "malformed_record"
    locator: str
    detail: str = ""  # human-readable explanation (exception text, status code, ...)


class Options(BaseModel):
    """Base for kind-specific options: unknown keys are errors so typos are caught."""

    model_config = ConfigDict(extra="forbid")


OptionsT = TypeVar("OptionsT", bound=Options)


class Connector(Generic[OptionsT]):
    """Subclass as ``Connector[XOptions]`` (that sets ``Options`` and types ``self.options``), set ``kind``
    (that registers the class under it) and implement :meth:`read`."""

    kind: ClassVar[str]
    Options: ClassVar[type[Options]] = Options  # the options model a config's ``options:`` is validated by
    accepts_directories: ClassVar[bool] = False  # True when an input may be a folder (e.g. an SE dump)
    default_patterns: ClassVar[tuple[str, ...]] = ()  # file patterns searched when an input is a folder
    requires: ClassVar[tuple[tuple[str, str], ...]] = ()  # (module, distribution) imported while reading
    options: OptionsT

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            if get_origin(base) is Connector:
                (cls.Options,) = get_args(base)
        if "kind" in cls.__dict__:  # a kind of its own, not one inherited
            register(cls)

    def __init__(self, options: OptionsT | None = None):
        self.options = options if options is not None else cast(OptionsT, self.Options())

    def read(self, path: Path, uri: str) -> Iterator[Record | Skip]:
        """Stream records from one local input. ``uri`` is the input as the user named it."""
        raise NotImplementedError

    def worker_modules(self) -> tuple[str, ...]:
        """Modules a worker imports to read this kind, none of which starts a thread when imported: a
        local pool's fork server imports them once for all its workers (tests/store check they start none)."""
        return (type(self).__module__,)

    def check_environment(self) -> None:
        """Raise :class:`~corpuskit.environment.EnvironmentProblem` when a library this connector needs
        with these options is broken. Ingest calls it before reading any input."""
        from corpuskit.environment import require_module

        for module, dist in self.requires:
            require_module(module, dist)


# kind -> module that defines it; imported lazily so `corpuskit --help` stays fast.
_KIND_MODULES: dict[str, str] = {
    "warc": "corpuskit.connectors.warc",
    "html": "corpuskit.connectors.html",
    "jsonl": "corpuskit.connectors.text",
    "parquet": "corpuskit.connectors.text",
    "stackexchange": "corpuskit.connectors.stackexchange",
    "reddit": "corpuskit.connectors.reddit",
    "mbox": "corpuskit.connectors.mbox",
    "gutenberg": "corpuskit.connectors.gutenberg",
    "epub": "corpuskit.connectors.epub",
}
_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Map ``cls.kind`` to ``cls``; every subclass that sets ``kind`` is registered so when defined."""
    _REGISTRY[cls.kind] = cls
    return cls


def known_kinds() -> list[str]:
    return sorted(set(_KIND_MODULES) | set(_REGISTRY))


def get_connector_class(kind: str) -> type[Connector]:
    """The connector class for ``kind``; raises KeyError with the known kinds when unknown."""
    if kind not in _REGISTRY and kind in _KIND_MODULES:
        from corpuskit.environment import require_module

        require_module(_KIND_MODULES[kind], "corpuskit")  # a missing library it imports: EnvironmentProblem
    if kind not in _REGISTRY:
        raise KeyError(f"unknown kind {kind!r}; known kinds: {', '.join(known_kinds())}")
    return _REGISTRY[kind]
