"""``corpuskit doctor``: every check of :mod:`corpuskit.environment`, plus what given source configs need.

The general checks cover every stage; a config adds its own: its connector's libraries and extractor, its
curation's language-ID and quality models (paths as the config resolves them).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from corpuskit.environment import CHECKS, Check, EnvironmentProblem, run_checks


def config_checks(path: Path) -> list[Check]:
    """The checks one source config needs (loading the config is itself a check)."""
    from corpuskit.config import ConfigError, load_source_config

    def load() -> Any:
        try:
            return load_source_config(path)
        except ConfigError as e:
            raise EnvironmentProblem(str(path), str(e).splitlines()[0], "fix the config") from None

    def connector() -> str:
        from corpuskit.connectors.base import get_connector_class

        cfg = load()
        get_connector_class(cfg.kind)(cfg.connector_options()).check_environment()
        extractor = cfg.options.get("extractor")
        return f"kind {cfg.kind}" + (f", extractor {extractor}" if extractor else "")

    def curation() -> str:
        from corpuskit.curate.config import curate_config
        from corpuskit.curate.pipeline import check_curate_environment

        cfg = load()
        cc = curate_config(cfg)
        check_curate_environment(cc)
        models = []
        if cc.langid is not None:
            models.append(f"langid {cc.langid.model or 'lid.176.ftz'}")
        if cc.quality is not None:
            models.append(f"quality {cc.quality.model}")
        return ", ".join(models) or "no models"

    name = path.name
    return [Check(f"{name}: ingest", "ingest", connector), Check(f"{name}: curate", "curate", curation)]


def doctor_rows(configs: list[Path]) -> tuple[list[tuple[str, str, str, str]], list[str]]:
    """Table rows (check, needed by, status, detail) and one line per required problem."""
    checks = [Check("python", "everything", lambda: platform.python_version()), *CHECKS]
    for c in configs:
        checks += config_checks(Path(c))
    rows, problems = [], []
    for r in run_checks(checks):
        if r.ok:
            status = "ok"
        elif r.check.required:
            status = "BROKEN"
            problems.append(f"{r.check.name} ({r.check.needed_by}): {r.detail}")
        else:
            status = "optional: unavailable"
        rows.append((r.check.name, r.check.needed_by, status, r.detail))
    return rows, problems
