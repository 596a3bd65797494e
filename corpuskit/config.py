"""Source configs (``sources/*.yaml``): pydantic models and YAML loading with located, actionable errors.

A bad config must never produce a traceback: :func:`load_source_config` raises :class:`ConfigError`
whose message names the file, the key and what to do; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator

from corpuskit.configs import (  # re-exported: the names stages used before the leaf module existed
    ConfigError,
    CorpusRoot,
    Strict,
    format_validation_error,
    load_yaml,
    validate,
)
from corpuskit.connectors.base import get_connector_class, known_kinds

__all__ = [
    "ConfigError",
    "FetchConfig",
    "SourceConfig",
    "Strict",
    "format_validation_error",
    "load_source_config",
    "load_yaml",
    "validate",
]


class FetchConfig(Strict):
    """How http(s) and object-storage inputs are downloaded (see :mod:`corpuskit.connectors.fetch`)."""

    cache_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("CORPUSKIT_CACHE_DIR") or ".corpuskit-cache"),
        description="where downloads are kept and resumed ($CORPUSKIT_CACHE_DIR or .corpuskit-cache)",
    )
    timeout_s: float = Field(60.0, gt=0, description="connect/read timeout per request")
    retries: int = Field(5, ge=0, description="retries with exponential backoff on network errors / 5xx")
    max_bytes: int = Field(20 * 1024**3, gt=0, description="refuse downloads larger than this")
    deadline_s: float = Field(
        6 * 3600.0, gt=0, description="give up on one input after this long, all attempts together"
    )
    sha256: dict[str, str] = Field(
        default_factory=dict,
        description="URL -> expected sha256 (hex) of the download; a mismatch is a failed input",
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        description="fsspec options for s3:// (any fsspec URL) inputs, e.g. endpoint_url; checked against "
        "the filesystem's parameters; credentials come from the environment, never the config",
    )


class SourceConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="source name; folder name in the corpus")
    kind: str
    inputs: list[str] = Field(min_length=1, description="local paths, globs, http(s) or s3:// (fsspec) URLs")
    output: CorpusRoot = Field(
        Path("corpus"),
        description="corpus folder or URL (s3://bucket/corpus); documents go to <output>/<name>/",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="kind-specific options")
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    curate: dict[str, Any] | None = None  # validated by corpuskit.curate when that stage runs
    dedup: dict[str, Any] | None = None  # validated by corpuskit.curate.dedup when that stage runs

    # set by the loader: where the config came from, to resolve relative paths and name it in errors
    config_path: Path | None = Field(None, exclude=True)
    # set by the loader: the curate:/dedup: sections validated and resolved once (see curate_config)
    _curate: Any = PrivateAttr(None)
    _dedup: Any = PrivateAttr(None)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        from corpuskit.store.layout import check_source_name

        return check_source_name(v)

    @field_validator("fetch")
    @classmethod
    def _storage_options_fit_the_inputs(cls, v: FetchConfig, info: ValidationInfo) -> FetchConfig:
        from corpuskit.connectors.objectstore import check_storage_options

        try:
            check_storage_options(info.data.get("inputs") or [], v.storage_options)
        except ValueError as e:
            raise ValueError(f"storage_options: {e}") from None
        return v

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in known_kinds():
            raise ValueError(f"unknown kind {v!r}; use one of: {', '.join(known_kinds())}")
        return v

    def connector_options(self) -> Any:
        """The options validated against the connector's own model (raises pydantic ValidationError)."""
        return get_connector_class(self.kind).Options.model_validate(self.options)

    def config_hash(self) -> str:
        """Hash of everything that shapes the output (not where the config file lives)."""
        blob = json.dumps(self.model_dump(mode="json", exclude={"config_path"}), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def base_dir(self) -> Path:
        return self.config_path.parent if self.config_path else Path.cwd()


def load_source_config(path: Path | str) -> SourceConfig:
    """Load and validate one source config, including the connector's own options."""
    p = Path(path)
    data = load_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a source config must be a mapping with keys name, kind, inputs, ...")
    cfg = validate(SourceConfig, data, p)
    cfg.config_path = p.resolve()
    validate(get_connector_class(cfg.kind).Options, cfg.options, p, prefix=("options",))
    _check_stage_sections(cfg, p)
    return cfg


def _check_stage_sections(cfg: SourceConfig, path: Path) -> None:
    """Validate and resolve the ``curate:`` and ``dedup:`` sections once, now, so a typo there fails at
    load, not hours later when that stage runs (their models live with their stages)."""
    from corpuskit.curate.config import resolve_curate_config
    from corpuskit.dedup.config import load_dedup_config

    cfg._curate = resolve_curate_config(cfg)
    cfg._dedup = load_dedup_config(cfg.dedup, path) if cfg.dedup is not None else None
