"""Per-group text joins over integer group keys (variants of a table): shared by the summary
and the verdict, below both so that neither imports the other's module for them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _joined(key: pd.Series, values: pd.Series, sep: str, n: int) -> np.ndarray:
    """Per group 0..n-1: the sorted distinct values joined by ``sep`` ('' for none)."""
    out = np.full(n, "", dtype=object)
    if len(key):
        pairs = pd.DataFrame({"k": key.to_numpy(), "v": values.astype(str).to_numpy()})
        pairs = pairs.drop_duplicates().sort_values(["k", "v"], kind="stable")
        _join_sorted(out, pairs.k.to_numpy(), pairs.v.tolist(), sep)
    return out


def _join_sorted(out: np.ndarray, keys: np.ndarray, texts: list, sep: str) -> None:
    """out[k] = texts of key k joined by ``sep``; ``keys`` sorted."""
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    stops = np.r_[starts[1:], len(keys)]
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        out[keys[a]] = sep.join(texts[a:b])
