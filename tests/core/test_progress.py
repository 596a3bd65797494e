"""The one progress protocol: stages count on a Reporter's meters; the CLI's Shown prints lines off a tty."""

from __future__ import annotations

from corpuskit.config import load_source_config
from corpuskit.ingest import ingest
from corpuskit.progress import Meter, Reporter
from tests.ingest.test_ingest import make_config, make_jsonl_inputs


class Recorder(Reporter):
    def __init__(self) -> None:
        self.meters: dict[str, list[float]] = {}
        self.totals: dict[str, float | None] = {}

    def meter(self, description: str, unit: str = "docs", total: float | None = None) -> Meter:
        rec = self

        class _M(Meter):
            def set_total(self, n: float | None) -> None:
                rec.totals[description] = n

            def advance(self, n: float = 1) -> None:
                rec.meters[description].append(n)

        self.meters[description], self.totals[description] = [], total
        return _M()


def test_ingest_counts_inputs_and_documents_on_the_reporter(tmp_path):
    make_jsonl_inputs(tmp_path / "data", files=3, lines=40)
    cfg = load_source_config(make_config(tmp_path))
    rec = Recorder()
    summary = ingest(cfg, workers=1, progress=rec)
    inputs = next(k for k in rec.meters if k.endswith("inputs"))
    docs = next(k for k in rec.meters if k.endswith("documents"))
    assert rec.totals[inputs] == 3 and sum(rec.meters[inputs]) == 3
    assert sum(rec.meters[docs]) == sum(r.documents for r in summary.results) > 0
