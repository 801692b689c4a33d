"""The mutation-impact table: input rows x structures x target chains x sites, as a tidy
DataFrame (``impact_table``), built from the distinct variants.

Every row carries its provenance: PDB ID, model, chain, author residue number and insertion
code, the residue in the file, how the UniProt position was mapped (DBREF or alignment, and
``via`` the family alignment when a HER2 variant is placed on an EGFR complex), the cut-offs
used and the structkit version. Statuses:

- ``mapped``: the residue is in the structure and is the expected residue;
- ``reference mismatch``: the residue is there but differs (engineered or crystallised mutation;
  the detail says whether the structure already carries the variant); distances are given;
- ``unobserved``: inside the construct but not in the coordinates;
- ``not covered``: outside the construct (or no aligned residue in the family member);
- ``not available offline`` / ``fetch failed``: the structure could not be obtained;
- ``truncating`` (nonsense, frameshift, start lost): one row per variant, not placed on
  structures; ``detail`` lists the residues, domains and binding-site residues lost;
- ``splice`` (splice-site change), ``extension`` (stop lost), ``no protein change``
  (synonymous or non-coding): one row per variant, not placed;
- ``gene not in catalog``, ``gene not selected``, ``rejected`` (parse or reference error):
  the input row gave no variant (reason in ``detail``).

Every input row is accounted for: ``input_row`` (1-based line of a file or item index) and
``sample`` (when the input has a sample column) join the table back to the cohort. Each
distinct variant is placed and measured once; its rows are then repeated for every input row
that names it. Per-structure work is done once (``analysis.analyze``); rows are built with array
lookups.

Size: the table's assembly from distinct variants (the variant columns, the unplaced rows, the
expansion to input rows and the provenance); the rows of a variant group on a structure are
``structkit.analysis.placement``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._version import __version__
from ..catalog import CatalogStructure, catalog
from ..cutoffs import resolve_cutoffs
from ..io.evidence import hotspots
from ..io.fetch import FetchError
from ..io.store import session_of
from ..io.uniprot import uniprot_record
from ..io.variants import (
    CONSEQUENCE,
    UNPLACED_COLUMNS,
    UNPLACED_STATUSES,
    Variant,
    VariantBatch,
    VariantColumns,
    parse_variants,
)
from ..keywords import accepts_session
from ..statuses import PLACEMENT_STATUSES
from .anatomy import anatomy
from .columns import COLUMNS, Codebook, _Const, _take, codebook
from .damage import AA20
from .placement import _structure_rows
from .stability import stability_mode
from .structure_analysis import _known, analyze

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["impact_table", "consequence_detail", "STATUSES", "PLACED_KINDS"]

STATUSES = PLACEMENT_STATUSES + ("not available offline", "fetch failed", "truncating",
                                 "extension") + UNPLACED_STATUSES
PLACED_KINDS = frozenset(k for k, c in CONSEQUENCE.items() if c in ("missense", "in-frame"))
_UNPLACED_STATUS = {"truncating": "truncating", "splice": "splice", "extension": "extension",
                    "synonymous": "no protein change"}


def _as_variants(variants, fetcher=None) -> tuple[VariantColumns, pd.DataFrame]:
    """The variants as columns (each distinct input once, per row its code, row and sample)
    and the input rows that gave none."""
    if isinstance(variants, Variant):
        variants = [variants]
    elif not isinstance(variants, (str, Path, VariantBatch)):
        variants = list(variants)
    if isinstance(variants, list) and all(map(isinstance, variants, repeat(Variant))):
        _check_bounds(variants, fetcher)
        return VariantColumns.of(variants), pd.DataFrame(columns=UNPLACED_COLUMNS)
    b = variants if isinstance(variants, VariantBatch) else parse_variants(variants, fetcher=fetcher)
    return b.columns(), b.unplaced


def _check_bounds(variants: list[Variant], fetcher) -> None:
    """Variant objects made by hand (not by the parser): positions within the protein, checked
    before any array is sized by them (``ValueError`` naming the first one outside)."""
    from ..io.uniprot import uniprot_record

    accs = set(map(attrgetter("accession"), variants))
    if len(accs) == 1:  # one protein (saturation scans): one pass over the positions
        ends = [e for e in map(attrgetter("end"), variants) if e is not None]
        top = {accs.pop(): max(max(map(attrgetter("position"), variants)), max(ends, default=0))}
    else:
        top = {}
        for v in variants:
            top[v.accession] = max(top.get(v.accession, 0), v.end or 0, v.position)
    for acc, p in top.items():
        n = len(uniprot_record(acc, fetcher).sequence)
        if p > n + 1:  # n + 1: a stop-lost change
            v = next(v for v in variants if v.accession == acc and max(v.end or 0, v.position) == p)
            raise ValueError(f"{v.gene} {v.hgvs}: position {p} is beyond {v.gene} ({acc}, {n} aa)")


def _entries_for(acc: str, structures, family: bool) -> list[tuple[CatalogStructure | str, str]]:
    """(structure, how) pairs for a target: how = 'direct' or the family accession."""
    cat = catalog()
    target = cat.target(acc)
    out: list[tuple[CatalogStructure | str, str]] = []
    if structures is None:
        for s in cat.structures_for(acc):
            out.append((s, "direct"))
        if family and target.family_reference:
            for s in cat.structures_for(target.family_reference):
                if s.family_reference:
                    out.append((s, target.family_reference))
        return out
    for s in structures:
        if isinstance(s, tuple):  # (structure, accession of its target)
            entry, holds = s
            holds = cat.target(holds).accession if _known(holds) else holds
            if holds == acc:
                out.append((entry, "direct"))
            elif holds == target.family_reference:
                out.append((entry, holds))
            else:
                out.append((entry, f"other:{holds}"))
            continue
        entry = (cat.find(s) or s) if isinstance(s, str) else s
        if isinstance(entry, CatalogStructure) and entry.target != acc:
            if entry.target == target.family_reference:
                out.append((entry, entry.target))
            else:  # a structure of another protein: a 'not covered' row says so
                out.append((entry, f"other:{entry.target}"))
            continue
        out.append((entry, "direct"))
    return out


@accepts_session
def impact_table(variants, structures: Iterable[str | CatalogStructure] | None = None,
                 cutoff: float | None = None, *, metal_cutoff: float | None = None,
                 family: bool = True, damage: bool = True, fetcher: Fetcher | None = None,
                 progress: bool = False, distinct: bool = False,
                 stability: str | None = None) -> pd.DataFrame:
    """Tidy table: one row per input row x structure x target chain x site.

    ``variants``: Variant objects, strings (``'ERBB2:p.T798M'``), a VariantBatch or a file path.
    ``structures``: PDB IDs / catalog entries; None takes the catalog's structures of each
    variant's gene, plus (``family=True``) the family-reference complexes (EGFR kinase-drug
    complexes for HER2), placed through the UniProt-UniProt alignment and marked in ``via``.
    ``cutoff``: contact cut-off in A between heavy atoms (site membership, contact counts);
    ``metal_cutoff``: coordination cut-off for metal sites; None takes the session's (a
    ``Session`` passed as ``fetcher``), else 4.0 and 3.0 A. Rows whose structure has no site
    have an empty ``site``; ``structure_position`` is the UniProt position in the structure's
    own protein (differs from ``position`` only for family placements). ``damage=False`` leaves
    the damage columns (``structkit.analysis.damage``) empty, for speed. ``distinct=True`` returns one
    copy per distinct variant instead (``input_row`` its first input row, ``sample`` empty,
    plus ``n_rows`` and ``n_samples``): the table ``summarize`` needs, without the repetition
    of large cohorts (``write_impact`` streams the full table to a file). ``stability``:
    ``'auto'`` gives ``stability_score`` (``structkit.analysis.stability``) from the shipped scores of
    the catalog's chains, and scores other chains on the fly when torch is installed;
    ``'shipped'`` never scores on the fly; ``'off'`` leaves the column empty; None takes the
    session's ``stability`` setting (``$STRUCTKIT_STABILITY`` when it was made, else ``'auto'``).

    Examples
    --------
    >>> t = impact_table(["TP53:p.R248Q"], structures=["1TSR"])
    >>> t[t.site == "DNA interface"][["variant", "chain", "author_num", "status", "min_dist_A",
    ...                               "in_site"]]
       variant chain  author_num  status  min_dist_A  in_site
    0  p.R248Q     B         248  mapped        3.38     True
    """
    fetcher = session_of(fetcher)
    with fetcher.lock:  # threads sharing a session take turns (see Fetcher.lock)
        parts = _compute(variants, structures, cutoff, metal_cutoff, family, damage, fetcher,
                         progress, stability)
        return parts.distinct_frame() if distinct else parts.frame()


class _Parts:
    """The blocks of distinct variants and the input rows that name them: the frame of all
    rows or of the distinct variants, or (for writers) the expansion of a range of input rows."""

    def __init__(self, blocks, vi, cols: VariantColumns, unplaced, base, book: Codebook) -> None:
        self.blocks, self.vi, self.unplaced, self.base = blocks, vi, unplaced, base
        self.book = book
        self.hotspots = ""  # provenance of the Cancer Hotspots counts (set by _compute)
        self.rows = cols.rows  # per variant row: its input row
        # its sample's code in the session's codebook: each distinct sample looked up once, in
        # order of first appearance among these rows (the order of the table's categories)
        lut = np.zeros(len(cols.names), dtype=np.int32)
        if len(cols.names) > 1:
            first = pd.unique(cols.samples)
            lut[first] = book["sample"].codes([cols.names[i] for i in first.tolist()])
        self.samples = lut[cols.samples]
        self.n_variants = len(vi)

    def _unplaced_block(self) -> dict:
        u, book = self.unplaced, self.book
        return book.block(len(u), self.base, {
            "input_row": u.row.to_numpy(dtype=np.int64),
            "sample": book["sample"].codes(_texts(u["sample"])),
            "gene": book["gene"].codes(_texts(u["gene"])),
            "variant": book["variant"].codes(u.input.astype(str).tolist()),
            "status": book["status"].codes(u.status.astype(str).tolist()),
            "detail": book["detail"].codes([f"row {r}: {why}" for r, why in
                                             zip(u.row, u.reason, strict=True)])})

    def _finish(self, blocks: list[dict]) -> pd.DataFrame:
        if not blocks:
            return pd.DataFrame(columns=COLUMNS)
        df = self.book.frame(blocks)
        df.attrs.update({"hotspots": self.hotspots, "cutoff_A": self.base["cutoff_A"],
                         "metal_cutoff_A": self.base["metal_cutoff_A"],
                         "structkit_version": __version__})
        return df

    def frame(self) -> pd.DataFrame:
        """All rows: each distinct variant's rows repeated per input row, then the unplaced rows."""
        blocks = _expand(self.blocks, self.vi, self.rows, self.samples) if self.blocks else []
        if len(self.unplaced):
            blocks.append(self._unplaced_block())
        return self._finish(blocks)

    def expanded_index(self, lo: int = 0, hi: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the variants ``lo:hi`` (input order), per output row in the order ``frame()``
        uses (``_expansion``): its input row, its sample code and the row of
        ``distinct_frame()`` it repeats. Lets a writer render each distinct row once."""
        sel = slice(lo, self.n_variants if hi is None else hi)
        vi, rows, samples = self.vi[sel], self.rows[sel], self.samples[sel]
        out_rows, out_samples, out_d = [], [], []
        off = 0
        for b, (take, src) in zip(self.blocks, _expansion(self.blocks, vi), strict=True):
            out_d.append(off + (np.arange(len(src)) if take is None else take))
            out_rows.append(rows[src])
            out_samples.append(samples[src])
            off += len(b["input_row"])
        if not out_d:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.astype(np.int32), empty
        return np.concatenate(out_rows), np.concatenate(out_samples), np.concatenate(out_d)

    def unplaced_frame(self) -> pd.DataFrame:
        """The rows of input rows that gave no variant (as at the end of ``frame()``)."""
        return self._finish([self._unplaced_block()]) if len(self.unplaced) else \
            pd.DataFrame(columns=COLUMNS)

    def distinct_frame(self) -> pd.DataFrame:
        """One copy of each distinct variant's rows, with its first input row, n_rows, n_samples."""
        vi, n = self.vi, (int(self.vi.max()) + 1 if len(self.vi) else 0)
        first = np.full(n, -1, dtype=np.int64)
        order = np.argsort(vi, kind="stable")
        uniq, pos = np.unique(vi[order], return_index=True)
        first[uniq] = order[pos]
        n_rows = np.bincount(vi, minlength=n)
        pairs = pd.DataFrame({"v": vi, "s": self.samples}).drop_duplicates()
        pairs = pairs[pairs.s != 0]  # code 0: no sample
        n_samples = np.bincount(pairs.v.to_numpy(), minlength=n)
        blocks = []
        for b in self.blocks:
            d = b["input_row"]
            nb = dict(b)
            nb["input_row"] = self.rows[first[d]]
            nb["sample"] = _Const(0, len(d))
            nb["_d"] = d
            blocks.append(nb)
        df = self._finish(blocks)
        if len(df):
            d = np.concatenate([b["_d"] for b in blocks])
            df["n_rows"] = n_rows[d]
            df["n_samples"] = n_samples[d]
        return df


def _compute(variants, structures, cutoff, metal_cutoff, family, damage, fetcher,
             progress, stability: str | None = None) -> _Parts:
    fetcher = session_of(fetcher)
    stability = stability_mode(stability, fetcher)
    cutoff, metal_cutoff = resolve_cutoffs(fetcher, cutoff, metal_cutoff)
    if structures is not None and not isinstance(structures, (str, Path)):
        structures = list(structures)
        if not structures:
            raise ValueError("structures=[]: no structure to place the variants on; give None "
                             "for the catalog's structures of each gene")
    fetcher = session_of(fetcher)  # one session for records, analyses and codes
    book = codebook(fetcher)
    cols, unplaced = _as_variants(variants, fetcher)
    base = {"cutoff_A": cutoff, "metal_cutoff_A": metal_cutoff, "structkit_version": __version__}
    # each distinct variant once (first occurrences, in input order); input rows are mapped
    # onto the distinct rows at the end. Grouped by the variants' key tuples, which dicts
    # compare in C (through Variant.__eq__ a 1M-row cohort made about 3M Python calls), over
    # the batch's distinct inputs, never per row
    protos = cols.protos
    ids: dict[tuple, int] = {}
    pi = np.fromiter((ids.setdefault(v._key(), len(ids)) for v in protos), dtype=np.int64,
                     count=len(protos))
    vi = pi[cols.codes]
    dv = list(protos) if len(ids) == len(protos) else \
        [protos[i] for i in np.unique(pi, return_index=True)[1].tolist()]
    distinct = {v: i for i, v in enumerate(dv)}
    by_acc: dict[str, list[Variant]] = {}
    index: dict[str, list[int]] = {}
    kinds = list(map(attrgetter("kind"), dv))
    accs = list(map(attrgetter("accession"), dv))
    if len(set(accs)) == 1 and PLACED_KINDS.issuperset(kinds):  # one protein, all placed
        by_acc[accs[0]], index[accs[0]] = dv, list(range(len(dv)))
    else:
        for i, (acc, kind) in enumerate(zip(accs, kinds, strict=True)):
            if kind in PLACED_KINDS:
                by_acc.setdefault(acc, []).append(dv[i])
                index.setdefault(acc, []).append(i)
    arrays = {acc: _variant_arrays(group, index[acc], book, fetcher)
              for acc, group in by_acc.items()}
    other = [v for v, k in zip(dv, kinds, strict=True) if k not in PLACED_KINDS]
    jobs = [(acc, e, how) for acc in by_acc for e, how in _entries_for(acc, structures, family)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="structures", unit="structure")
    blocks: list[dict] = []
    for acc, entry, how in jobs:
        blocks += _structure_rows(by_acc[acc], arrays[acc], entry, how, cutoff, metal_cutoff,
                                  fetcher, base, book, damage, stability)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if other:
        blocks.append(_unplaced_variant_rows(other, distinct, structures, cutoff, metal_cutoff,
                                             fetcher, base, book))
    parts = _Parts(blocks, vi, cols, unplaced, base, book)
    parts.hotspots = hotspots(fetcher).provenance
    return parts


def _texts(col: pd.Series) -> list:
    """Text cells with missing values as None."""
    return [x if isinstance(x, str) else None for x in col.tolist()]


def _expansion(blocks: list[dict], vi: np.ndarray) -> list[tuple[np.ndarray | None, np.ndarray]]:
    """How blocks of distinct variants (``input_row`` holding the distinct index) are repeated
    for input rows whose distinct index is ``vi``: per block, ``take`` (the block's row for each
    output row; None when every block row is used once, in order) and ``src`` (the input row's
    position in ``vi``). Distinct rows no input row names are left out. The one ordering rule of
    the expanded table: each block in turn, its rows in order, each repeated for the input rows
    that name its variant, in input order."""
    n_distinct = max((int(b["input_row"].max()) + 1 for b in blocks if len(b["input_row"])),
                     default=0)
    counts = np.bincount(vi, minlength=n_distinct)
    order = np.argsort(vi, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    simple = bool((counts == 1).all())
    out: list[tuple[np.ndarray | None, np.ndarray]] = []
    for b in blocks:
        d = b["input_row"]
        if simple:
            out.append((None, order[d]))
            continue
        c = counts[d]
        take = np.repeat(np.arange(len(d)), c)
        offs = np.arange(len(take)) - np.repeat(np.cumsum(c) - c, c)
        out.append((take, order[starts[d[take]] + offs]))
    return out


def _expand(blocks: list[dict], vi: np.ndarray, rows: np.ndarray,
            samples: np.ndarray) -> list[dict]:
    """Blocks of distinct variants repeated for each input row (``vi`` its distinct index,
    ``rows`` its number, ``samples`` its sample code), by ``_expansion``."""
    no_samples = not samples.any()
    out = []
    for b, (take, src) in zip(blocks, _expansion(blocks, vi), strict=True):
        nb = dict(b) if take is None else {k: _take(v, take) for k, v in b.items()}
        nb["input_row"] = rows[src]
        nb["sample"] = _Const(0, len(src)) if no_samples else samples[src]
        out.append(nb)
    return out


def _site_residues(acc: str, structures, cutoff: float, metal_cutoff: float,
                   fetcher) -> tuple[dict[str, dict[int, str]], list[str]]:
    """Binding-site residues of a protein over its own structures at hand: site kind ->
    {UniProt position: one-letter residue}, and the structures read."""
    out: dict[str, dict[int, str]] = {}
    used: list[str] = []
    for entry, how in _entries_for(acc, structures, False):
        if how != "direct":
            continue
        try:
            a = analyze(entry, acc, cutoff=cutoff, metal_cutoff=metal_cutoff, fetcher=fetcher)
        except (FetchError, LookupError, ValueError):
            continue
        if any(cd.sites for cd in a.chains.values()):
            used.append(a.structure.id)
        for cd in a.chains.values():
            pos = cd.numbering.uniprot_pos
            for site in cd.sites:
                label = _SITE_LABEL.get(site.kind, site.kind)
                if site.kind == "ligand":
                    label = f"{site.partner.drug or site.partner.name} pocket"
                elif site.kind == "epitope":
                    label = f"{site.partner.name} epitope"
                got = out.setdefault(label, {})
                for k in np.flatnonzero(site.in_site):
                    p = int(pos[k])
                    if 0 < p <= len(a.uniprot_seq):
                        got[p] = a.uniprot_seq[p - 1]
    return out, used


_SITE_LABEL = {"dna": "DNA contacts", "metal": "zinc ligands"}


def consequence_detail(v: Variant, length: int, regions, sites: dict[str, dict[int, str]],
                       from_structures: list[str]) -> str:
    """What a variant that is not placed on structures does to the protein (UniProt numbering):
    for a truncation, the residues, catalog regions and binding-site residues lost (and the
    sites kept); for a splice-site change, the same from its codon on, 'at risk'."""
    if v.kind == "synonymous":
        return f"synonymous: {v.ref}{v.position} unchanged"
    if v.kind == "stop_lost":
        return (f"stop codon {v.position} lost: the protein runs on past residue {length} "
                "(C-terminal extension); not placed on structures")
    first = 1 if v.kind == "start_lost" else v.position
    lost_n = length - first + 1
    verb = "at risk" if v.kind == "splice" else "lost"
    head = {"start_lost": "initiator Met lost: no protein from this start codon (residues "
                          f"1-{length} {verb})",
            "splice": f"splice-site change at codon {v.position}: protein effect not predicted "
                      f"(exon skipping or intron retention); residues {first}-{length} {verb} "
                      f"({lost_n} of {length} aa) if the reading frame is disrupted",
            }.get(v.kind, f"residues {first}-{length} {verb} ({lost_n} of {length} aa)")
    parts = [head]
    doms = []
    for r in regions:
        name, lo, hi = r["name"], int(r["start"]), int(r["end"])
        if hi < first:
            continue
        if lo >= first:
            doms.append(f"{name} {lo}-{hi}")
        else:
            doms.append(f"{name} {lo}-{hi} from {first} ({hi - first + 1} of {hi - lo + 1})")
    if doms:
        parts.append(f"domains {verb}: " + ", ".join(doms))
    for label, res in sorted(sites.items()):
        gone = sorted(p for p in res if p >= first)
        if gone:
            kept = len(res) - len(gone)
            parts.append(f"{label} {verb}: " + "/".join(f"{res[p]}{p}" for p in gone)
                         + (f" ({kept} of {len(res)} kept)" if kept else ""))
        elif len(res) > 6:
            parts.append(f"{label} kept (all {len(res)})")
        elif res:
            parts.append(f"{label} kept (" + "/".join(f"{res[p]}{p}" for p in sorted(res)) + ")")
    if sites:
        parts.append(f"sites from {', '.join(from_structures)}")
    elif v.kind != "synonymous":
        parts.append("no structure at hand to list binding-site residues")
    return "; ".join(parts)


def _unplaced_variant_rows(group: list[Variant], distinct: dict, structures, cutoff: float,
                           metal_cutoff: float, fetcher, base: dict, book: Codebook) -> dict:
    """One row per distinct variant that is not placed on structures (truncating, splice,
    stop lost, synonymous): status and a detail of what is lost."""
    cat = catalog()
    details = []
    site_cache: dict[str, tuple] = {}
    for v in group:
        if v.kind != "synonymous" and v.accession not in site_cache:
            site_cache[v.accession] = _site_residues(v.accession, structures, cutoff,
                                                     metal_cutoff, fetcher)
        sites, used = site_cache.get(v.accession, ({}, []))
        length = len(uniprot_record(v.accession, fetcher).sequence)
        regions = cat.target(v.accession).regions
        details.append(consequence_detail(v, length, regions, sites, used))
    va = _variant_arrays(group, [distinct[v] for v in group], book, fetcher)
    shared = {k: x for k, x in va.items() if not k.startswith("_")}
    shared["status"] = book["status"].codes([_UNPLACED_STATUS[CONSEQUENCE[v.kind]]
                                              for v in group])
    shared["detail"] = book["detail"].codes(details)
    return book.block(len(group), base, shared)


def _variant_arrays(group: list[Variant], index: list[int], book: Codebook, fetcher) -> dict:
    """Variant-level columns of one gene's distinct variants (text columns as category codes);
    ``input_row`` holds the distinct index until the rows are expanded to input rows. The
    anatomy (``region``) and the hotspot counts are per distinct variant, from the session."""
    out: dict = {"position": np.fromiter(map(attrgetter("position"), group), dtype=np.int64,
                                         count=len(group)),
                 "input_row": np.asarray(index, dtype=np.int64)}
    for name, attr in (("gene", "gene"), ("accession", "accession"), ("variant", "hgvs"),
                       ("kind", "kind"), ("ref", "ref"), ("alt", "alt")):
        # one attribute at a time: no tuple per variant (allocations that wake the collector)
        out[name] = book[name].codes(list(map(attrgetter(attr), group)))
    kinds = book["kind"].array()
    conseq = np.array([book["consequence"].code(CONSEQUENCE.get(k, "")) if k else 0
                       for k in kinds], dtype=np.int32)
    out["consequence"] = conseq[out["kind"]]
    alt_cats = book["alt"].array()
    to_aa20 = np.array([AA20.index(x) if isinstance(x, str) and len(x) == 1 and x in AA20 else -1
                        for x in alt_cats], dtype=np.int64)
    out["_alt_idx"] = to_aa20[out["alt"]]
    out["_missense"] = out["kind"] == book["kind"].code("missense")
    out["_ref"] = book["ref"].array()[out["ref"]]
    out["_ref_text"] = out["_ref"].astype(str)
    out["_alt"] = alt_cats[out["alt"]]
    out["_inframe"] = out["consequence"] == book["consequence"].code("in-frame")
    out.update(_known_columns(group, out, book, fetcher))
    out["_end"] = out["position"]
    if out["_inframe"].any():  # ranges: the last residue affected
        out["_end"] = np.fromiter((v.end or v.position for v in group), dtype=np.int64,
                                  count=len(group))
    return out


def _known_columns(group: list[Variant], va: dict, book: Codebook, fetcher) -> dict:
    """``region`` (structkit.analysis.anatomy) and the Cancer Hotspots counts (-1: file missing), per
    gene of ``group`` (the unplaced variants mix genes)."""
    n = len(group)
    region = np.ones(n, dtype=np.int32)  # code 1: ''
    res = np.full(n, -1, dtype=np.int64)
    allele = np.full(n, -1, dtype=np.int64)
    hot = hotspots(fetcher)
    codes = va["accession"]
    for code in np.unique(codes).tolist():
        idx = np.flatnonzero(codes == code)
        members = [group[i] for i in idx.tolist()] if len(idx) < n else group
        pos = va["position"][idx]
        try:
            region[idx] = anatomy(members[0].accession, fetcher).region_codes(pos, book["region"])
        except (KeyError, FetchError):  # not a catalog target, or no UniProt record
            pass
        subst = np.where(va["_missense"][idx], va["_alt_idx"][idx], -1)
        res[idx], allele[idx] = hot.counts_array(members[0].gene, members, pos, subst, AA20)
    return {"region": region, "hotspot_tumours": res, "hotspot_allele_tumours": allele}
