"""Throughput and peak memory of the forum and book connectors on the shared samples, scaled up.

For each connector (stackexchange, also from a .7z, reddit, mbox, gutenberg, epub) the real samples in
../shared/data are repeated, with ids rewritten so every copy is a distinct thread / post / message,
until the input is at least ``--target-mb`` (default 100 MB; ``--quick``: 20 MB), and a quarter-size
input is built the same way.
Each (connector, size) runs in a fresh subprocess that reads its input with the connector (no Parquet
writing: this measures the connector) and reports wall time, documents, skips and its own peak RSS
(see :func:`peak_rss_kb`). Peak RSS at the two sizes shows whether memory grows
with the input. No peer ships these connectors, so there is no peer ratio.

    python benchmarks/ingest_sources.py            # ~100 MB per connector, a few minutes on 2 cores
    python benchmarks/ingest_sources.py --quick    # ~20 MB
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import zstandard

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
KINDS = ("stackexchange", "stackexchange-7z", "reddit", "mbox", "gutenberg", "epub")
MB = 1_000_000


# ------------------------------------------------------------------------------------------ scaled inputs


def _se_rows() -> list[bytes]:
    rows = []
    for f in (
        "beer.stackexchange.com_Posts.xml",
        "coffee.stackexchange.com_Posts.xml",
        "conlang_full_dump/Posts.xml",
    ):
        rows += [
            ln.strip()
            for ln in (DATA / "forums/stackexchange" / f).read_bytes().splitlines()
            if b"<row" in ln
        ]
    return rows


_SE_IDS = re.compile(rb'\b(Id|ParentId|AcceptedAnswerId)="(\d+)"')


def build_stackexchange(out: Path, target: int) -> list[Path]:
    rows, path, size, k = _se_rows(), out / "bench.stackexchange.com_Posts.xml", 0, 0
    with open(path, "wb") as fh:
        fh.write(b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
        while size < target:
            shift = k * 10_000_000
            for row in rows:  # copy k: every id shifted, so copies are distinct threads
                line = _SE_IDS.sub(lambda m, s=shift: b'%s="%d"' % (m.group(1), int(m.group(2)) + s), row)
                size += fh.write(b"  " + line + b"\n")
            k += 1
        fh.write(b"</posts>\n")
    return [path]


def build_stackexchange_7z(out: Path, target: int) -> list[Path]:
    """The same Posts.xml in a .7z archive, as Stack Exchange publishes dumps (read without extracting)."""
    import py7zr

    xml = build_stackexchange(out, target)[0]
    archive = out / "bench.stackexchange.com.7z"
    with py7zr.SevenZipFile(archive, "w", filters=[{"id": py7zr.FILTER_LZMA2, "preset": 1}]) as z:
        z.write(xml, "Posts.xml")
    xml.unlink()
    return [archive]


def _reddit_objects(name: str) -> list[dict]:
    with gzip.open(DATA / "forums/reddit" / name, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def build_reddit(out: Path, target: int) -> list[Path]:
    subs, coms = (
        _reddit_objects("praw_cassettes_submissions.jsonl.gz"),
        _reddit_objects("praw_cassettes_comments.jsonl.gz"),
    )
    size, k = 0, 0
    with (
        open(out / "RS_bench.jsonl.zst", "wb") as rs_raw,
        open(out / "RC_bench.jsonl.zst", "wb") as rc_raw,
        zstandard.ZstdCompressor(level=3).stream_writer(rs_raw) as rs,  # one compressor per stream
        zstandard.ZstdCompressor(level=3).stream_writer(rc_raw) as rc,
    ):
        while size < target:
            sfx = f"k{k}"
            for s in subs:
                line = json.dumps({**s, "id": s["id"] + sfx, "name": s["name"] + sfx}).encode() + b"\n"
                rs.write(line)
                size += len(line)
            for c in coms:
                c2 = {**c, "id": c["id"] + sfx, "name": c["name"] + sfx, "link_id": c["link_id"] + sfx}
                c2["parent_id"] = c["parent_id"] + sfx
                line = json.dumps(c2).encode() + b"\n"
                rc.write(line)
                size += len(line)
            k += 1
    return [out / "RS_bench.jsonl.zst"]  # the RC_ file beside it is paired by name


_MSGID = re.compile(rb"<([^<>\s@]+@[^<>\s]+)>")


def build_mbox(out: Path, target: int) -> list[Path]:
    raw = b"".join(
        (p.read_bytes().rstrip(b"\n") + b"\n\n")
        for p in sorted((DATA / "forums/mailing_lists").glob("*.mbox"))
    )
    path, size, k = out / "bench.mbox", 0, 0
    with open(path, "wb") as fh:
        while size < target:
            size += fh.write(_MSGID.sub(lambda m, k=k: b"<k%d.%s>" % (k, m.group(1)), raw))
            k += 1
    return [path]


def build_gutenberg(out: Path, target: int) -> list[Path]:
    books = sorted((DATA / "books").glob("*.txt"))
    paths, size, k = [], 0, 0
    while size < target:
        for b in books:
            p = out / f"{k:03d}_{b.name}"
            shutil.copyfile(b, p)
            paths.append(p)
            size += p.stat().st_size
        k += 1
    return paths


def _epub_from_book(book: Path, dest: Path) -> None:
    """An EPUB 3 of a Gutenberg text: paragraphs as XHTML <p>, ~50 KB per chapter."""
    raw = book.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    paras = [p.strip() for p in re.split(r"\r?\n\s*\r?\n", text) if p.strip()]
    chapters, cur, n = [], [], 0
    for p in paras:
        esc = p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        cur.append(f"<p>{esc}</p>")
        n += len(esc)
        if n > 50_000:
            chapters.append(cur)
            cur, n = [], 0
    chapters.append(cur)
    items = "".join(
        f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
        for i in range(len(chapters))
    )
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{book.stem}</dc:title></metadata>'
        f"<manifest>{items}</manifest><spine>{spine}</spine></package>"
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", container)
        z.writestr("OEBPS/content.opf", opf)
        for i, ch in enumerate(chapters):
            body = "".join(ch)
            z.writestr(
                f"OEBPS/c{i}.xhtml", f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>'
            )


def build_epub(out: Path, target: int) -> list[Path]:
    seeds = []
    for b in sorted((DATA / "books").glob("*.txt")):
        seeds.append(out / f"seed_{b.stem}.epub")
        _epub_from_book(b, seeds[-1])
    paths, size, k = [], 0, 0
    while size < target:  # size counted as decompressed XHTML, comparable with the other kinds
        for s in seeds:
            p = out / f"{k:03d}_{s.name}"
            shutil.copyfile(s, p)
            paths.append(p)
            with zipfile.ZipFile(p) as z:
                size += sum(i.file_size for i in z.infolist())
        k += 1
    for s in seeds:
        s.unlink()
    return paths


BUILDERS = {
    "stackexchange": build_stackexchange,
    "stackexchange-7z": build_stackexchange_7z,
    "reddit": build_reddit,
    "mbox": build_mbox,
    "gutenberg": build_gutenberg,
    "epub": build_epub,
}


def input_bytes(kind: str, paths: list[Path]) -> int:
    """Bytes the connector parses: decompressed for .zst (both RS_ and RC_) and EPUB members."""
    total = 0
    for p in paths:
        if kind == "reddit":
            for f in (p, p.with_name(p.name.replace("RS_", "RC_"))):
                with open(f, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as r:
                    while chunk := r.read(1 << 22):
                        total += len(chunk)
        elif kind == "stackexchange-7z":
            import py7zr

            with py7zr.SevenZipFile(p) as z:
                total += sum(f.uncompressed for f in z.list())
        elif kind == "epub":
            with zipfile.ZipFile(p) as z:
                total += sum(i.file_size for i in z.infolist())
        else:
            total += p.stat().st_size
    return total


# ------------------------------------------------------------------------------------------ the measured run


def peak_rss_kb() -> int:
    """This process's peak RSS in KiB.

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is used where it is exact; on Linux it is not for a child
    process, which inherits the parent's high-water mark at fork (kept across exec), so there the
    kernel's per-address-space ``VmHWM`` (reset by exec) is read instead.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


def worker(kind: str, paths: list[str]) -> None:
    """Run in a fresh process: read every input with the connector, print one JSON line."""
    from corpuskit.connectors.base import Record, get_connector_class

    cls = get_connector_class(kind)
    connector = cls(cls.Options())
    docs = skips = text_bytes = 0
    t0 = time.perf_counter()
    for p in paths:
        for item in connector.read(Path(p), p):
            if isinstance(item, Record):
                docs += 1
                text_bytes += len(item.text.encode("utf-8"))
            else:
                skips += 1
    seconds = time.perf_counter() - t0
    rss_kb = peak_rss_kb()
    print(
        json.dumps(
            {"docs": docs, "skips": skips, "text_bytes": text_bytes, "seconds": seconds, "rss_kb": rss_kb}
        )
    )


def measure(kind: str, paths: list[Path]) -> dict:
    list_file = paths[0].parent / "inputs.json"
    list_file.write_text(json.dumps([str(p) for p in paths]))
    cmd = [sys.executable, __file__, "--worker", kind.split("-")[0], str(list_file)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20 MB instead of 100 MB per connector")
    ap.add_argument("--target-mb", type=float, default=None)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "INPUTS_JSON"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], json.loads(Path(args.worker[1]).read_text()))
        return
    if not DATA.is_dir():
        sys.exit(f"shared sample data not found at {DATA}")
    target = int((args.target_mb or (20 if args.quick else 100)) * MB)
    sizes = {"small": target // 4, "large": target}
    print(
        f"corpuskit connector benchmark: 1 process per run (single worker), target input {target / MB:.0f} MB"
    )
    print(f"{'connector':<17}{'size':>6}{'input MB':>10}{'docs':>9}{'skips':>8}{'s':>8}{'docs/s':>10}"
          f"{'MB/s':>8}{'peak RSS MiB':>14}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="corpuskit-bench-") as tmp:
        for kind in args.kinds.split(","):
            rss = {}
            for label, size in sizes.items():
                d = Path(tmp) / f"{kind}-{label}"
                d.mkdir()
                paths = BUILDERS[kind](d, size)
                nbytes = input_bytes(kind, paths)
                r = measure(kind, paths)
                rss[label] = r["rss_kb"] / 1024
                mbps, dps = nbytes / MB / r["seconds"], r["docs"] / r["seconds"]
                line = f"{kind:<17}{label:>6}{nbytes / MB:>10.1f}{r['docs']:>9}{r['skips']:>8}"
                print(f"{line}{r['seconds']:>8.1f}{dps:>10.0f}{mbps:>8.1f}{rss[label]:>14.0f}", flush=True)
                shutil.rmtree(d)
            small, large = rss["small"], rss["large"]
            print(
                f"{'':<14}peak RSS {small:.0f} -> {large:.0f} MiB for 4x the input ({large - small:+.0f} MiB)"
            )
    print("MB = 10^6 bytes of parsed input (decompressed .7z / .zst / EPUB members); one process per run.")


if __name__ == "__main__":
    main()
