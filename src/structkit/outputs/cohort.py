"""Cohort tables: per sample, per gene and per position, from an impact table and its summary.

A cohort is a set of input rows (MAF rows, hotspot-table rows), each with a sample when the
input names one (``Tumor_Sample_Barcode`` or ``--sample-column``). The impact table keeps every
input row (``input_row``, ``sample``); ``summarize`` gives one row per distinct variant with its
mechanism. Here the two are joined back so that a user can ask which samples carry a DNA-contact,
zinc-site, structural, epitope or drug-pocket variant, and how often each position recurs.
Positions are UniProt numbering.
"""

from __future__ import annotations

from pathlib import Path  # noqa: F401 - used by the docstring example

import numpy as np
import pandas as pd

__all__ = ["cohort_tables", "MECHANISM_CLASSES"]

# mechanism (structkit.judge.verdict) -> the class a cohort table counts
MECHANISM_CLASSES = {
    "DNA contact": "dna_contact",
    "zinc site": "zinc_site",
    "buried core / destabilising": "structural",
    "antibody epitope": "epitope",
    "drug pocket": "drug_pocket",
    "covalent anchor": "drug_pocket",
    "truncating": "truncating",
    "splice site": "splice",
}
NO_POSITION = "splice site (no protein position)"
CLASS_ORDER = ["dna_contact", "zinc_site", "structural", "epitope", "drug_pocket", "truncating",
               "splice"]


def _input_rows(source) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per input row that gave a variant or is a splice-site row: input_row, sample,
    gene, variant, position, consequence, _splice; the other input rows: input_row, sample,
    gene, input, status, detail), from an impact table or, without building one, a batch."""
    from ..io.variants import CONSEQUENCE, VariantBatch

    if isinstance(source, VariantBatch):
        c, u = source.columns(), source.unplaced
        ps = c.protos  # each distinct input once: its values taken per row
        rows = pd.DataFrame({
            "input_row": c.rows,
            "sample": _taken(c.names, c.samples),
            "gene": _taken([v.gene for v in ps], c.codes),
            "variant": _taken([v.hgvs for v in ps], c.codes),
            "position": _taken([v.position for v in ps], c.codes, np.int64),
            "consequence": _taken([CONSEQUENCE.get(v.kind) for v in ps], c.codes),
            "_splice": _taken([v.kind == "splice" for v in ps], c.codes, bool)})
        splice = (u.status == "splice").to_numpy()
        s = u[splice]
        if len(s):  # (a concat copies every column of a 1M-row cohort: only when needed)
            rows = pd.concat([rows, pd.DataFrame({
                "input_row": s.row.to_numpy(dtype=np.int64), "sample": s["sample"].to_numpy(object),
                "gene": s.gene.to_numpy(object), "variant": s.input.astype(str).to_numpy(object),
                "position": np.full(len(s), -1, dtype=np.int64),
                "consequence": np.full(len(s), None, dtype=object),
                "_splice": np.ones(len(s), dtype=bool)})], ignore_index=True)
        o = u[~splice]
        other = pd.DataFrame({
            "input_row": o.row.to_numpy(dtype=np.int64), "sample": o["sample"].to_numpy(object),
            "gene": o.gene.to_numpy(object), "input": o.input.astype(str).to_numpy(object),
            "status": o.status.astype(str).to_numpy(object),
            "detail": np.array([f"row {r}: {why}" for r, why in zip(o.row, o.reason, strict=True)],
                               dtype=object)})
        return _by_input_row(rows), _by_input_row(other)
    table = source
    # variants, and splice-site rows of catalog genes that give no protein position
    splice = (table.status == "splice").to_numpy()
    t = table[table.kind.notna().to_numpy() | splice]
    rows = pd.DataFrame({
        "input_row": t["input_row"].to_numpy(dtype=np.int64, na_value=-1),
        "sample": t["sample"].astype(object).to_numpy(),
        "gene": t["gene"].astype(object).to_numpy(),
        "variant": t["variant"].astype(object).to_numpy(),
        "position": t["position"].to_numpy(dtype=np.int64, na_value=-1),
        "consequence": t["consequence"].astype(object).to_numpy(),
        "_splice": (t.status == "splice").to_numpy(),
    }).drop_duplicates("input_row")
    o = table[table.kind.isna() & (table.status != "splice")]
    other = pd.DataFrame({
        "input_row": o["input_row"].to_numpy(dtype=np.int64, na_value=-1),
        "sample": o["sample"].astype(object).to_numpy(),
        "gene": o["gene"].astype(object).to_numpy(),
        "input": o["variant"].astype(object).to_numpy(),
        "status": o["status"].astype(object).to_numpy(),
        "detail": o["detail"].astype(object).to_numpy()})
    return rows, other


def _taken(values: list, index: np.ndarray, dtype=object) -> np.ndarray:
    """``values[i]`` for each ``i`` of ``index``, as an array of ``dtype``."""
    out = np.empty(len(values), dtype=dtype)
    out[:] = values
    return out[index]


def _rows(rows: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The input rows with their variant's mechanism, impact_score and class."""
    keys = summary[["gene", "variant", "mechanism", "impact_score"]]
    rows = rows.merge(keys, on=["gene", "variant"], how="left", validate="many_to_one")
    rows.loc[rows._splice, ["consequence", "mechanism"]] = ["splice", "splice site"]
    no_position = rows._splice & (rows.position < 0)  # a MAF splice row without a protein change
    rows.loc[no_position, "variant"] = NO_POSITION
    rows = rows.drop(columns="_splice")
    rows["class"] = rows.mechanism.map(MECHANISM_CLASSES)
    return _by_input_row(rows).reset_index(drop=True)


def _by_input_row(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` in input-row order (stable); as they are when already in it (the rows of a
    file are: a sort would copy every column of a 1M-row cohort for nothing)."""
    if rows.input_row.is_monotonic_increasing:
        return rows
    return rows.sort_values("input_row", kind="stable")


def _samples_table(rows: pd.DataFrame, cohort: set) -> pd.DataFrame:
    """One row per sample of ``cohort`` (carriers with their counts, classes and variants, the
    others with 0 and False); empty with the columns when the input names no samples."""
    has_samples = bool(cohort)
    scols = ["sample", "n_rows", "n_variants", "genes", *CLASS_ORDER, "variants"]
    if has_samples:
        r = rows.dropna(subset=["sample"])
        carriers = r.groupby("sample", sort=True).agg(n_rows=("input_row", "size"),
                                                      **{c: (c, "any") for c in CLASS_ORDER})
        # per sample its genes (sorted) and variant labels (in input order), each once, from
        # integer codes: not a Python call on a pandas Series per sample (200k samples of a
        # 1M-row cohort: 13 s)
        genes, _ = _joined_per_key(r["sample"], r["gene"], ", ", sort=True)
        labels, n_labels = _joined_per_key(r["sample"], r["label"], "; ")
        carriers["n_variants"] = n_labels.reindex(carriers.index).to_numpy()
        carriers["genes"] = genes.reindex(carriers.index).to_numpy()
        carriers["variants"] = labels.reindex(carriers.index).to_numpy()
        table_s = carriers.reindex(sorted(cohort))  # every sample of the cohort
        table_s[["n_rows", "n_variants"]] = table_s[["n_rows", "n_variants"]].fillna(0).astype(np.int64)
        table_s[CLASS_ORDER] = table_s[CLASS_ORDER].astype("boolean").fillna(False).astype(bool)
        table_s[["genes", "variants"]] = table_s[["genes", "variants"]].fillna("")
        samples_t = table_s.rename_axis("sample").reset_index()[scols]
    else:
        samples_t = pd.DataFrame(columns=scols)
    return samples_t


def _joined_per_key(keys: pd.Series, values: pd.Series, sep: str, sort: bool = False
                    ) -> tuple[pd.Series, pd.Series]:
    """Per key (the index): its distinct values joined by ``sep``, in order of first
    appearance (``sort``: in sorted order), and how many there are."""
    kc, ku = pd.factorize(keys)
    vc, vu = pd.factorize(values)
    if not len(kc):
        return pd.Series([], dtype=object), pd.Series([], dtype=np.int64)
    pair = kc.astype(np.int64) * len(vu) + vc
    first = np.sort(np.unique(pair, return_index=True)[1])  # each (key, value) once, in order
    k, v = kc[first], vc[first]
    texts = np.asarray(vu, dtype=object)
    if sort:
        rank = np.empty(len(vu), dtype=np.int64)
        rank[np.argsort(texts, kind="stable")] = np.arange(len(vu))
        o = np.lexsort((rank[v], k))
    else:
        o = np.argsort(k, kind="stable")
    k, v = k[o], v[o]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    ends = np.r_[starts[1:], len(k)]
    vals = texts[v].tolist()
    index = pd.Index(np.asarray(ku, dtype=object)[k[starts]])
    return (pd.Series([sep.join(vals[a:b]) for a, b in zip(starts.tolist(), ends.tolist(),
                                                           strict=True)],
                      index=index, dtype=object),
            pd.Series(ends - starts, index=index))


def _genes_table(rows: pd.DataFrame, unit: str, n_cohort: int | None) -> pd.DataFrame:
    """Per gene: rows, samples, their fraction of the cohort, variants, and per class the
    samples (or rows) with a variant of that class."""
    g = rows.groupby("gene", sort=True)
    genes = g.agg(n_rows=("input_row", "size"), n_samples=("sample", "nunique"),
                  n_variants=("variant", "nunique")).reset_index()
    genes.insert(3, "frac_samples", genes.n_samples / n_cohort if n_cohort else np.nan)
    for c in CLASS_ORDER:
        hit = rows[rows[c]]
        genes[f"{unit}s_{c}"] = (hit.groupby("gene")[unit].nunique()
                                 .reindex(genes.gene, fill_value=0).to_numpy())
    return genes


def _positions_table(rows: pd.DataFrame, n_cohort: int | None, has_samples: bool) -> pd.DataFrame:
    """Recurrence per (gene, UniProt position), most samples first; splice rows without a
    position last, with position <NA>."""
    p = rows.groupby(["gene", "position"], sort=False)
    positions = p.agg(n_samples=("sample", "nunique"), n_rows=("input_row", "size"),
                      max_impact_score=("impact_score", "max")).reset_index()
    counts = rows.groupby(["gene", "position", "variant"], sort=False).size().rename("n").reset_index()
    counts = counts.sort_values(["gene", "position", "n", "variant"],
                                ascending=[True, True, False, True], kind="stable")
    counts["txt"] = counts.variant + " x" + counts.n.astype(str)
    var_txt = counts.groupby(["gene", "position"]).txt.agg(", ".join)
    mech = (rows[["gene", "position", "mechanism"]].dropna(subset=["mechanism"]).drop_duplicates()
            .groupby(["gene", "position"]).mechanism.agg(lambda x: ", ".join(sorted(x))))
    idx = pd.MultiIndex.from_frame(positions[["gene", "position"]])
    positions["variants"] = var_txt.reindex(idx).to_numpy()
    positions["mechanisms"] = mech.reindex(idx).fillna("").to_numpy()
    positions.insert(3, "frac_samples", positions.n_samples / n_cohort if n_cohort else np.nan)
    positions["_none"] = positions.position < 0  # splice rows without a position: last
    positions = positions.sort_values(["_none", "n_samples" if has_samples else "n_rows", "n_rows",
                                       "gene", "position"],
                                      ascending=[True, False, False, True, True], kind="stable")
    positions = positions.drop(columns="_none").reset_index(drop=True)
    positions["position"] = positions.position.where(positions.position >= 0).astype("Int64")
    return positions


def cohort_tables(table, summary: pd.DataFrame | None = None,
                  samples=None) -> dict[str, pd.DataFrame]:
    """Per-sample, per-gene and per-position tables of a cohort.

    ``table`` is an impact table (``structkit.impact_table``) or, for large cohorts, the
    ``VariantBatch`` it was made from (``parse_variants``): then the input rows come from the
    batch and ``summary`` is required, made from the distinct table
    (``summarize(impact_table(batch, distinct=True))``), so no table of rows x structures is
    ever built. ``summary`` is the table's ``summarize`` (computed when not given). Returns a
    dict of DataFrames:

    - ``samples``: one row per sample of the cohort: every sample the input names (rows of
      other genes included) and those of ``samples`` (a list of sample names: a sample without
      any mutation is in no MAF); ``n_rows`` (input rows of catalog genes), ``n_variants``,
      ``genes``, one boolean column per mechanism class (``dna_contact``, ``zinc_site``,
      ``structural``, ``epitope``, ``drug_pocket``, ``truncating``, ``splice``) and
      ``variants`` (each with its mechanism and score); samples without a variant of a catalog
      gene have 0 and False. Empty when the input names no samples.
    - ``genes``: per gene: ``n_rows``, ``n_samples``, ``frac_samples`` (of the cohort's
      samples), ``n_variants`` and, per class, the number of samples (or rows, without samples)
      with a variant of that class.
    - ``positions``: recurrence per (gene, UniProt position): ``n_samples``, ``frac_samples``,
      ``n_rows``, the variants seen with their counts, mechanisms and the highest
      ``impact_score``; splice-site rows without a protein position come last.

    Every table's ``attrs["n_samples"]`` is the cohort's sample count (the denominator of
    ``frac_samples``; None without samples).
    - ``unplaced``: input rows that gave no variant, with status and reason (splice-site rows
      of catalog genes without a protein position are counted as ``splice`` instead, at
      position <NA>).

    Examples
    --------
    The TCGA LAML MAF of the mirror: 19 TP53 rows in 15 samples; the zinc ligand variants
    C176Y and H179R put two samples in the zinc-site class.

    >>> from structkit.io.store import default_session
    >>> batch = parse_variants(Path(default_session().mirror) / "variants" / "tcga_laml.maf.gz")
    >>> summary = summarize(impact_table(batch, distinct=True))
    >>> c = cohort_tables(batch, summary)
    >>> genes = c["genes"].set_index("gene")
    >>> genes.loc["TP53", ["n_rows", "n_samples", "samples_zinc_site"]].astype(int).tolist()
    [19, 15, 2]
    """
    from ..io.variants import VariantBatch

    if summary is None:
        if isinstance(table, VariantBatch):
            raise ValueError("cohort_tables(batch): give the summary of "
                             "impact_table(batch, distinct=True)")
        from .impact import summarize

        summary = summarize(table)
    inputs, unplaced = _input_rows(table)
    rows = _rows(inputs, summary)
    for c in CLASS_ORDER:
        rows[c] = rows["class"] == c
    score = rows.impact_score  # each distinct score formatted once
    score = score.map({x: f", {x:.2f}" for x in score.dropna().unique()}).fillna("")
    label = (rows.gene + " " + rows.variant + " (" + rows.mechanism.fillna("").astype(str)
             + score.astype(object) + ")")
    rows["label"] = label
    cohort = set(rows["sample"].dropna().unique()) | set(unplaced["sample"].dropna().unique()) | {
        str(x) for x in (samples or ())}
    has_samples = bool(cohort)
    unit = "sample" if has_samples else "input_row"
    n_cohort = len(cohort) if has_samples else None
    samples_t = _samples_table(rows, cohort)
    genes = _genes_table(rows, unit, n_cohort)
    positions = _positions_table(rows, n_cohort, has_samples)
    unplaced = unplaced.reset_index(drop=True)
    out = {"samples": samples_t, "genes": genes, "positions": positions, "unplaced": unplaced}
    for df in out.values():
        df.attrs["n_samples"] = n_cohort
    return out
