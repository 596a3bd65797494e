"""The per-source manifest: config and its hash, versions, per-input counts, totals, errors by reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from corpuskit.config import SourceConfig
from corpuskit.documents import package_versions
from corpuskit.ingest.inputs import ingest_settings
from corpuskit.store import SourceStore, atomic_write_json

if TYPE_CHECKING:
    from corpuskit.ingest import IngestSummary


def write_source_manifest(cfg: SourceConfig, summary: IngestSummary) -> Path:
    """Manifest per source: config + hash, versions, per-input counts, totals and errors by reason."""
    errors = summary.errors
    manifest = {
        "source": cfg.name,
        "kind": cfg.kind,
        "config_hash": cfg.config_hash(),
        "settings": ingest_settings(cfg),
        "config": cfg.model_dump(mode="json", exclude={"config_path"}),
        "config_path": str(cfg.config_path) if cfg.config_path else None,
        "versions": package_versions(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": summary.documents,
        "bytes_in": sum(r.bytes_in for r in summary.results),
        "bytes_text": sum(r.bytes_text for r in summary.results),
        "inputs": [
            {
                "uri": r.uri,
                "key": r.key,
                "documents": r.documents,
                "errors": dict(sorted(r.errors.items())),
                **({"failed": str(r.failed)} if r.failed else {}),
            }
            for r in summary.results
        ],
        "failed_inputs": len(summary.failed),
        "errors_by_reason": dict(sorted(errors.items())),
        "error_examples": [ex for r in summary.results for ex in r.error_examples][:100],
    }
    path = SourceStore(summary.corpus, cfg.name).manifest
    atomic_write_json(path, manifest)
    return path
