"""Figures for reviews (matplotlib): lollipop over the domain map, distance profiles.

- ``lollipop(variants, gene)``: mutation counts per UniProt position as lollipops over the
  protein's domain map (regions from the catalog), the cancer-genomics convention; the most
  frequent positions are labelled with their changes; residues of computed sites (e.g. the DNA
  interface of 1TSR) are marked under the axis.
- ``distance_profile(table)``: for each variant (x, by position) the minimum heavy-atom distance
  to each site (y, one colour per site), with the contact cut-off as a dashed line.

Size: three figures (lollipop with its tracks, distance profile, therapy heat map) that share
the colour tables and the site kinds; each is a few short functions.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt  # the backend is matplotlib's choice (inline in notebooks,
import numpy as np  # Agg without a display); the command line picks Agg itself
import pandas as pd
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from ..analysis.anatomy import anatomy
from ..catalog import catalog
from ..io.evidence import hotspots
from ..io.uniprot import uniprot_record
from ..io.variants import CONSEQUENCE, Variant, parse_variants

__all__ = ["lollipop", "distance_profile", "site_positions", "therapy_heatmap"]

CLASS_COLORS = {"missense": "#d62728", "truncating": "#1a1a1a", "in-frame": "#8c564b",
                "splice": "#ff7f0e", "extension": "#9467bd", "synonymous": "#bdbdbd"}
MECHANISM_COLORS = {"DNA contact": "#1f77b4", "zinc site": "#8c564b",
                    "buried core / destabilising": "#d62728", "antibody epitope": "#ff7f0e",
                    "drug pocket": "#17becf", "covalent anchor": "#9467bd",
                    "surface / tolerated": "#c7c7c7", "truncating": "#1a1a1a",
                    "splice site": "#ffbb78"}
EFFECT_COLORS = {"activating": "#d62728", "resistance candidate": "#9467bd",
                 "catalytically dead": "#1f77b4", "uncertain": "#ffbb78", "likely neutral": "#c7c7c7",
                 "loss of function": "#d62728", "loss of function (truncating)": "#1a1a1a",
                 "not assessed (truncating)": "#1a1a1a"}
ELEMENT_COLORS = ["#6baed6", "#74c476", "#fd8d3c", "#9e9ac8", "#fb6a4a", "#bdbdbd", "#e7ba52"]
HIDDEN_ELEMENTS = ("N-lobe", "C-lobe")  # they cover the whole kinase domain: no information
LABEL_MIN_FRACTION = 0.03  # an element is labelled on the track when it spans this much
MAX_HOTSPOT_LABELS = 3
MAX_PROFILE_VARIANTS = 50  # distance profile: more variants are summarised, not drawn
MAX_FIGURE_IN = 18.0  # inches: at 200 dpi a figure stays under 3,600 px on each side
DOMAIN_COLORS = ["#9ecae1", "#a1d99b", "#fdae6b", "#bcbddc", "#fc9272", "#c7e9c0"]
SITE_COLORS = ["#1e90ff", "#8b4513", "#ff8c00", "#2ca02c", "#9467bd", "#e377c2", "#17becf"]


def site_positions(structure_ids: list[str] | tuple[str, ...], fetcher=None) -> dict[str, set[int]]:
    """UniProt positions of every computed site in the given catalog structures, by site name."""
    from ..analysis.structure_analysis import analyze

    out: dict[str, set[int]] = {}
    for sid in structure_ids:
        a = analyze(sid, fetcher=fetcher)
        for cd in a.chains.values():
            for s in cd.sites:
                pos = cd.numbering.uniprot_pos[s.in_site]
                out.setdefault(f"{s.name} ({a.structure.id})", set()).update(int(p) for p in pos if p > 0)
    return out


def _weighted_variants(variants, target, fetcher, counts_column: str | None):
    """The lollipop's input: (variants of ``target``, the weight of each, the unit when the
    weights are counts, whether samples are counted, whether a file without samples or counts
    is counted by rows)."""
    weights: list[int] | None = None
    unit_label = None
    if isinstance(variants, (str, Path)) and _is_hotspot_residue_table(Path(variants)):
        vs, weights = _hotspot_alleles(Path(variants), target, fetcher)
        unit_label = "tumours (Cancer Hotspots v2)"
    elif isinstance(variants, (str, Path)):
        vs = parse_variants(variants, genes=[target.gene], fetcher=fetcher).variants
    else:
        items = list(variants)
        vs = [v for v in items if isinstance(v, Variant)]
        vs += parse_variants([v for v in items if isinstance(v, str)], genes=[target.gene],
                             fetcher=fetcher).variants
    if counts_column is not None and weights is None:
        if not isinstance(variants, (str, Path)):
            raise ValueError("counts_column needs the input file the variants come from")
        vs, weights = _column_counts(Path(variants), vs, counts_column, target.gene)
        unit_label = f"count ({counts_column})"
    keep = [i for i, v in enumerate(vs) if v.gene == target.gene]
    vs = [vs[i] for i in keep]
    weights = [weights[i] for i in keep] if weights is not None else None
    if not vs:
        raise ValueError(f"no {target.gene} variants to plot")
    by_sample = weights is None and any(v.sample for v in vs)
    if by_sample:
        seen: set = set()
        uniq = []
        for v in vs:
            key = (v.sample, v)
            if key not in seen:
                seen.add(key)
                uniq.append(v)
        vs = uniq
    if weights is None:
        weights = [1] * len(vs)
    # a file of variants without samples or counts (a hotspot allele list): each row counts once,
    # and the figure says so (a panel given as a list of variants is not warned about)
    uncounted = isinstance(variants, (str, Path)) and unit_label is None and not by_sample
    return vs, weights, unit_label, by_sample, uncounted


def _tracks(ax, target, length: int, ymax: float, sites_from, fetcher) -> float:
    """The domain bar under the stems and, under it, the anatomy, hotspot and site tracks;
    returns the lowest y the axes must show."""
    bar_h = ymax * 0.07
    ax.add_patch(plt.Rectangle((1, -bar_h * 1.5), length - 1, bar_h, color="#d9d9d9", zorder=0))
    for i, r in enumerate(target.regions):
        if r["name"] in ("Extracellular", "Cytoplasmic"):
            continue
        ax.add_patch(plt.Rectangle((r["start"], -bar_h * 1.9), r["end"] - r["start"], bar_h * 1.8,
                                   color=DOMAIN_COLORS[i % len(DOMAIN_COLORS)], zorder=1))
        ax.text((r["start"] + r["end"]) / 2, -bar_h, r["name"], ha="center", va="center", fontsize=7)
    def row_y(i: int) -> float:  # the rows under the domain bar: anatomy, hotspots, sites
        return -bar_h * (2.7 + 0.8 * i)

    rows = 0
    if _anatomy_track(ax, target, length, row_y(rows), bar_h * 0.55, fetcher):
        rows += 1
    if _hotspot_track(ax, target, row_y(rows), fetcher):
        rows += 1
    site_handles = []
    if sites_from:
        for k, (name, pos) in enumerate(sorted(site_positions(sites_from, fetcher).items())):
            y = row_y(rows + k)
            site_handles.append(ax.scatter(sorted(pos), [y] * len(pos), marker="^", s=14,
                                           color=SITE_COLORS[k % len(SITE_COLORS)], label=name,
                                           zorder=3))
    return row_y(len(site_handles) + rows) + bar_h * 0.3


def _lollipop_text(ax, target, length: int, vs, weights, counts, unit_label, counts_column,
                   by_sample: bool, uncounted: bool, title: str | None) -> None:
    """The lollipop's axis labels and title: what was counted, and a warning (in the title and
    as a ``UserWarning``) when a list without samples or counts is counted by rows."""
    ax.set_xlabel(f"{target.gene} residue (UniProt {target.accession} numbering, {length} aa)")
    ax.set_ylabel(unit_label or ("samples with the change" if by_sample else "input rows"))
    if unit_label and counts_column:
        what = f"{sum(weights)} counted in column {counts_column} ({len(vs)} rows)"
    elif unit_label:
        what = f"{sum(weights)} {unit_label.split(' (')[0]}, {len(vs)} alleles"
    else:
        what = f"{len(vs)} {'sample-variant pairs' if by_sample else 'variants'}"
    text = title or f"{target.gene}: {what} at {len(counts)} positions"
    if uncounted:
        text += ("\ncounting input rows: this list has no samples or counts (give the count column "
                 "or the hotspot residue table)")
        import warnings

        warnings.warn(f"lollipop of {target.gene}: the input has no samples or counts; each row "
                      "counts once", stacklevel=3)
    ax.set_title(text, fontsize=10)


def lollipop(variants, gene: str, *, sites_from: tuple[str, ...] = (), ax=None, top: int = 10,
             title: str | None = None, fetcher=None, summary: pd.DataFrame | None = None,
             counts_column: str | None = None):
    """Lollipop plot of variant counts per position over the domain map of ``gene``.

    ``variants``: Variant objects, strings, or a file (MAF/CSV/TSV) read with ``parse_variants``.
    Only variants of ``gene`` are counted: with ``counts_column``, the number in that column of
    each input row (a count table); for the Cancer Hotspots residue table
    (``cancerhotspots_v2_multi_type_residue.txt``) automatically, each allele's tumour count;
    else once per (sample, change) when the input names samples (a sample with the same change
    on two rows counts once), else once per input row, with a warning in the title (a list
    without counts makes a residue with many distinct alleles look frequent). The y label says
    which. Heads are stacked by consequence class (missense, truncating, in-frame, splice, ...).
    Every position with at least the ``top``-th highest count is labelled (ties included, at
    most ``2 * top``) with all its changes (``R248Q/W/L``, beyond six alleles ``+N more``),
    moved up and sideways on a leader line until no two labels overlap; the highest counts are
    placed first. Domain
    tracks come from the catalog's regions, site tracks from the computed sites of the
    ``sites_from`` structures; under the domain bar, a track of the anatomy's elements
    (``structkit.analysis.anatomy``: ECD domains, loops, kinase elements; those under 3 % of the length
    unlabelled) and one of the Cancer Hotspots v2 residues (diamonds sized by tumour count, the
    top three labelled). With ``summary`` (``structkit.summarize`` of these variants) the heads
    are coloured by mechanism for a tumour suppressor (DNA contact, zinc site, buried core,
    truncating, ...) and by effect class for an oncogene (activating, resistance candidate,
    catalytically dead, ...), whose mechanisms are its many anatomical elements. Returns the
    matplotlib Figure.
    """
    target = catalog().target(gene)
    vs, weights, unit_label, by_sample, uncounted = _weighted_variants(variants, target, fetcher,
                                                                       counts_column)
    length = len(uniprot_record(target.accession, fetcher).sequence)
    counts, per_class, changes, colors = _tally(vs, weights, target, summary)
    if ax is None:
        fig, ax = plt.subplots(figsize=(13, 4.6))
    else:
        fig = ax.figure
    ys = _stems(ax, counts, per_class, colors)
    ymax = max(ys) * 1.7 + 1  # room for the labels above the highest heads
    bottom = _tracks(ax, target, length, ymax, sites_from, fetcher)
    ax.set_xlim(0, length + 1)
    ax.set_ylim(bottom, ymax)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= max(ys) * 1.2 + 0.5])
    _lollipop_text(ax, target, length, vs, weights, counts, unit_label, counts_column, by_sample,
                   uncounted, title)
    ax.spines[["top", "right"]].set_visible(False)
    # the legend beside the axes: the space above the heads is the labels'
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False, ncol=1)
    order = sorted(counts, key=lambda p: (-counts[p], p))
    cut = counts[order[min(top, len(order)) - 1]]
    chosen = [p for p in order if counts[p] >= cut][:2 * top]
    fig.tight_layout()  # (the legend beside the axes is part of their tight box)
    _place_labels(ax, [(x, counts[x], _allele_label(x, changes[x])) for x in chosen])
    return fig


def _tally(vs, weights, target, summary: pd.DataFrame | None) -> tuple:
    """Counts per position, per head class (consequence, or with ``summary`` the mechanism of a
    tumour suppressor / the effect class of an oncogene) and per change, and the class colours."""
    counts: Counter = Counter()
    per_class: dict[int, Counter] = {}
    changes: dict[int, Counter] = {}
    mech = None
    by_effect = target.role_kind == "oncogene"  # an oncogene's mechanisms are its many elements
    if summary is not None and len(summary):
        col = summary.effect_class if by_effect else summary.mechanism
        mech = dict(zip(zip(summary.gene.astype(str), summary.variant.astype(str), strict=True),
                        col.astype(str), strict=True))
    for v, w in zip(vs, weights, strict=True):
        counts[v.position] += w
        key = CONSEQUENCE[v.kind] if mech is None else mech.get((v.gene, v.hgvs), "not scored")
        per_class.setdefault(v.position, Counter())[key] += w
        changes.setdefault(v.position, Counter())[v.short] += w
    colors = CLASS_COLORS if mech is None else EFFECT_COLORS if by_effect else MECHANISM_COLORS
    return counts, per_class, changes, colors


def _stems(ax, counts: Counter, per_class: dict, colors: dict) -> np.ndarray:
    """A stem per position and its heads stacked by class (each drawn at its cumulative count);
    returns the counts of the positions, in position order."""
    xs = np.array(sorted(counts))
    ys = np.array([counts[x] for x in xs])
    ax.vlines(xs, 0, ys, color="#7f7f7f", linewidth=0.8, zorder=1)
    seen = {c for x in xs for c in per_class[x]}
    classes = [c for c in colors if c in seen] + sorted(seen - set(colors))
    base = np.zeros(len(xs))
    for c in classes:
        n = np.array([per_class[x][c] for x in xs], dtype=float)
        has = n > 0
        ax.scatter(xs[has], (base + n)[has], s=16 + 3 * np.sqrt(n[has]) * 4,
                   color=colors.get(c, "#cccccc"), edgecolor="black", linewidth=0.4, zorder=2,
                   label=c)
        base += n
    return ys


MAX_ALLELES_SHOWN = 6


def _allele_label(position: int, changes: Counter) -> str:
    """All changes at a position, most frequent first: substitutions of one residue share their
    prefix (``R248Q/W/L``); other changes in full; beyond ``MAX_ALLELES_SHOWN``, '+N more'."""
    names = [c for c, _ in sorted(changes.items(), key=lambda kv: (-kv[1], kv[0]))]
    shown, rest = names[:MAX_ALLELES_SHOWN], len(names) - MAX_ALLELES_SHOWN
    prefix = next((c[:-1] for c in shown if len(c) >= 2 and c[:-1][1:] == str(position)), None)
    parts: list[str] = []
    for c in shown:
        if prefix and c.startswith(prefix) and len(c) == len(prefix) + 1:
            parts.append(c if not any(p.startswith(prefix) for p in parts) else c[-1])
        else:
            parts.append(c)
    return "/".join(parts) + (f" +{rest} more" if rest > 0 else "")


def _is_hotspot_residue_table(path: Path) -> bool:
    from ..io.evidence import HOTSPOTS_HEADER
    from ..io.variants import read_text

    try:
        return path.is_file() and read_text(path).startswith(HOTSPOTS_HEADER)
    except (OSError, ValueError):
        return False


def _hotspot_alleles(path: Path, target, fetcher) -> tuple[list[Variant], list[int]]:
    """The residue table's alleles of the gene as missense variants with their tumour counts
    (the reference residue's own count, a silent change, left out)."""
    from ..io.variants import read_text

    df = pd.read_csv(io.StringIO(read_text(path)), sep="\t", dtype=str,
                     keep_default_na=False)
    df = df[(df.Hugo_Symbol == target.gene) & df.Amino_Acid_Position.str.isdigit()]
    items, ws = [], []
    for res, pos, alleles in zip(df.Residue, df.Amino_Acid_Position, df.Variant_Amino_Acid,
                                 strict=True):
        ref = res[:1]
        for part in alleles.split("|"):
            a, _, n = part.rpartition(":")
            if a and a != ref and n.isdigit() and len(a) == 1:
                items.append(f"{target.gene}:p.{ref}{pos}{a}")
                ws.append(int(n))
    vs = parse_variants(items, fetcher=fetcher).variants  # row: the item's 1-based index
    return vs, [ws[v.row - 1] for v in vs]


def _column_counts(path: Path, vs: list[Variant], column: str, gene: str):
    """The count of each variant's input row from ``column`` of the file (rows by line)."""
    from ..io.variants import read_text

    text = read_text(path)
    first = next(ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))
    df = pd.read_csv(io.StringIO(text), sep="\t" if "\t" in first else ",",
                     dtype=str, keep_default_na=False, comment=None)
    if column not in df.columns:
        raise ValueError(f"{path}: no column {column!r} to count by; columns are "
                         f"{', '.join(df.columns[:20])}")
    values = pd.to_numeric(df[column], errors="coerce")
    skipped = sum(1 for ln in text.splitlines()[:text.splitlines().index(first)])
    out_v, out_w = [], []
    for v in vs:
        i = (v.row or 0) - skipped - 2  # the header is line skipped + 1
        if 0 <= i < len(values) and values.iloc[i] == values.iloc[i] and values.iloc[i] > 0:
            out_v.append(v)
            out_w.append(int(values.iloc[i]))
    return out_v, out_w


def _anatomy_track(ax, target, length: int, y: float, h: float, fetcher) -> bool:
    """The anatomy's elements (structkit.analysis.anatomy: ECD domains, loops, kinase elements) as one
    row of boxes, larger first; those wide enough carry their name. False if there are none."""
    try:
        elements = [e for e in anatomy(target.accession, fetcher).elements
                    if e.kind == "element" and e.name not in HIDDEN_ELEMENTS and e.positions]
    except (KeyError, ValueError):
        return False
    elements.sort(key=lambda e: -len(e.positions))  # larger first: smaller ones drawn on top
    pieces = []
    for i, e in enumerate(elements):
        pos = np.array(sorted(e.positions))
        breaks = np.flatnonzero(np.diff(pos) > 1)  # an element in pieces: one box per piece
        for lo, hi in zip(pos[np.r_[0, breaks + 1]], pos[np.r_[breaks, len(pos) - 1]], strict=True):
            ax.add_patch(plt.Rectangle((lo, y - h / 2), hi - lo + 1, h, zorder=2, linewidth=0.3,
                                       facecolor=ELEMENT_COLORS[i % len(ELEMENT_COLORS)],
                                       edgecolor="white"))
            pieces.append((int(lo), int(hi), e.name))
    labelled: list[tuple[int, int]] = []  # the most specific names first, never two on one span
    for lo, hi, name in sorted(pieces, key=lambda t: t[1] - t[0]):
        if (hi - lo + 1) / length >= LABEL_MIN_FRACTION and not any(
                lo <= b and a <= hi for a, b in labelled):
            ax.text((lo + hi) / 2, y, name, ha="center", va="center", fontsize=5.5, zorder=3)
            labelled.append((lo, hi))
    ax.text(0, y, "anatomy ", ha="right", va="center", fontsize=6, color="#555555")
    return bool(elements)


def _hotspot_track(ax, target, y: float, fetcher) -> bool:
    """Cancer Hotspots v2 residues of the gene as diamonds sized by tumour count, the most
    recurrent few labelled with their count. False if the table has none or is missing."""
    h = hotspots(fetcher)
    pts = sorted((p, n) for (g, p), (n, _) in h.residues.items() if g == target.gene)
    if not pts:
        return False
    xs = np.array([p for p, _ in pts])
    ns = np.array([n for _, n in pts], dtype=float)
    ax.scatter(xs, np.full(len(xs), y), marker="D", s=3 + 20 * np.log1p(ns) / np.log1p(ns.max()),
               color="#555555", linewidth=0, zorder=3,
               label="Cancer Hotspots v2 residue (size: tumours)")
    for p, n in sorted(pts, key=lambda t: -t[1])[:MAX_HOTSPOT_LABELS]:
        ax.annotate(f"{n}", (p, y), xytext=(0, -5), textcoords="offset points", ha="center",
                    va="top", fontsize=5.5, color="#333333", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.3})
    ax.text(0, y, "hotspots ", ha="right", va="center", fontsize=6, color="#555555")
    return True


def _place_labels(ax, labels: list[tuple[float, float, str]]) -> list:
    """Annotate (x, y, text) in order, each above its point, moved up in steps until its box
    overlaps no label placed before and no legend; a label that finds no room is left out.
    Returns the texts placed."""
    fig = ax.figure
    renderer = (fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer")
                else fig._get_renderer())  # any backend (svg has no get_renderer)
    boxes = []
    legend = ax.get_legend()
    if legend is not None:
        boxes.append(legend.get_window_extent(renderer))
    placed = []
    offsets = [(dx, 6 + 11 * step) for step in range(16) for dx in (0, -24, 24, -48, 48, -80, 80)]
    inside = ax.get_window_extent(renderer)
    for x, y, text in labels:
        for dx, dy in offsets:
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7,
                            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#999999"}
                            if (dx or dy > 6) else None)
            # the text's own box (an Annotation's extent includes its leader line, which may
            # cross other labels)
            t.update_positions(renderer)
            bb = Text.get_window_extent(t, renderer).expanded(1.05, 1.1)
            if (bb.y1 <= inside.y1 + 2 and bb.x0 >= inside.x0 - 2 and bb.x1 <= inside.x1 + 2
                    and not any(bb.overlaps(b) for b in boxes)):
                boxes.append(bb)
                placed.append(t)
                break
            t.remove()
    return placed


def distance_profile(table: pd.DataFrame | str | Path, *, ax=None, cutoff: float | None = None,
                     max_variants: int = MAX_PROFILE_VARIANTS):
    """Minimum distance of each variant to each site (best structure and chain), with the cut-off.

    ``table``: an impact table (DataFrame or a file written by ``write_table``/the CLI). At most
    ``max_variants`` variants are drawn, those closest to any site (the title says how many of
    how many), so that the figure stays under ``MAX_FIGURE_IN`` inches (3,600 px at 200 dpi).
    """
    if not isinstance(table, pd.DataFrame):
        p = Path(table)
        table = pd.read_csv(p, sep="\t" if p.suffix == ".tsv" else ",", low_memory=False) if p.suffix in (
            ".tsv", ".csv") else pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_excel(p)
    t = table.dropna(subset=["min_dist_A"])
    t = t[t.site.astype(str) != ""]
    if t.empty:
        raise ValueError("the table has no site distances to plot")
    best = (t.groupby(["gene", "variant", "position", "site"], observed=True)["min_dist_A"].min()
            .reset_index())
    best["label"] = best.gene.astype(str) + " " + best.variant.astype(str)
    n_all = best.label.nunique()
    if n_all > max_variants:  # keep the variants closest to a site
        closest = best.groupby("label").min_dist_A.min().nsmallest(max_variants, keep="first")
        best = best[best.label.isin(set(closest.index))]
    best = best.sort_values(["gene", "position", "variant"])
    labels = list(dict.fromkeys(best.label))
    pos = {lab: i for i, lab in enumerate(labels)}
    kinds = (t.drop_duplicates("site").set_index("site").site_kind.astype(str).to_dict()
             if "site_kind" in t.columns else {})
    horizontal = len(labels) > HORIZONTAL_FROM  # many variants: a dot plot, one row each
    if ax is None:
        if horizontal:
            fig, ax = plt.subplots(figsize=(9.5, min(MAX_FIGURE_IN, 1.6 + 0.2 * len(labels))))
        else:
            fig, ax = plt.subplots(figsize=(max(6.0, 0.3 * len(labels) + 4.5), 4.8))
    else:
        fig = ax.figure
    for site, g in sorted(best.groupby("site", observed=True), key=lambda kv: _site_order(kv[0])):
        colour, marker = site_style(str(site), kinds.get(site, ""))
        v = [pos[lab] for lab in g.label]
        xy = (g.min_dist_A, v) if horizontal else (v, g.min_dist_A)
        ax.scatter(*xy, label=site, s=26, color=colour, marker=marker, zorder=2,
                   edgecolor="black", linewidth=0.3)
    c = cutoff if cutoff is not None else float(t.cutoff_A.dropna().iloc[0])
    line = ax.axvline if horizontal else ax.axhline
    line(c, ls="--", color="black", lw=0.8, label=f"contact cut-off {c:g} A")
    what = "minimum heavy-atom distance to site (A)"
    if horizontal:
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()  # by position, top to bottom
        ax.set_xlabel(what)
        ax.set_xlim(0, None)
        ax.grid(axis="y", color="#eeeeee", linewidth=0.5)
    else:
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(what)
        ax.set_ylim(0, None)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left",
              title="colour: site kind; marker: partner", title_fontsize=7)
    shown = (f"{len(labels)} of {n_all} variants, those closest to a site" if n_all > len(labels)
             else f"{n_all} variants")
    ax.set_title(f"distance of each variant to each site (nearest structure and chain; {shown})",
                 fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


HORIZONTAL_FROM = 30  # variants: from here the distance profile is a dot plot with a row each
# colour per site kind (Okabe & Ito 2008, distinguishable with colour-vision deficiencies) and a
# marker per partner, in the catalog's order of sites: the same site looks the same in every run
KIND_COLORS = {"dna": "#0072B2", "metal": "#E69F00", "epitope": "#009E73", "ligand": "#CC79A7",
               "": "#999999"}
PARTNER_MARKERS = "osD^vP*Xh<>p"


def _catalog_sites() -> list[str]:
    from ..analysis.sites import _site_name

    names: list[str] = []
    for s in catalog().structures:
        for p in s.partners:
            n = _site_name(p)
            if n not in names:
                names.append(n)
    return names


def _site_order(site: str) -> tuple:
    names = _catalog_sites()
    return (names.index(site), "") if site in names else (len(names), site)


def site_style(site: str, kind: str) -> tuple[str, str]:
    """(colour, marker) of a site in every figure: colour by kind (DNA, metal, epitope,
    ligand), marker by the partner's place among the catalog's sites of that kind (sites the
    catalog does not name after them, by name)."""
    kind = kind if kind in KIND_COLORS else ""
    names = _catalog_sites()
    if site in names:
        i = names.index(site)
    else:
        i = len(names) + sum(ord(ch) for ch in site)  # stable across runs, unlike hash()
    return KIND_COLORS[kind], PARTNER_MARKERS[i % len(PARTNER_MARKERS)]


RELATION_COLORS = {
    "covalent anchor lost": "#67001f", "contact": "#d6604d", "epitope contact": "#d6604d",
    "conformational": "#8073ac", "second shell": "#f4a582", "distant": "#d1e5f0",
    "outside the drug's domain": "#ffffff", "in-frame indel: structure cannot judge": "#fee08b",
    "unobserved in the structure": "#d9d9d9", "no structure of the drug": "#f0f0f0",
    "not available offline": "#bdbdbd", "protein truncated": "#737373", "splice site": "#969696",
    "extension": "#969696", "no protein change": "#ffffff"}
# known response (CIViC): marker, colour
KNOWN_MARKS = {"resistance": ("v", "#b2182b"), "sensitivity": ("^", "#1a9850"),
               "mixed or not supported": ("D", "#525252")}


def _known_kind(text) -> str:
    """'resistance', 'sensitivity', 'mixed or not supported' or '' (no item) of a known_response."""
    t = str(text) if isinstance(text, str) else ""
    if not t or t.startswith("no CIViC item") or t.startswith("CIViC not"):
        return ""
    parts = [x.strip() for x in t.split(";") if x.strip()]
    single = [x for x in parts if "(with " not in x] or parts
    kinds = {"mixed or not supported" if x.startswith("does not support") else
             "resistance" if "resistance" in x else "sensitivity" for x in single}
    return kinds.pop() if len(kinds) == 1 else "mixed or not supported"


def therapy_heatmap(matrix: pd.DataFrame | str | Path, *, title: str | None = None,
                    approved_only: bool = True):
    """Heat map of a therapy matrix (``structkit.therapy_matrix``): variants x therapies; the
    cell colour is the structural relation, the text the minimum heavy-atom distance (A; '*'
    an EGFR stand-in), and a corner mark the known response from CIViC (triangle up:
    sensitivity, down: resistance, diamond: mixed or 'does not support'; items of the drug
    alone first, combinations only when there is no single-drug item). ``approved_only`` draws
    approved drugs (and the functional sites of a target without drugs).

    The figure grows with the matrix (0.55 in per therapy, 0.4 in per variant, at most 30 x 20 in).
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not isinstance(matrix, pd.DataFrame):
        p = Path(matrix)
        matrix = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",", dtype=str,
                             keep_default_na=False)
        if "min_dist_A" in matrix.columns:
            matrix["min_dist_A"] = pd.to_numeric(matrix.min_dist_A, errors="coerce")
    need = {"variant", "therapy", "relation", "min_dist_A", "evidence_level"}
    if not need <= set(matrix.columns):
        raise ValueError(f"not a therapy matrix (written by 'structkit therapies --out'): no column "
                         f"{', '.join(sorted(need - set(matrix.columns)))}")
    if approved_only and "status" in matrix.columns:
        matrix = matrix[matrix.status.astype(str).isin(["approved", "functional site"])]
    variants = list(dict.fromkeys(matrix.variant.astype(str)))
    therapies = list(dict.fromkeys(matrix.therapy.astype(str)))
    rel = list(RELATION_COLORS)
    blank = rel.index("no structure of the drug")
    grid = np.full((len(variants), len(therapies)), blank)
    width = min(30, 5.5 + 0.55 * len(therapies))
    fig, ax = plt.subplots(figsize=(width, min(20, 2.6 + 0.4 * len(variants))))
    known = matrix.known_response if "known_response" in matrix.columns else pd.Series("", index=matrix.index)
    for r, k in zip(matrix.itertuples(index=False), known, strict=True):
        i, j = variants.index(str(r.variant)), therapies.index(str(r.therapy))
        grid[i, j] = rel.index(r.relation) if r.relation in rel else blank
        if pd.notna(r.min_dist_A):
            star = "*" if "stand-in" in str(r.evidence_level) else ""
            dark = r.relation in ("covalent anchor lost", "conformational", "protein truncated")
            ax.text(j, i, f"{r.min_dist_A:.1f}{star}", ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
        kind = _known_kind(k)
        if kind:
            m, c = KNOWN_MARKS[kind]
            ax.plot(j + 0.33, i - 0.27, marker=m, color=c, markersize=5, markeredgecolor="white",
                    markeredgewidth=0.5, linestyle="none")
    ax.imshow(grid, cmap=ListedColormap(list(RELATION_COLORS.values())), vmin=-0.5,
              vmax=len(rel) - 0.5, aspect="auto")
    ax.set_xticks(np.arange(-0.5, len(therapies)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(variants)), minor=True)
    ax.grid(which="minor", color="#bdbdbd", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(len(therapies)), therapies, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(variants)), variants, fontsize=8)
    used = [k for k in RELATION_COLORS if k in set(matrix.relation.astype(str))]
    leg1 = ax.legend(handles=[Patch(facecolor=RELATION_COLORS[k], edgecolor="#969696", label=k)
                              for k in used],
                     loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False,
                     title="structural relation (colour)\ntext: min distance, A; * EGFR stand-in",
                     title_fontsize=7)
    ax.add_artist(leg1)
    ax.legend(handles=[Line2D([], [], marker=m, color=c, linestyle="none", label=k)
                       for k, (m, c) in KNOWN_MARKS.items()],
              loc="lower left", bbox_to_anchor=(1.01, 0), fontsize=7, frameon=False,
              title="known response, CIViC (mark)\nnot a structural call", title_fontsize=7)
    ax.set_title(title or "Variant x therapy: structural relation and known response", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - 2.9 / width, 1))  # 2.9 in on the right for the legends
    return fig
