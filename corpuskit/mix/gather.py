"""Interleave every source's drawn documents and gather their tokens from the sources' caches into shards.

Documents are ordered by their seeded interleaving key (stable on ties: source order, then draw order),
so sources are mixed through the whole stream rather than concatenated. Tokens are copied with numpy
index arrays, ``GATHER_TOKENS`` at a time, which bounds memory however large the mixture is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from corpuskit.mix.draw import Drawn
from corpuskit.mix.shards import ShardWriter

GATHER_TOKENS = 16_000_000  # tokens gathered per write step


def write_shards(
    directory: Path, drawn: list[Drawn], caches: list[np.ndarray], vocab_size: int, eot_id: int
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Write all sources' documents as token shards in interleaved order; returns the format block and
    each source's document ids in mixture order (repeats included). ``caches[i]`` holds the tokens
    ``drawn[i]`` points into."""
    src = np.concatenate([np.full(d.lengths.size, i, dtype=np.int32) for i, d in enumerate(drawn)])
    starts = np.concatenate([d.starts for d in drawn])
    lengths = np.concatenate([d.lengths for d in drawn])
    trunc = np.concatenate([d.truncated for d in drawn])
    ids = np.concatenate([d.ids for d in drawn])
    keys = np.concatenate([d.keys for d in drawn])
    order = np.lexsort((np.arange(keys.size), keys))
    writer = ShardWriter(directory, vocab_size)
    cum = np.cumsum(lengths[order])
    lo = 0
    while lo < order.size:
        hi = max(lo + 1, int(np.searchsorted(cum, (cum[lo - 1] if lo else 0) + GATHER_TOKENS, "right")))
        sel = order[lo:hi]
        lens = lengths[sel]
        ends = np.cumsum(lens)
        out = np.empty(int(ends[-1]), dtype=caches[0].dtype)
        for i in np.unique(src[sel]).tolist():
            mine = src[sel] == i
            n, begin = lens[mine], ends[mine] - lens[mine]  # token counts and places in ``out``
            within = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
            out[np.repeat(begin, n) + within] = caches[i][np.repeat(starts[sel][mine], n) + within]
        cut = trunc[sel]
        out[ends[cut] - 1] = eot_id  # a cut document still ends with end-of-text
        writer.write(out)
        lo = hi
    ids_by_source = {d.source: ids[order][src[order] == i].tolist() for i, d in enumerate(drawn)}
    return writer.finish(), ids_by_source
