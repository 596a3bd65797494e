"""Build mixtures: held-out split -> decontamination -> token-share sampling -> shards + manifest.

One study (several mixtures) shares the corpus reading, the tokenizer and the held-out sets. For each
mixture and source, kept documents (not held out) are visited in a seeded order; each batch is
decontaminated, tokenized and appended to a token cache until the source's token target is covered
(so a 1% share of a huge source tokenizes ~1% of it). If the pool runs out first, the source is repeated:
whole epochs, each in its own seeded order, plus a prefix of one more order; the last document is cut
so every source gives exactly its target and the mixture exactly its budget. Documents of all sources
are then interleaved by a seeded hash and gathered from the cache into shards with numpy index arrays.

Everything is written into a staging folder that replaces the output folder at the end, and the
manifest holds no timestamps or host paths of the output, so the same inputs + seed give the same bytes.
"""

from __future__ import annotations

import math
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from corpuskit.documents import package_versions
from corpuskit.mix.config import DecontamSettings, MixtureConfig, StudyConfig
from corpuskit.mix.decontam import Decontaminator
from corpuskit.mix.heldout import HeldoutSettings, HeldoutSplit, split_heldout, write_heldout
from corpuskit.mix.sampler import (
    DEFAULT_MAX_EPOCHS,
    MixError,
    SourcePlan,
    _salt,
    _splitmix64,
    check_repetition,
    id_keys,
    normalise_weights,
    parse_tokens,
    seeded_order,
    split_budget,
)
from corpuskit.mix.shards import ShardWriter, dtype_for_vocab, write_manifest
from corpuskit.mix.tokenizer import ByteTokenizer, HFTokenizer, load_tokenizer
from corpuskit.store import list_sources, scan_documents
from corpuskit.store.atomic import atomic_write_bytes
from corpuskit.store.outputs import check_output_dir

BATCH_BYTES = 4_000_000  # text per tokenize/decontaminate batch: bounds memory, keeps all cores busy
BATCH_DOCS = 2048
GATHER_TOKENS = 16_000_000  # tokens gathered per write step
ESTIMATE_SAMPLE_BYTES = 1_000_000  # dry run: text tokenized per source to estimate tokens per byte

Progress = Callable[[int], None]  # called with newly covered tokens


@dataclass
class Pool:
    """A source's training pool: kept documents minus its held-out set, sorted by id."""

    source: str
    docs: pl.DataFrame  # id, text
    heldout: HeldoutSplit
    kept_documents: int

    @property
    def bytes(self) -> int:
        return int(self.docs["text"].str.len_bytes().sum() or 0)


def load_pools(corpus: Path, settings: HeldoutSettings, sources: list[str] | None = None) -> dict[str, Pool]:
    """Read kept documents of every source and split off the held-out sets (nothing written yet)."""
    from corpuskit.store import SourceStore, require_complete

    pools = {}
    for source in sources if sources is not None else list_sources(corpus):
        # a mixture is only as trustworthy as its inputs: no failed inputs, no decisions older than the text
        require_complete(corpus, source, stage="mix", sets=SourceStore(Path(corpus), source).attribute_sets())
        docs = (
            scan_documents(corpus, source, kept_only=True)
            .select("id", "text")
            .collect()
            .unique("id", keep="first", maintain_order=True)
            .sort("id")
        )
        split = split_heldout(source, docs, settings)
        train = docs.filter(~pl.col("id").is_in(split.ids.implode()))
        pools[source] = Pool(source, train, split, docs.height)
    return pools


def write_heldout_sets(pools: dict[str, Pool], directory: Path, rel_prefix: str) -> dict[str, Any]:
    """Write every held-out set as ``<directory>/<source>.jsonl``; returns the manifest ``heldout`` block."""
    out = {}
    for source, pool in sorted(pools.items()):
        entry = write_heldout(pool.heldout, directory / f"{source}.jsonl")
        out[source] = {"path": f"{rel_prefix}{source}.jsonl", **entry}
    return out


def make_decontaminator(pools: dict[str, Pool], settings: DecontamSettings) -> Decontaminator | None:
    if not settings.enabled:
        return None
    texts = (
        pl.concat([p.heldout.frame["text"] for p in pools.values()]) if pools else pl.Series([], pl.String)
    )
    return Decontaminator(texts, settings.ngram)


def balanced_sample(pools: dict[str, Pool], sample_bytes: int, seed: int) -> dict[str, list[str]]:
    """Tokenizer training text: ``sample_bytes / n_sources`` from each source's pool, in seeded order.

    Balanced so a large web source does not shape the vocabulary of every other source (the last document
    is cut to the byte); a source with less text than its share gives all it has (its unused share is not
    moved to the others).
    """
    per_source = sample_bytes // max(len(pools), 1)
    out = {}
    for source, pool in sorted(pools.items()):
        order = seeded_order(pool.docs["id"], "tokenizer", seed, source)
        lengths = pool.docs["text"].str.len_bytes().to_numpy()[order]
        before = np.cumsum(lengths) - lengths
        take = order[before < per_source]
        texts = pool.docs["text"][take].to_list()
        if texts:  # cut the last document so every source gives the same number of bytes
            room = per_source - int(before[len(take) - 1])
            texts[-1] = texts[-1].encode("utf-8")[:room].decode("utf-8", errors="ignore")
        out[source] = texts
    return out


# ---------------------------------------------------------------------------------------------- planning


def pool_tokens(pool: Pool, tokenizer: ByteTokenizer | HFTokenizer, seed: int) -> tuple[int, bool]:
    """Tokens in the pool counting one end-of-text per document: exact for bytes, else an estimate."""
    n_bytes, n_docs = pool.bytes, pool.docs.height
    if isinstance(tokenizer, ByteTokenizer) or n_docs == 0:
        return n_bytes + n_docs, True
    order = seeded_order(pool.docs["id"], "estimate", seed, pool.source)
    lengths = pool.docs["text"].str.len_bytes().to_numpy()[order]
    take = order[: max(1, int(np.searchsorted(np.cumsum(lengths), ESTIMATE_SAMPLE_BYTES)) + 1)]
    sample = pool.docs["text"][take].to_list()
    _, counts = tokenizer.encode_concat(sample)
    sample_bytes = sum(len(t.encode("utf-8")) for t in sample)
    if len(take) == n_docs:
        return int(counts.sum()) + n_docs, True
    return int(round(n_bytes * counts.sum() / max(sample_bytes, 1))) + n_docs, False


def plan_mixture(
    mix: MixtureConfig,
    pools: dict[str, Pool],
    available: dict[str, tuple[int, bool]],
) -> tuple[list[SourcePlan], list[str]]:
    """Token targets per source from the weights; raises :class:`MixError` for impossible requests."""
    weights, warnings = normalise_weights(mix.weights, sorted(pools))
    targets = split_budget(weights, mix.tokens)
    plans = [SourcePlan(s, weights[s], targets[s], *available[s]) for s in sorted(weights) if targets[s] > 0]
    return plans, warnings


def plan_rows(plans: list[SourcePlan], max_epochs: float) -> list[list[Any]]:
    rows = []
    for p in plans:
        status = "ok" if p.epochs <= max_epochs else f"> {max_epochs:g} epochs"
        avail = p.available if p.exact else f"~{p.available:,}"
        rows.append([p.source, round(p.weight, 4), p.target, avail, round(p.epochs, 3), status])
    return rows


PLAN_COLUMNS = ["source", "weight", "tokens needed", "tokens available", "epochs", "status"]


# ---------------------------------------------------------------------------------------------- drawing


@dataclass
class Drawn:
    """Documents one source contributes: cache spans in draw order, plus accounting for the manifest."""

    source: str
    starts: np.ndarray  # int64 cache offsets
    lengths: np.ndarray  # int64 tokens taken, end-of-text included
    truncated: np.ndarray  # bool: cut short (the last document of the remainder)
    ids: np.ndarray  # document id per entry
    keys: np.ndarray  # uint64 interleaving key per entry
    stats: dict[str, Any] = field(default_factory=dict)


class TokenCache:
    """Append-only flat token file; each document's tokens are followed by the end-of-text token."""

    def __init__(self, path: Path, dtype: np.dtype, eot_id: int):
        self.path, self.dtype, self.eot_id = path, dtype, eot_id
        self._fh = open(path, "wb")
        self.size = 0

    def append(self, flat: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Write documents (``flat`` tokens split by ``lengths``), each + EOT; returns their start offsets."""
        total = int(lengths.sum()) + lengths.size
        out = np.empty(total, dtype=self.dtype)
        ends = np.cumsum(lengths + 1)  # one past each document's EOT
        starts = ends - lengths - 1
        is_eot = np.zeros(total, dtype=bool)
        is_eot[ends - 1] = True
        out[is_eot] = self.eot_id
        out[~is_eot] = flat
        self._fh.write(out.tobytes())
        base = self.size
        self.size += total
        return starts + base

    def close(self) -> np.memmap | np.ndarray:
        self._fh.close()
        if self.size == 0:
            return np.empty(0, dtype=self.dtype)
        return np.memmap(self.path, dtype=self.dtype, mode="r")


def _interleave_keys(ids: np.ndarray, seed: int, source: str, epoch: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return _splitmix64(
            id_keys(pl.Series(ids, dtype=pl.String)) ^ _salt("interleave", seed, source, epoch)
        )


def draw_source(
    pool: Pool,
    target: int,
    tokenizer: ByteTokenizer | HFTokenizer,
    cache: TokenCache,
    decontam: Decontaminator | None,
    seed: int,
    max_epochs: float,
    allow_repeat: bool,
    progress: Progress | None = None,
) -> Drawn:
    """Tokenize documents of ``pool`` in seeded order until ``target`` tokens are covered (see module doc)."""
    source = pool.source
    order = seeded_order(pool.docs["id"], "mix", seed, source, 0)
    lengths_b = pool.docs["text"].str.len_bytes().to_numpy()[order]
    # batches of ~BATCH_BYTES of text or BATCH_DOCS documents: a monotone batch key, cut where it changes
    key = np.maximum(np.cumsum(lengths_b) // BATCH_BYTES, np.arange(order.size) // BATCH_DOCS)
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [order.size]])
    bounds = list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))

    c_idx, c_start, c_len = [], [], []  # clean documents: pool row, cache start, tokens incl. EOT
    covered = removed = examined = examined_bytes = 0
    for lo, hi in bounds:
        rows = order[lo:hi]
        texts = pool.docs["text"][rows]
        examined += len(rows)
        examined_bytes += int(lengths_b[lo:hi].sum())
        if decontam is not None:
            dirty = decontam.contaminated(texts)
            removed += int(dirty.sum())
            rows, texts = rows[~dirty], texts.filter(pl.Series(~dirty))
        if not len(rows):
            continue
        flat, lengths = tokenizer.encode_concat(texts.to_list())
        starts = cache.append(flat, lengths)
        c_idx.append(rows)
        c_start.append(starts)
        c_len.append(lengths + 1)
        gained = int(lengths.sum()) + len(rows)
        if progress is not None:
            progress(max(0, min(target, covered + gained) - covered))
        covered += gained
        if covered >= target:
            break
    idx = np.concatenate(c_idx) if c_idx else np.empty(0, np.int64)
    starts = np.concatenate(c_start) if c_start else np.empty(0, np.int64)
    lens = np.concatenate(c_len) if c_len else np.empty(0, np.int64)
    exhausted = covered < target or examined == len(order)
    if covered == 0:
        raise MixError(f"source {source!r}: no documents left after held-out split and decontamination")
    if exhausted:
        available, exact = covered, True
    else:  # extrapolate from what was examined, for the report only
        available = int(round(covered * pool.bytes / max(examined_bytes, 1)))
        exact = False
    epochs = target / available
    if exact and epochs > max_epochs and not allow_repeat:
        check_repetition([SourcePlan(source, 0.0, target, available, True)], max_epochs, allow_repeat)

    ids_all = pool.docs["id"].to_numpy()
    full = target // covered if exhausted else 0
    remainder = target - full * covered
    parts_s, parts_l, parts_t, parts_id, parts_k = [], [], [], [], []
    clean_ids = pl.Series(ids_all[idx], dtype=pl.String)
    for epoch in range(full + (1 if remainder else 0)):
        if epoch == 0:
            perm = np.arange(idx.size)  # epoch 0 is the order we tokenized in
        else:
            perm = seeded_order(clean_ids, "mix", seed, source, epoch)
        e_start, e_len = starts[perm], lens[perm].copy()
        trunc = np.zeros(perm.size, dtype=bool)
        if epoch == full:  # the sampled remainder: a prefix of this epoch's order, last document cut
            cum = np.cumsum(e_len)
            k = int(np.searchsorted(cum, remainder)) + 1
            e_start, e_len, trunc, perm = e_start[:k], e_len[:k], trunc[:k], perm[:k]
            over = int(cum[k - 1]) - remainder
            if over:
                e_len[-1] -= over
                trunc[-1] = True
        e_ids = ids_all[idx[perm]]
        parts_s.append(e_start)
        parts_l.append(e_len)
        parts_t.append(trunc)
        parts_id.append(e_ids)
        parts_k.append(_interleave_keys(e_ids, seed, source, epoch))
    drawn = Drawn(
        source,
        np.concatenate(parts_s),
        np.concatenate(parts_l),
        np.concatenate(parts_t),
        np.concatenate(parts_id),
        np.concatenate(parts_k),
    )
    assert int(drawn.lengths.sum()) == target, (source, int(drawn.lengths.sum()), target)
    drawn.stats = {
        "tokens": target,
        "documents": int(drawn.lengths.size),
        "unique_documents": int(np.unique(drawn.ids).size),
        "epochs": round(epochs, 6),
        "full_epochs": int(full),
        "remainder_tokens": int(remainder),
        "available_tokens": int(available),
        "available_tokens_exact": exact,
        "pool_documents": int(pool.docs.height),
        "documents_examined": int(examined),
        "decontaminated_documents": int(removed),
        "truncated_documents": int(drawn.truncated.sum()),
    }
    return drawn


def write_shards(
    directory: Path, drawn: list[Drawn], cache: np.ndarray, vocab_size: int, eot_id: int
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Interleave all sources' documents by key and write them as token shards; returns format + ids."""
    src = np.concatenate([np.full(d.lengths.size, i, dtype=np.int32) for i, d in enumerate(drawn)])
    starts = np.concatenate([d.starts for d in drawn])
    lengths = np.concatenate([d.lengths for d in drawn])
    trunc = np.concatenate([d.truncated for d in drawn])
    ids = np.concatenate([d.ids for d in drawn])
    keys = np.concatenate([d.keys for d in drawn])
    order = np.lexsort((np.arange(keys.size), keys))  # stable on ties: source order, then draw order
    writer = ShardWriter(directory, vocab_size)
    cum = np.cumsum(lengths[order])
    lo = 0
    while lo < order.size:
        hi = max(lo + 1, int(np.searchsorted(cum, (cum[lo - 1] if lo else 0) + GATHER_TOKENS, "right")))
        sel = order[lo:hi]
        lens = lengths[sel]
        ends = np.cumsum(lens)
        offsets = np.repeat(starts[sel] - (ends - lens), lens)
        out = cache[np.arange(int(ends[-1]), dtype=np.int64) + offsets]
        cut = trunc[sel]
        out[ends[cut] - 1] = eot_id  # a cut document still ends with end-of-text
        writer.write(out)
        lo = hi
    ids_by_source = {d.source: ids[order][src[order] == i].tolist() for i, d in enumerate(drawn)}
    return writer.finish(), ids_by_source


# ---------------------------------------------------------------------------------------------- a mixture


@dataclass
class StudyContext:
    """What every mixture of a study shares."""

    corpus: Path
    tokenizer_spec: str
    tokenizer: ByteTokenizer | HFTokenizer
    pools: dict[str, Pool]
    heldout_settings: HeldoutSettings
    decontam_settings: DecontamSettings
    decontaminator: Decontaminator | None = None


def is_mixture_dir(path: Path) -> bool:
    """A folder ``corpuskit mix`` wrote: its manifest describes token shards."""
    from corpuskit.store import read_json

    m = read_json(path / "manifest.json")
    return isinstance(m, dict) and isinstance(m.get("format"), dict) and "dtype" in m["format"]


def is_study_dir(path: Path) -> bool:
    """A folder of mixtures (``mix --config``): only mixture folders, the shared held-out sets, staging."""
    return all(
        p.name == "heldout" or p.name.startswith(".") or (p.is_dir() and is_mixture_dir(p))
        for p in path.iterdir()
    )


def _replace_dir(staging: Path, final: Path) -> None:
    old = final.parent / f".{final.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old)


def build_in_study(
    ctx: StudyContext,
    mix: MixtureConfig,
    out: Path,
    *,
    seed: int,
    max_epochs: float,
    allow_repeat: bool,
    heldout_block: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build one mixture folder at ``out`` and return its manifest.

    With ``heldout_block=None`` the held-out sets are written inside the mixture folder (``heldout/``);
    a study passes the block of its shared sets instead (paths relative to the mixture folder).
    """
    weights, warnings = normalise_weights(mix.weights, sorted(ctx.pools))
    targets = split_budget(weights, mix.tokens)
    out = Path(out)
    check_output_dir(
        out,
        option="--out",
        written_by_us=is_mixture_dir,
        what="a mixture",
        protect=[("the corpus", ctx.corpus)],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.tmp-build"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        if heldout_block is None:
            heldout_block = write_heldout_sets(ctx.pools, staging / "heldout", "heldout/")
        tok = ctx.tokenizer
        dtype = dtype_for_vocab(tok.vocab_size)
        cache = TokenCache(staging / ".token-cache.bin", dtype, tok.eot_id)
        t0 = time.perf_counter()
        drawn = [
            draw_source(
                ctx.pools[s],
                targets[s],
                tok,
                cache,
                ctx.decontaminator,
                seed,
                max_epochs,
                allow_repeat,
                progress,
            )
            for s in sorted(targets)
            if targets[s] > 0
        ]
        tokenize_s = time.perf_counter() - t0
        cache_arr = cache.close()
        fmt, ids_by_source = write_shards(staging, drawn, cache_arr, tok.vocab_size, tok.eot_id)
        del cache_arr
        (staging / ".token-cache.bin").unlink()
        for source, ids in ids_by_source.items():
            atomic_write_bytes(staging / "ids" / f"{source}.txt", ("\n".join(ids) + "\n").encode())
        if isinstance(tok, HFTokenizer):
            tok.save(staging / "tokenizer.json")
            tok_path = "tokenizer.json"
        else:
            tok_path = "bytes"
        total = fmt["total_tokens"]
        sources = {}
        for d in drawn:
            sources[d.source] = {
                **d.stats,
                "weight": weights[d.source],
                "share": d.stats["tokens"] / total,
                "ids_file": f"ids/{d.source}.txt",
            }
        manifest = {
            "name": mix.name,
            "format": fmt,
            "tokenizer": {
                "path": tok_path,
                "hash": tok.hash,
                "vocab_size": tok.vocab_size,
                "eot_id": tok.eot_id,
            },
            "heldout": heldout_block,
            "weights_requested": dict(mix.weights),
            "weights": weights,
            "tokens_requested": mix.tokens,
            "sources": sources,
            "decontamination": {
                **ctx.decontam_settings.model_dump(),
                "heldout_ngrams": len(ctx.decontaminator) if ctx.decontaminator is not None else 0,
                "removed_documents": sum(d.stats["decontaminated_documents"] for d in drawn),
            },
            "seed": seed,
            "config": {
                "corpus": str(ctx.corpus),
                "tokenizer": ctx.tokenizer_spec,
                "mixture": mix.model_dump(mode="json"),
                "max_epochs": max_epochs,
                "allow_repeat": allow_repeat,
                "heldout": ctx.heldout_settings.model_dump(),
            },
            "warnings": warnings,
            "versions": package_versions(["numpy"]),
        }
        write_manifest(staging, manifest)
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manifest["_tokenize_seconds"] = tokenize_s  # for the CLI's report only; not written
    return manifest


def open_study(
    corpus: Path,
    tokenizer_spec: str,
    heldout: HeldoutSettings,
    decontam: DecontamSettings,
    sources: list[str] | None = None,
) -> StudyContext:
    """Load the tokenizer and the pools, and hash the held-out n-grams (shared by all mixtures)."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise MixError(
            f"corpus folder {corpus} does not exist; run `corpuskit ingest` first or pass --corpus"
        )
    available = list_sources(corpus)
    if not available:
        raise MixError(f"{corpus}: no sources found (expected <corpus>/<source>/documents/)")
    try:
        tok = load_tokenizer(tokenizer_spec)
    except (FileNotFoundError, ValueError) as e:
        raise MixError(str(e)) from None
    pools = load_pools(corpus, heldout, sources or available)
    ctx = StudyContext(corpus, str(tokenizer_spec), tok, pools, heldout, decontam)
    ctx.decontaminator = make_decontaminator(pools, decontam)
    return ctx


def build_mixture(
    *,
    weights: dict[str, float],
    corpus: Path | str,
    output: Path | str,
    tokens: int | str,
    tokenizer: str = "bytes",
    seed: int = 0,
    max_epochs: float = DEFAULT_MAX_EPOCHS,
    allow_repeat: bool = False,
    name: str | None = None,
    heldout_bytes: int = 1_000_000,
    heldout_seed: int = 0,
    decontaminate: bool = True,
) -> dict[str, Any]:
    """Build one mixture folder from keyword arguments (the API other stages, e.g. ablate, call).

    Held-out sets go inside the folder; they depend only on the corpus and the held-out settings, not on
    ``seed`` or ``weights``, so mixtures built this way from one corpus share identical sets (same hash).
    """
    out = Path(output)
    normalise_weights(weights, list_sources(corpus))  # unknown / negative -> MixError, before any work
    mix = MixtureConfig(
        name=re.sub(r"[^A-Za-z0-9_.-]", "_", name or out.name), weights=weights, tokens=parse_tokens(tokens)
    )
    heldout = HeldoutSettings(bytes_per_source=heldout_bytes, seed=heldout_seed)
    ctx = open_study(Path(corpus), tokenizer, heldout, DecontamSettings(enabled=decontaminate))
    if not allow_repeat:  # refuse early, from the plan, rather than after tokenizing
        used = sorted(s for s, w in mix.weights.items() if w > 0)
        avail = {s: (0, True) for s in ctx.pools} | estimate_available(ctx, used, heldout_seed)
        check_repetition(plan_mixture(mix, ctx.pools, avail)[0], max_epochs, allow_repeat)
    manifest = build_in_study(ctx, mix, out, seed=seed, max_epochs=max_epochs, allow_repeat=allow_repeat)
    manifest.pop("_tokenize_seconds", None)
    return manifest


def source_tokens(
    corpus: Path | str, tokenizer: str = "bytes", heldout_bytes: int = 1_000_000
) -> dict[str, int]:
    """Training tokens each source can supply after its held-out split (estimated for a trained BPE)."""
    heldout = HeldoutSettings(bytes_per_source=heldout_bytes)
    ctx = open_study(Path(corpus), tokenizer, heldout, DecontamSettings(enabled=False))
    return {s: n for s, (n, _) in estimate_available(ctx, sorted(ctx.pools), heldout.seed).items()}


def estimate_available(ctx: StudyContext, sources: list[str], seed: int) -> dict[str, tuple[int, bool]]:
    return {s: pool_tokens(ctx.pools[s], ctx.tokenizer, seed) for s in sources}


def rel_heldout_block(block: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {s: {**e, "path": prefix + e["path"]} for s, e in block.items()}


def epochs_ok(plans: list[SourcePlan], max_epochs: float) -> bool:
    return all(math.isfinite(p.epochs) and p.epochs <= max_epochs for p in plans)


# ---------------------------------------------------------------------------------------------- a study


def run_study(
    cfg: StudyConfig, *, dry_run: bool = False, single_out: Path | None = None
) -> list[dict[str, Any]]:
    """Plan (and unless ``dry_run``, build) every mixture of ``cfg``; prints tables, returns manifests.

    ``single_out`` is the ``corpuskit mix --out DIR`` form: one mixture written to DIR with its held-out
    sets inside it. Otherwise mixtures go to ``<out>/<name>/`` and share ``<out>/heldout/``.
    """
    from corpuskit.progress import console, make_progress, rate_text, results, summary_table

    ctx = open_study(cfg.corpus, cfg.tokenizer, cfg.heldout, cfg.decontam)
    used = sorted({s for m in cfg.mixtures for s, w in m.weights.items() if w > 0 and s in ctx.pools})
    available = estimate_available(ctx, used, cfg.heldout.seed)
    results.print(
        summary_table(
            "Held-out sets (split before mixing)",
            ["source", "kept docs", "held-out docs", "held-out bytes", "pool docs", "pool bytes"],
            [
                [s, p.kept_documents, p.heldout.documents, p.heldout.bytes, p.docs.height, p.bytes]
                for s, p in sorted(ctx.pools.items())
            ],
        )
    )
    plans_by_mix = {}
    for mix in cfg.mixtures:
        max_epochs = mix.max_epochs or cfg.max_epochs
        plans, warnings = plan_mixture(mix, ctx.pools, {s: available.get(s, (0, True)) for s in ctx.pools})
        for w in warnings:
            console.print(f"[yellow]warning[/yellow] ({mix.name}): {w}")
        results.print(
            summary_table(
                f"Plan: {mix.name} ({mix.tokens:,} tokens, {cfg.tokenizer}; estimates marked ~)",
                PLAN_COLUMNS,
                plan_rows(plans, max_epochs),
            )
        )
        plans_by_mix[mix.name] = plans
    if dry_run:
        return []
    for mix in cfg.mixtures:  # refuse before any work if some mixture cannot be built
        allow = cfg.allow_repeat if mix.allow_repeat is None else mix.allow_repeat
        check_repetition(plans_by_mix[mix.name], mix.max_epochs or cfg.max_epochs, allow)

    shared_block = None
    if single_out is None:
        check_output_dir(
            cfg.out,
            option="out:",
            written_by_us=is_study_dir,
            what="a mixture study",
            protect=[("the corpus", ctx.corpus)],
        )
        heldout_dir = cfg.out / "heldout"
        shared_block = rel_heldout_block(write_heldout_sets(ctx.pools, heldout_dir, "heldout/"), "../")
    manifests = []
    with make_progress("tokens") as prog:
        for mix in cfg.mixtures:
            task = prog.add_task(mix.name, total=mix.tokens, rate="")
            t0, done = time.perf_counter(), [0]

            def advance(n: int, task=task, t0=t0, done=done) -> None:
                done[0] += n
                prog.update(task, advance=n, rate=rate_text(done[0], time.perf_counter() - t0, "tok"))

            out = single_out if single_out is not None else cfg.out / mix.name
            manifest = build_in_study(
                ctx,
                mix,
                out,
                seed=cfg.seed if mix.seed is None else mix.seed,
                max_epochs=mix.max_epochs or cfg.max_epochs,
                allow_repeat=cfg.allow_repeat if mix.allow_repeat is None else mix.allow_repeat,
                heldout_block=shared_block,
                progress=advance,
            )
            manifest["_seconds"] = time.perf_counter() - t0
            manifest["_out"] = str(out)
            manifests.append(manifest)
    for m in manifests:
        rows = [
            [
                s,
                round(e["weight"], 4),
                round(e["share"], 4),
                e["tokens"],
                e["documents"],
                e["unique_documents"],
                e["epochs"],
                e["decontaminated_documents"],
            ]
            for s, e in sorted(m["sources"].items())
        ]
        secs = m["_seconds"]
        results.print(
            summary_table(
                f"Mixture {m['name']} -> {m['_out']}: {m['format']['total_tokens']:,} tokens in {secs:.1f} s "
                f"({rate_text(m['format']['total_tokens'], m['_tokenize_seconds'], 'tok')} tokenizing)",
                ["source", "weight", "share", "tokens", "docs", "unique docs", "epochs", "decontaminated"],
                rows,
            )
        )
    return manifests
