"""Folding stability per substitution: a zero-shot inverse-folding log-ratio (ProteinMPNN).

``stability_score`` of ``wt -> alt`` at a residue of one chain is

    log p(wt | backbone, rest of the sequence) - log p(alt | backbone, rest of the sequence)

in nats, from ProteinMPNN (Dauparas et al. 2022, Science 378:49; weights ``v_48_020``, MIT,
SHA-256 ``WEIGHTS_SHA256``), with the scored residue decoded last: it sees the backbone of the
chain and the native identity of every other residue (``structkit.analysis.mpnn``). Higher = the
structure "wants" the wild type more than the mutant = more destabilising; 0 = indifferent;
negative = the mutant fits the backbone better. Nothing is fitted to any measurement. The chain
is scored alone (no partner chains, no DNA, ligands or metals: folding, not binding), model 1.

Where the numbers come from (the ``stability_model`` column says which):

- **shipped**: every target chain of the catalog's TP53 and ERBB2 structures was scored by
  ``scripts/stability_precompute.py`` (records model, weights hash, structure file hash,
  decoding orders and seed) into ``stability_proteinmpnn.tsv.gz`` beside this module. A chain
  is looked up by the SHA-256 of its backbone (author numbers, residue names and N/CA/C/O
  coordinates), so the same coordinates from the mirror, RCSB or a user's copy all match.
- **computed**: any other chain (a user's file, a new entry) is scored on the fly when the
  optional extra is installed (``pip install "structkit[ml]"``: torch) and the weights can be
  fetched (``Fetcher.model_weights``); the result is kept under ``<cache>/derived/stability/``.
  Otherwise the column is empty and says ``needs structkit[ml]``.

EGFR stand-ins of HER2 are not scored (the residue there is EGFR's), nor rows whose residue in
the file differs from the reference.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
from functools import lru_cache
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd

from ..cutoffs import PLDDT_CONFIDENT
from ..io.derived import cached, entry_key
from ..io.fetch import MODEL_WEIGHTS, FetchError
from ..io.files import atomic_write
from ..io.store import session_of
from ..io.structure import Structure, one_letter
from ..keywords import accepts_session
from ..settings import STABILITY_MODES, check_stability_mode
from .damage import AA20
from .structure_analysis import analyze

__all__ = ["STABILITY_MODES", "stability_mode", "MODEL", "WEIGHTS_SHA256", "N_ORDERS", "SEED",
           "STABILITY_WEAK", "STABILITY_STRONG",
           "chain_backbone", "backbone_key", "chain_log_probs", "stability_matrix", "stability_table",
           "shipped_meta", "ml_available", "per_structure"]

MODEL = "ProteinMPNN v_48_020"
WEIGHTS_FILE = "proteinmpnn/v_48_020.pt"  # under models/ in the cache and the mirror
WEIGHTS_SHA256 = MODEL_WEIGHTS[WEIGHTS_FILE][0]  # pinned once, in the fetcher's table
N_ORDERS = 2  # decoding orders of the other residues averaged per chain
SEED = 0
SHIPPED = "stability_proteinmpnn.tsv.gz"
SHIPPED_META = "stability_proteinmpnn.json"
MPNN_ALPHABET = "ACDEFGHIKLMNPQRSTVWYX"
_AA20_IN_MPNN = np.array([MPNN_ALPHABET.index(a) for a in AA20])
NEEDS_ML = "needs structkit[ml] (torch) to score this chain"
MAX_ON_THE_FLY = 1500  # residues: a longer chain is not scored on the fly (minutes each)
# words for the report (reading bands, not fitted): the model finds the mutant e-fold (1 nat)
# or 20-fold (3 nats) less likely than the wild type on this backbone
STABILITY_WEAK = 1.0
STABILITY_STRONG = 3.0


def stability_mode(explicit: str | None = None, fetcher=None) -> str:
    """The stability mode in force: ``explicit``, else the session's ``stability`` setting
    (which the session read from ``$STRUCTKIT_STABILITY`` when it was made), else ``'auto'``
    (see ``structkit.analysis.table.impact_table``)."""
    return check_stability_mode(explicit or getattr(fetcher, "stability", None) or "auto")


def ml_available() -> bool:
    """True when torch imports (the ``structkit[ml]`` extra); imported only when a chain has
    to be scored."""
    if find_spec("torch") is None:
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def chain_backbone(st: Structure, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Model input of the residues ``ri`` (residue indices of one chain, model 1):
    (complete [n] bool: N, CA, C and O all present; xyz [m, 4, 3] of the complete ones (A);
    tokens [m] in ProteinMPNN's alphabet, modified residues as their parent, unknown X;
    residue index [m]: the author number, insertion-coded residues taking the next slots)."""
    ri = np.asarray(ri, dtype=np.int64)
    xyz = np.full((len(ri), 4, 3), np.nan)
    atoms, owner = st.atoms_of(ri)
    names = st.atom_name[atoms]
    for j, a in enumerate(("N", "CA", "C", "O")):
        sel = np.flatnonzero(names == a)[::-1]  # reversed: a residue's first such atom wins
        xyz[owner[sel], j] = st.coord[atoms[sel]]
    complete = np.isfinite(xyz).all(axis=(1, 2))
    letters = [one_letter(str(n)) for n in st.res_resname[ri]]
    tokens = np.array([MPNN_ALPHABET.find(x) if x in MPNN_ALPHABET[:20] else 20 for x in letters])
    has_icode = np.array([bool(str(c).strip()) for c in st.res_icode[ri]])
    resid = st.res_num[ri].astype(np.int64) + np.cumsum(has_icode)
    return complete, xyz[complete], tokens[complete], resid[complete]


def backbone_key(st: Structure, ri: np.ndarray) -> str:
    """SHA-256 of a chain's backbone: author numbers, insertion codes, residue names and the
    N/CA/C/O coordinates rounded to 0.001 A (as written in PDB and mmCIF files)."""
    ri = np.asarray(ri, dtype=np.int64)
    complete, xyz, _, _ = chain_backbone(st, ri)
    h = hashlib.sha256()
    h.update("".join(f"{n}{c.strip()}{r};" for n, c, r in zip(
        st.res_num[ri].astype(np.int64).tolist(), st.res_icode[ri].astype(str).tolist(),
        st.res_resname[ri].astype(str).tolist(), strict=True)).encode())
    h.update(complete.tobytes())
    h.update(np.round(xyz.astype(np.float64), 3).round(3).tobytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def shipped_meta() -> dict:
    """Provenance of the shipped scores (model, weights SHA-256, orders, seed, per chain: PDB
    ID, chain, backbone and file SHA-256, residues, torch version)."""
    try:
        text = resources.files(__package__).joinpath(SHIPPED_META).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"chains": {}}
    return json.loads(text)


def _shipped(cache_dir: str | Path | None = None) -> dict[str, np.ndarray]:
    """backbone key -> [n residues of the chain, 20] log-probabilities (AA20 order; NaN rows for
    residues without a complete backbone). Parsed once per process; with ``cache_dir`` kept as
    derived data (keyed by the code digest, which covers the shipped file): about 45 ms of
    parsing saved in each fresh process."""
    if _SHIPPED:
        return _SHIPPED[0]
    if cache_dir is None:
        out = _parse_shipped()
    else:
        n_of = {k: int(c["n_residues"]) for k, c in shipped_meta()["chains"].items()}
        out = cached(cache_dir, "shipped_stability", entry_key("shipped_stability", SHIPPED),
                     _parse_shipped,
                     lambda d: all(k in n_of and v.shape == (n_of[k], 20) for k, v in d.items()))
    _SHIPPED.append(out)
    return out


_SHIPPED: list[dict[str, np.ndarray]] = []  # the parsed table, once per process


def _parse_shipped() -> dict[str, np.ndarray]:
    try:
        raw = resources.files(__package__).joinpath(SHIPPED).read_bytes()
    except FileNotFoundError:
        return {}
    df = pd.read_csv(io.BytesIO(gzip.decompress(raw)), sep="\t", dtype={"key": str})
    out = {}
    for key, g in df.groupby("key", sort=False):
        n = int(shipped_meta()["chains"][key]["n_residues"])
        arr = np.full((n, 20), np.nan)
        arr[g.k.to_numpy()] = g[list(AA20)].to_numpy(dtype=float)
        out[key] = arr
    return out


def chain_log_probs(st: Structure, ri: np.ndarray, fetcher=None, compute: bool = True,
                    progress: bool = False, use_shipped: bool = True) -> tuple[np.ndarray | None, str]:
    """([n, 20] log p of each amino acid (AA20 order) at each residue of ``ri``, or None; where
    it came from: ``'MODEL (shipped)'``, ``'MODEL (computed)'`` or why there is none).

    ``compute``: score a chain the shipped table does not hold (needs torch and the weights);
    ``use_shipped=False`` scores (or reads from the disk cache) even a shipped chain."""
    key = backbone_key(st, ri)
    memo = fetcher.cache("stability") if fetcher is not None and use_shipped else {}
    if key in memo:
        return memo[key]
    hit = _shipped(fetcher.cache_dir if fetcher is not None else None).get(key) if use_shipped \
        else None
    if hit is not None and len(hit) == len(ri):
        memo[key] = (hit, f"{MODEL} (shipped)")
        return memo[key]
    if not compute:
        return None, "not precomputed for this chain"
    if len(ri) > MAX_ON_THE_FLY:
        return None, (f"chain of {len(ri)} residues: longer than the {MAX_ON_THE_FLY} scored on "
                      "the fly (time grows with the square of the length); not scored")
    if not ml_available():
        return None, NEEDS_ML
    f = session_of(fetcher)
    entry = Path(f.cache_dir) / "derived" / "stability" / f"{key[:32]}_{WEIGHTS_SHA256[:12]}.npz"
    arr = _read_entry(entry, len(ri))
    if arr is None:
        try:
            weights = f.model_weights(WEIGHTS_FILE)
        except FetchError as exc:
            memo[key] = (None, f"no model weights: {exc}")
            return memo[key]
        arr = score_chain(st, ri, weights.path, progress=progress, label=f"{st.id} {st.res_chain[ri[0]]}")
        entry.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(entry) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, log_probs=arr, n=np.int64(len(ri)), orders=np.int64(N_ORDERS),
                     seed=np.int64(SEED), weights=np.array(WEIGHTS_SHA256))
    memo[key] = (arr, f"{MODEL} (computed)")
    return memo[key]


def _read_entry(entry: Path, n: int) -> np.ndarray | None:
    """A cached score matrix, or None when absent, damaged or made otherwise (rebuilt)."""
    import zipfile

    if not entry.is_file():
        return None
    try:
        with np.load(entry, allow_pickle=False) as z:
            arr = z["log_probs"]
            ok = (arr.shape == (n, 20) and int(z["orders"]) == N_ORDERS and int(z["seed"]) == SEED
                  and str(z["weights"]) == WEIGHTS_SHA256 and np.isfinite(arr[~np.isnan(arr).all(1)]).all())
        return arr if ok else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def score_chain(st: Structure, ri: np.ndarray, weights: str | Path, n_orders: int = N_ORDERS,
                seed: int = SEED, progress: bool = False, label: str = "") -> np.ndarray:
    """[n, 20] ProteinMPNN log-probabilities (AA20 order) of the residues ``ri`` of one chain,
    each decoded last (``structkit.analysis.mpnn.conditional_log_probs``); NaN rows where the backbone is
    incomplete. Needs torch."""
    from .mpnn import conditional_log_probs, load_mpnn

    complete, xyz, tokens, resid = chain_backbone(st, ri)
    out = np.full((len(ri), 20), np.nan)
    if not complete.any():
        return out
    model = load_mpnn(str(weights))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(xyz) * n_orders, desc=f"stability {label}".strip(), unit="residue",
                   file=sys.stderr)
    try:
        lp = conditional_log_probs(model, xyz, tokens, resid, n_orders=n_orders, seed=seed,
                                   progress=bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    out[complete] = lp[:, _AA20_IN_MPNN]
    return out


def per_structure(rows: pd.DataFrame, key: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """The scored rows of impact-table ``rows`` (``key``: the variant of each row) reduced to one
    row per variant and structure: ``k``, ``pdb``, ``s`` (mean over the structure's chains),
    ``c`` (chains), ``src_lo``/``src_hi`` (lowest and highest code of the rows' sources); sorted
    by ``k`` then ``pdb``; and the sources the codes index ('shipped', 'computed'). An
    AlphaFold model's rows count where pLDDT >= ``cutoffs.PLDDT_CONFIDENT``. The one rule behind
    the summary's ``stability_score`` and the verdict's ``stab``; grouped operations only."""
    score = rows["stability_score"].to_numpy(dtype=float)
    low = (rows["bfactor_kind"].astype(str).to_numpy() == "pLDDT") & ~(
        rows["bfactor"].to_numpy(dtype=float, na_value=np.nan) >= PLDDT_CONFIDENT)
    ok = ~np.isnan(score) & ~low
    src, names = pd.factorize(rows["stability_model"].astype(str).to_numpy()[ok])
    pdb_code, pdbs = pd.factorize(rows["pdb_id"].astype(str).to_numpy()[ok], sort=True)
    chain_code, chains = pd.factorize(rows["chain"].astype(str).to_numpy()[ok])
    k = np.asarray(key, dtype=np.int64)[ok]
    # one row per (variant, structure, chain): the first (all rows of a chain carry its score)
    unit = (k * len(pdbs) + pdb_code) * max(len(chains), 1) + chain_code
    _, first = np.unique(unit, return_index=True)
    k, pdb_code, s, src = k[first], pdb_code[first], score[ok][first], src[first]
    group, inv = np.unique(k * len(pdbs) + pdb_code, return_inverse=True)  # sorted: k, then pdb
    count = np.bincount(inv)
    src_lo = np.full(len(group), np.iinfo(np.int64).max)
    src_hi = np.full(len(group), -1)
    np.minimum.at(src_lo, inv, src)
    np.maximum.at(src_hi, inv, src)
    per = pd.DataFrame({"k": group // max(len(pdbs), 1),
                        "pdb": np.asarray(pdbs, dtype=object)[group % max(len(pdbs), 1)],
                        "s": np.bincount(inv, weights=s) / count, "c": count,
                        "src_lo": src_lo, "src_hi": src_hi})
    return per, [str(x).rsplit("(", 1)[-1].rstrip(")") for x in names]


def stability_matrix(log_probs: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """[n, 20] ``log p(wt) - log p(alt)`` (nats; higher = more destabilising) from per-residue
    log-probabilities and the wild-type letters ``wt`` (NaN rows where wt is not one of AA20)."""
    lp = np.asarray(log_probs, dtype=float)
    idx = np.array([AA20.find(str(a)) for a in wt])
    ok = idx >= 0
    own = np.where(ok, lp[np.arange(len(lp)), np.where(ok, idx, 0)], np.nan)
    return own[:, None] - lp


@accepts_session
def stability_table(source, accession: str | None = None, fetcher=None,
                    compute: bool = True) -> pd.DataFrame:
    """Every substitution at every residue of a structure's target chains: ``pdb_id``,
    ``chain``, ``author_num``, ``icode``, ``position`` (UniProt), ``ref``, ``alt``,
    ``stability_score`` (nats), ``stability_model``. ``source``: as ``analyze``."""
    a = analyze(source, accession, fetcher=fetcher)
    st = a.structure
    parts = []
    for ch, cd in a.chains.items():
        ri = cd.numbering.residue_indices
        lp, how = chain_log_probs(st, ri, fetcher, compute=compute)
        wt = np.asarray(cd.aa).astype(str)
        score = stability_matrix(lp, wt) if lp is not None else np.full((len(ri), 20), np.nan)
        n = len(ri)
        parts.append(pd.DataFrame({
            "pdb_id": st.id, "chain": ch, "author_num": np.repeat(st.res_num[ri], 20),
            "icode": np.repeat(st.res_icode[ri].astype(str), 20),
            "position": np.repeat(cd.numbering.uniprot_pos, 20),
            "ref": np.repeat(wt, 20), "alt": np.tile(list(AA20), n),
            "stability_score": score.reshape(-1).round(3), "stability_model": how}))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out[out.ref != out.alt].reset_index(drop=True) if len(out) else out
