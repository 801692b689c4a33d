"""A review dossier in one file: ``structkit report`` / ``structkit.report(...)``.

One self-contained HTML page (no network needed to open it): a sortable summary table (score,
mechanism, nearest site, structures, status), a card per variant (the residue in each structure
in UniProt and author numbering with the mapping method, sites and distances, damage evidence,
therapy relations, agreement, a 3D view centred on the residue), figures (lollipop with domain
and site tracks, distance profile, therapy heat map) as embedded PNG, and methods and
provenance generated from the run (structkit version, every structure file with its SHA-256 and
where it came from, numbering methods, cut-offs, the scoring method and its benchmark, the
structures' primary citations from their files, method references). Every text a user reads is
HTML-escaped; the page reads without JavaScript except the 3D viewers (embedded 3Dmol.js from a
local copy; without one the cards say so). ``pdf=`` prints the page through headless Chromium.

Size: the report is one page: its CSS (screen and print), the cards, the figures, the views and
the methods, each a named step.
"""

from __future__ import annotations

import base64
import io
import re
import tempfile
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from .._version import __version__
from ..analysis.stability import STABILITY_STRONG, STABILITY_WEAK
from ..io.files import sha256_file
from ..keywords import accepts_session
from ..statuses import MAPPED, NOT_COVERED, PRESENT, UNOBSERVED

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["report"]

METHOD_REFERENCES = [
    ("Secondary structure", "DSSP: Kabsch W, Sander C (1983) Biopolymers 22:2577-2637; computed "
                            "by structkit.analysis.dssp (same states as mkdssp 4.2)"),
    ("Solvent accessibility", "Shrake A, Rupley JA (1973) J Mol Biol 79:351-371 (biotite); RSA "
                              "scale: Tien MZ et al. (2013) PLoS ONE 8:e80635"),
    ("Damage features", "after Missense3D: Ittisoponpisan S et al. (2019) J Mol Biol "
                        "431:2197-2212"),
    ("Homolog alignment (TP53)", "the EVE alignment: Frazer J et al. (2021) Nature 599:91-95"),
    ("Validation data (TP53)", "yeast transactivation of TP53 mutants: Kato S et al. (2003) PNAS "
                               "100:8424-8429 (even codons used for development)"),
]

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;
color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;font-size:0.85em;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 6px;
vertical-align:top;text-align:left}th{background:#f3f3f3}th.sort{cursor:pointer}
.card{border:1px solid #ccc;border-radius:6px;padding:8px 14px;margin:16px 0;page-break-inside:avoid}
.muted{color:#666;font-size:0.85em}.viewer{width:640px;height:360px;position:relative;border:1px solid #eee}
img.fig{max-width:100%;height:auto;border:1px solid #eee}
.score{font-weight:bold}
table.sortable td{white-space:nowrap}
.printonly{display:none}
@media print{.viewer{display:none}.noprint{display:none!important}.printonly{display:block}
span.printonly{display:inline!important}
body{margin:0;max-width:none;font-size:9pt;line-height:1.25}
h2{margin:0.8em 0 0.4em}h3{margin:0.6em 0 0.3em}h2,h3,h4{break-after:avoid;page-break-after:avoid}
h4{margin:6px 0 2px}ul{margin:0.3em 0}
table{font-size:7pt;width:100%;table-layout:auto}td,th{padding:1px 3px;overflow-wrap:break-word}
div{overflow:visible!important}.cards{column-count:2;column-gap:5mm}
.card{margin:0 0 3mm;padding:3px 6px;font-size:7.5pt;break-inside:auto;page-break-inside:auto}
.card table,.card p{break-inside:avoid;page-break-inside:avoid}
.card h3{font-size:10pt;margin:2px 0}.card table,.methods table{font-size:6.5pt}.methods{font-size:7.5pt}
.methods p{margin:0.4em 0}.methods li{margin:0}.card p{margin:2px 0}
table.files td:last-child{font-family:monospace;white-space:nowrap}
.halves{display:grid;grid-template-columns:1fr 1fr;column-gap:4mm}
tr,img.fig{break-inside:avoid;page-break-inside:avoid}img.fig{max-height:8cm;width:auto}img.strip{max-height:6cm}
h2.newpage{break-before:page;page-break-before:always}}
"""
PAPER = {"A4": "A4", "Letter": "letter"}  # --paper: the CSS page size of the PDF

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th, i){
    th.classList.add('sort');
    th.addEventListener('click', function(){
      var rows = Array.from(t.tBodies[0].rows), asc = th.dataset.asc !== '1';
      rows.sort(function(a, b){
        var x = a.cells[i].textContent, y = b.cells[i].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      th.dataset.asc = asc ? '1' : '0';
      rows.forEach(function(r){ t.tBodies[0].appendChild(r); });
    });
  });
});
"""


_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/;,()<>\"']+/)+([^\s/;,()<>\"']+)")  # not a URL


def _e(x) -> str:
    """Escaped text of a cell ('' for missing); an absolute path shows its file name only (a
    machine's directories are not the reader's business; files are named with SHA-256 in the
    methods)."""
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return ""
    if isinstance(x, float):
        return escape(f"{x:.2f}")
    return escape(_PATH.sub(r"\1", str(x)))



# the printed summary's headers: short, so that ten columns fit an A4 page without breaking words
PRINT_HEADERS = {"impact_score": "score", "effect_class": "class", "stability_score": "stability",
                 "nearest_site": "nearest site", "nearest_dist_A": "dist A", "nearest_pdb_id": "PDB"}


def _stability_line(r) -> str:
    """The card's stability line: the score with its reading and source, or why there is none."""
    if pd.isna(r.stability_score):
        why = str(r.stability_model or "")
        return f'<p class="muted">stability: not scored{"; " + _e(why) if why else ""}</p>' \
            if str(r.consequence) == "missense" else ""
    sc = float(r.stability_score)
    word = ("strongly destabilising" if sc >= STABILITY_STRONG else "destabilising"
            if sc >= STABILITY_WEAK else "near neutral" if sc > -STABILITY_WEAK else "stabilising")
    return (f'<p>stability <b>{sc:+.2f} nats</b> ({word}; higher = more destabilising)'
            f'<span class="noprint">: {_e(r.stability_structures)}; {_e(r.stability_model)}</span></p>')

def _table(df: pd.DataFrame, sortable: bool = False, cls: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    klass = " ".join(x for x in ("sortable" if sortable else "", cls) if x)
    return f'<table class="{klass}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _png(fig, dpi: int = 110, cls: str = "fig") -> str:
    """An <img> of a matplotlib figure, embedded as base64 PNG (``cls``: its print size class)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="{cls}" alt="figure" src="data:image/png;base64,{data}">'


def _citation(pdb_id: str, path: str, fetcher) -> str:
    """The primary citation of a structure the table used, from the structure as the session
    loaded it (``Structure.citation``): the file is not read again."""
    from ..catalog import catalog
    from ..io.resolve import load

    entry = catalog().find(pdb_id)
    st = (load(entry.id, fetcher=fetcher, assembly=entry.assembly) if entry is not None
          else load(Path(path), fetcher=fetcher))
    return st.citation


def _origin(path: str, fetcher) -> str:
    p = Path(path).resolve()
    for label, root in (("cache", fetcher.cache_dir), ("mirror", fetcher.mirror)):
        if root and not str(root).lower().startswith(("http://", "https://")):
            try:
                p.relative_to(Path(root).resolve())
                return label if label == "mirror" else "cache (downloaded or copied earlier)"
            except ValueError:
                continue
    return "user file"


def _known_html(r, evidence: pd.DataFrame) -> str:
    """The card's anatomy, recurrence and known-evidence lines; CIViC items with links to the
    evidence item (its CIViC URL from the release) and to PubMed."""
    hot = ("Cancer Hotspots v2 not available offline" if pd.isna(r.hotspot_tumours) else
           f"Cancer Hotspots v2: {int(r.hotspot_tumours)} tumours at this residue, "
           f"{int(r.hotspot_allele_tumours)} with this change")
    known = str(r.known_evidence or "")
    items = known.split("; ")
    brief = "; ".join(items[:3]) + (f"; +{len(items) - 3} more (HTML)" if len(items) > 3 else "")
    lines = (f'<p>Region: <b>{_e(r.region) or "no element"}</b>. {_e(hot)}.</p>'
             f'<p class="muted">Known evidence (beside the score, never in it): '
             f'<span class="noprint">{_e(known)}</span><span class="printonly" '
             f'style="display:none">{_e(brief)}</span></p>')
    mine = evidence[(evidence.gene == r.gene) & (evidence.variant == r.variant)]
    if not len(mine):
        return lines
    rows = []
    for e in mine.itertuples(index=False):
        eid = f'<a href="{_e(e.evidence_url)}">EID{_e(e.eid)}</a>' if e.evidence_url else _e(e.eid)
        pmid = (f'<a href="https://pubmed.ncbi.nlm.nih.gov/{_e(e.pmid)}/">PMID {_e(e.pmid)}</a>'
                if str(e.pmid).isdigit() else _e(e.pmid))
        rows.append(f"<tr><td>{_e(e.therapies)}</td><td>{_e(e.evidence_type)}</td>"
                    f"<td>{_e(e.significance)}</td><td>{_e(e.evidence_direction)}</td>"
                    f"<td>{_e(e.evidence_level)}</td><td>{_e(e.disease)}</td><td>{eid}</td>"
                    f"<td>{pmid}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("therapies", "type", "significance", "direction",
                                             "level", "disease", "evidence item", "source"))
    return lines + (f'<div class="noprint"><h4>CIViC items that name this variant</h4><table>'
                    f"<tr>{head}</tr>" + "".join(rows) + "</table></div>")


def _cards(table: pd.DataFrame, summary: pd.DataFrame, matrix: pd.DataFrame, views: dict,
           evidence: pd.DataFrame) -> str:
    out = []
    t = table.astype({c: object for c in ("gene", "variant", "pdb_id", "chain", "site", "status",
                                          "numbering_method", "via", "icode", "res_name",
                                          "damage", "effect", "detail")})
    for i, r in enumerate(summary.itertuples(index=False)):
        rows = t[(t.gene == r.gene) & (t.variant == r.variant)]
        head = (f'<h3 id="v{i}">{_e(r.gene)} {_e(r.variant)} '
                f'<span class="muted">({_e(r.consequence)}; {_e(r.status)})</span></h3>')
        score = "" if pd.isna(r.impact_score) else f"{r.impact_score:.2f}"
        verdict = (f'<p><span class="score">impact score {_e(score) or "n/a"}</span> '
                   f'({_e(r.role) or "no role"}: <b>{_e(r.effect_class) or "not assessed"}</b>), '
                   f'mechanism <b>{_e(r.mechanism)}</b><span class="noprint">: '
                   f"{_e(r.mechanism_evidence)}"
                   + (f"; agreement {_e(r.agreement)}" if r.agreement else "")
                   + (f"; evolution {_e(r.evolution)}" if r.evolution else "")
                   + "</span></p>" + _stability_line(r))  # the evidence in the HTML; print keeps the call
        placed = rows[rows.pdb_id.notna() & (rows.pdb_id != "")]
        if len(placed):
            per = placed.assign(
                author=[("" if pd.isna(a) else f"{int(a)}{ic or ''}")
                        for a, ic in zip(placed.author_num, placed.icode, strict=True)],
                uniprot=placed.structure_position.astype(object))
            per = per.sort_values("min_dist_A", kind="stable").drop_duplicates(
                ["pdb_id", "chain", "site"])
            res = per[["pdb_id", "chain", "uniprot", "author", "res_name", "numbering_method", "via",
                       "status", "site", "min_dist_A", "in_site", "damage"]].rename(columns={
                           "uniprot": "UniProt pos (structure's protein)", "author": "author num",
                           "min_dist_A": "min dist A"})
            where = (f'<div class="noprint">{_table(res.head(60))}</div>'
                     f'<div class="printonly">{_consensus_html(res)}</div>')
        else:
            detail = rows.detail.iloc[0] if len(rows) else ""
            where = f"<p>Not placed on structures: {_e(detail)}</p>"
        m = matrix[(matrix.gene == r.gene) & (matrix.variant == r.variant)] if len(matrix) else matrix
        names = {"known_response": "known response (CIViC)", "relation": "structural relation"}
        ther = ""
        if len(m):
            full = _table(m[["therapy", "status", "modality", "known_response", "relation",
                             "min_dist_A", "pdb_id", "conformation", "structure_residue",
                             "evidence_level", "note"]].rename(columns=names))
            # in print: the drugs the structure can say something about, briefly
            # (a relation the structure can speak to, or a known response)
            known = ~m.known_response.astype(str).str.startswith(("no CIViC item", "CIViC not"))
            telling = ~m.relation.isin(["outside the drug's domain", "distant", "conformational",
                                        "no structure of the drug", "unobserved in the structure"])
            brief = m[(telling | known) & m.status.isin(["approved", "functional site"])]
            rest = m[m.status.isin(["approved"]) & ~m.index.isin(brief.index)]
            brief = brief.assign(known_response=brief.known_response.astype(str).str.replace(
                r"^no CIViC item.*", "none in CIViC", regex=True))
            short = (_table(brief[["therapy", "known_response", "relation", "min_dist_A",
                                   "pdb_id"]].rename(columns=names)) if len(brief) else
                     "<p>No approved drug binds near this variant.</p>")
            if len(rest):
                short += (f'<p class="muted">{len(rest)} other approved drugs: nothing the '
                          "structure can judge, no CIViC item (therapy figure; HTML).</p>")
            ther = f'<div class="noprint">{full}</div><div class="printonly">{short}</div>'

        view = views.get((r.gene, r.variant), "")
        out.append(f'<section class="card">{head}{verdict}{_known_html(r, evidence)}'
                   f"<h4>Residue in each structure (UniProt and author numbering)</h4>{where}"
                   + (f"<h4>Therapies</h4>{ther}" if ther else "") + view + "</section>")
    return "\n".join(out)


def _both(df: pd.DataFrame, print_cols: list[str] | None, print_df: pd.DataFrame | None = None) -> str:
    """The table in full on screen and a narrower one (``print_cols`` or ``print_df``) in print."""
    brief = print_df if print_df is not None else df[print_cols]
    return f'<div class="noprint">{_table(df)}</div><div class="printonly">{_table(brief)}</div>'


def _drugs_print(drugs: pd.DataFrame) -> pd.DataFrame:
    """The print table of drugs: the first approval only (regulator and year; the indications
    are in the HTML), so that each drug keeps to one or two lines."""
    first = drugs.approval.astype(str).str.split(", ", n=1, regex=False).str[0].str.replace(
        r"^not approved:.*", "not approved", regex=True)
    shown = drugs.structures.astype(str).str.replace(" (ERBB2)", "", regex=False).str.replace(
        "none: relation by modality only", "none (by modality)", regex=False)
    return drugs.assign(approval=first, structures=shown)[
        ["drug", "approval", "modality", "binds", "structures"]].rename(
        columns={"approval": "first approval", "structures": "structures (ERBB2 unless said)"})


def _files_print(prov: pd.DataFrame, numbering: pd.DataFrame) -> pd.DataFrame:
    """The print table of files: one row per structure file with its SHA-256 and the numbering
    method of its chains ('A, B: DBREF ...; C: alignment'), instead of a file table and a
    per-chain table."""
    per = {}
    for (pdb, method), g in numbering.groupby(["pdb_id", "numbering_method"], sort=False):
        per.setdefault(str(pdb), []).append(f"{', '.join(map(str, g.chain))}: {method}")
    return pd.DataFrame({"structure": prov.structure, "file": prov.file,
                         "chains: numbering": ["; ".join(per.get(str(p), [])) for p in prov.structure],
                         "sha256 (first 16)": prov.sha256.astype(str).str[:16]})


def _files_print_html(prov: pd.DataFrame, numbering: pd.DataFrame) -> str:
    """``_files_print`` as two tables side by side (half the rows each; the full SHA-256 is in
    the HTML's file table), so that the provenance of twenty-odd files takes a third of a page."""
    t = _files_print(prov, numbering)
    half = (len(t) + 1) // 2
    parts = [t.iloc[:half], t.iloc[half:]] if len(t) > 8 else [t]
    return ('<div class="halves">' + "".join(f"<div>{_table(x, cls='files')}</div>" for x in parts
                                             if len(x)) + "</div>"
            + '<p class="muted">SHA-256: the first 16 hex digits in print; the HTML gives all 64.</p>')


def _consensus(per: pd.DataFrame) -> pd.DataFrame:
    """One row per structure for print: its chains, the residue's author numbers, the status,
    and the nearest site with its distance (the per-chain detail is in the HTML)."""
    rows = []
    skipped = set()
    family = []  # stand-ins of a family member: one line in print
    for pdb, g in per.groupby("pdb_id", sort=False, observed=True):
        if not g.status.isin([*PRESENT, UNOBSERVED]).any():
            skipped.add(str(pdb))  # does not cover the residue, or not at hand
            continue
        if "via" in g and (g.via.astype(str) != "direct").all():
            d = g["min dist A"].min()
            family.append(f"{pdb} {d:.1f} A" if d == d else f"{pdb} (unobserved)")
            continue
        near = g.dropna(subset=["min dist A"]).sort_values("min dist A", kind="stable")
        nums = ", ".join(dict.fromkeys(str(a) for a in g["author num"]
                                       if str(a) and str(a) != "nan"))
        rows.append({"structure": pdb, "chains": ", ".join(dict.fromkeys(map(str, g.chain))),
                     "author num": nums, "status": ", ".join(dict.fromkeys(map(str, g.status))),
                     "nearest site": near.site.iloc[0] if len(near) else "",
                     "min dist A": near["min dist A"].iloc[0] if len(near) else np.nan})
    notes = []
    if family:
        notes.append("family stand-ins, nearest site: " + ", ".join(family))
    # a structure that is not at hand is named with its status ('not available offline: ...');
    # those whose construct does not reach the residue are counted (the HTML names them)
    absent: dict[str, list[str]] = {}
    for p in sorted(skipped):
        st = per.loc[per.pdb_id.astype(str) == p, "status"].astype(str)
        if not st.eq(NOT_COVERED).all():
            absent.setdefault(str(st[st != NOT_COVERED].iloc[0]), []).append(p)
    notes += [f"{st}: {', '.join(ps)}" for st, ps in absent.items()]
    n_out = len(skipped) - sum(map(len, absent.values()))
    if n_out:
        notes.append(f"{n_out} other structures do not reach the residue (named in the HTML)")
    out = pd.DataFrame(rows)
    out.attrs["notes"] = notes
    return out


def _consensus_html(per: pd.DataFrame) -> str:
    """The print table of ``_consensus`` (the status column only when some row is not
    'mapped'), its notes as a line under it (so they do not widen a column)."""
    t = _consensus(per)
    if len(t) and "status" in t and (t.status == MAPPED).all():
        t = t.drop(columns="status").rename(columns={"structure": "structure (all mapped)"})
    notes = "".join(f'<p class="muted">{_e(n)}</p>' for n in t.attrs.get("notes", []))
    return (_table(t) if len(t) else "") + notes


def _card_view(gene: str, variant: str, pdb_id: str, fetcher, accession: str | None = None,
               source_file: str | None = None):
    """The card's 3D view (a ``SafeView``). A structure the catalog does not know (a user's
    file) is shown from its own ``source_file``, never from an entry of the same ID."""
    from ..analysis.structure_analysis import analyze
    from ..catalog import catalog
    from ..io.resolve import load
    from .view import view_variants

    if catalog().find(pdb_id) is None and source_file:
        a = analyze(load(Path(source_file), fetcher=fetcher), accession, fetcher=fetcher)
    else:
        a = analyze(pdb_id, fetcher=fetcher)
    return view_variants(a, [f"{gene}:{variant}"], width=640,
                         height=360, title=f"{gene} {variant} on {pdb_id}", fetcher=fetcher)


CARD_CARTOON_QUALITY = 6  # the card pictures are 640 x 360 (see view.save_pngs)


def _static_pictures(views: dict, cache_dir=None) -> dict:
    """(gene, variant) -> PNG bytes of each card's view, or the reason there is none; all
    rendered with one headless Chromium (``view.save_pngs``) rather than one per card, and
    kept in ``cache_dir`` for the next report."""
    from .view import save_pngs

    keys = list(views)
    with tempfile.TemporaryDirectory(prefix="structkit-card-") as tmp:
        paths = [Path(tmp) / f"v{i}.png" for i in range(len(keys))]
        try:
            save_pngs([views[k][0] for k in keys], paths, cache_dir=cache_dir,
                      cartoon_quality=CARD_CARTOON_QUALITY)
        except RuntimeError as exc:
            return {k: str(exc) for k in keys}
        return {k: p.read_bytes() for k, p in zip(keys, paths, strict=True)}


def _view_html(v, gene: str, variant: str, pdb_id: str, png: bool = False,
               picture: bytes | str | None = None) -> str:
    """The card's 3D viewer; with ``png`` also its static ``picture`` (or why there is none)
    shown when JavaScript is off and in print."""
    fallback = '<p class="muted">The 3D view needs JavaScript.</p>'
    if png and isinstance(picture, bytes):
        fallback = (f'<img class="fig" alt="3D view of {_e(gene)} {_e(variant)} on '
                    f'{_e(pdb_id)}" src="data:image/png;base64,'
                    f'{base64.b64encode(picture).decode("ascii")}">')
    elif png:
        fallback = f'<p class="muted">No static picture: {_e(picture)}</p>'
    return (f'<div class="{"" if png else "noprint"}"><h4>3D view: {_e(pdb_id)}</h4>'
            f'<div class="viewer">{v._make_html()}</div><noscript>{fallback}</noscript>'
            + (f'<div class="printonly">{fallback}</div>' if png else "") + "</div>")


def _figures(batch, summary: pd.DataFrame, placed: pd.DataFrame, order: pd.DataFrame,
             matrix: pd.DataFrame, fetcher) -> list[tuple[str, str]]:
    """(title, <img>) of the report's figures: a lollipop per gene, the distance profile of the
    30 variants with the highest impact score, the therapy heat map."""
    from ..catalog import catalog
    from .plots import distance_profile, lollipop, therapy_heatmap

    figs = []
    for gene in dict.fromkeys(summary.gene):
        mine = [v for v in batch.variants if v.gene == gene]  # parsed once, samples kept
        acc = mine[0].accession
        direct = placed[(placed.accession.astype(str) == acc) & (placed.via.astype(str) == "direct")
                        & placed.status.isin(PRESENT)
                        & (placed.site.astype(str) != "")
                        & ~placed.pdb_id.astype(str).str.startswith("AF-")]
        sites = tuple(dict.fromkeys(direct.pdb_id.astype(str)))[:2]
        try:
            colour = "effect class" if catalog().target(gene).role_kind == "oncogene" else "mechanism"
            figs.append((f"{gene}: variants over the domain map and anatomy (colour: {colour})", _png(
                lollipop(mine, gene, sites_from=sites, fetcher=fetcher, summary=summary),
                cls="fig strip")))
        except (ValueError, KeyError) as exc:
            figs.append((f"{gene}: lollipop not drawn", f"<p>{_e(exc)}</p>"))
    top = set(zip(order.gene.head(30), order.variant.head(30), strict=True))
    pairs = pd.Series(list(zip(placed.gene.astype(str), placed.variant.astype(str), strict=True)),
                      index=placed.index)
    sub = placed[pairs.isin(top) & placed.min_dist_A.notna()]
    if len(sub):
        figs.append(("Distance of each variant to each site (top 30 by impact score)",
                     _png(distance_profile(sub))))
    if len(matrix) and matrix.min_dist_A.notna().any():
        figs.append(("Therapies (approved drugs): structural relation (colour) and known response "
                     "from CIViC (marks), side by side, never merged", _png(therapy_heatmap(matrix))))
    return figs


def _views(order: pd.DataFrame, placed: pd.DataFrame, js, max_cards: int, max_views: int,
           png_views: bool, fetcher, pool):
    """Each card's 3D view on the structure of its nearest site (the first ``max_views``
    cards), with static pictures drawn together when ``png_views``; and a note when there is
    no local 3Dmol.js. Returns a function giving (views, note): the pictures are drawn in
    ``pool`` (an executor) meanwhile, so that the caller makes the figures while Chromium
    draws."""
    views = {}
    if js is None:
        note = ("3D views are left out: no local 3Dmol.js (set STRUCTKIT_3DMOL_JS or install "
                "the npm copy under .js/ as the README says).")
        return lambda: (views, note)
    made = {}  # (gene, variant) -> (view, PDB ID), in card order
    for r in order.head(min(max_cards, max_views)).itertuples(index=False):
        if isinstance(r.nearest_pdb_id, str) and r.nearest_pdb_id:
            try:
                src = placed.loc[placed.pdb_id.astype(str) == r.nearest_pdb_id,
                                 ["structure_accession", "source_file"]].dropna().head(1)
                acc, path = (src.iloc[0].tolist() if len(src) else (None, None))
                made[r.gene, r.variant] = (_card_view(
                    r.gene, r.variant, r.nearest_pdb_id, fetcher, str(acc) if acc else None,
                    path), r.nearest_pdb_id)
            except (ValueError, KeyError, LookupError) as exc:
                views[r.gene, r.variant] = f"<p class='muted'>No 3D view: {_e(exc)}</p>"
    drawing = pool.submit(_static_pictures, made, fetcher.cache_dir) if png_views and made else None

    def finish() -> tuple[dict, str]:
        pictures = drawing.result() if drawing is not None else {}
        for (g, var), (v, pid) in made.items():
            views[g, var] = _view_html(v, g, var, pid, png_views, pictures.get((g, var)))
        return views, ""

    return finish


def _provenance(placed: pd.DataFrame, fetcher) -> pd.DataFrame:
    """One row per structure file read: ID, file name, SHA-256, where it came from and the
    primary citation the file carries."""
    files = placed[placed.source_file.notna()].drop_duplicates("source_file")
    prov_rows = []
    for pid, path in zip(files.pdb_id.astype(str), files.source_file.astype(str), strict=True):
        prov_rows.append({"structure": pid, "file": Path(path).name, "sha256": sha256_file(path),
                          "obtained from": _origin(path, fetcher),
                          "primary citation (from the file)": _citation(pid, path, fetcher)})
    prov = pd.DataFrame(prov_rows)
    return prov


_ADD_MODEL = re.compile(r'(\bviewer_\w+\.addModel\()("(?:[^"\\]|\\.)*")')


def _shared_models(views: dict) -> tuple[str, dict]:
    """The structure text of each 3D view moved into one script, each distinct structure
    once (``structkit_models[k]``), and the views' HTML pointing at it: a report whose cards
    show 1TSR five times embeds 1TSR once. The JS string literals are moved as py3Dmol wrote
    them (already escaped for a script element)."""
    models: dict[str, int] = {}

    def swap(m: re.Match) -> str:
        k = models.setdefault(m.group(2), len(models))
        return f"{m.group(1)}structkit_models[{k}]"

    out = {key: _ADD_MODEL.sub(swap, html) for key, html in views.items()}
    if not models:
        return "", views
    literals = ",\n".join(models)  # insertion order = k
    return f"<script>var structkit_models = [{literals}];</script>", out


SUMMARY_COLUMNS = ["gene", "variant", "consequence", "n_rows", "impact_score", "effect_class",
                   "stability_score", "mechanism", "nearest_site", "nearest_dist_A",
                   "nearest_pdb_id", "nearest_chain", "nearest_author_num", "covered_by", "status"]
PRINT_SUMMARY_COLUMNS = ["gene", "variant", "impact_score", "effect_class", "stability_score",
                         "mechanism", "nearest_site", "nearest_dist_A", "nearest_pdb_id", "status"]


def _summary_html(summary: pd.DataFrame) -> str:
    """The summary section: the sortable table on screen, a narrower one in print."""
    shown = summary[SUMMARY_COLUMNS]
    return f"""<h2>Summary</h2>
<p class="muted noprint">Click a column header to sort.</p>
<div class="noprint" style="overflow-x:auto">{_table(shown, sortable=True)}</div>
<div class="printonly">{_table(shown[PRINT_SUMMARY_COLUMNS].rename(columns=PRINT_HEADERS))}
</div>"""


def _view_scripts(views: dict, js) -> tuple[str, dict]:
    """The scripts the 3D views need, once in the page head: the local 3Dmol.js (made safe
    inside a script element) and the shared structure texts; and the views pointing at them."""
    if not views or js is None:
        return "", views
    text = Path(js).read_text(encoding="utf-8")
    text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
    models, views = _shared_models(views)
    return (f"<script>{text}</script>\n<script>var $3Dmolpromise = Promise.resolve();</script>"
            f"\n{models}"), views


def _methods_html(command: str | None, cutoff: float, metal_cutoff: float, summary: pd.DataFrame,
                  drugs: pd.DataFrame, prov: pd.DataFrame, numbering: pd.DataFrame) -> str:
    """The methods and provenance section: command, placement and sites, scoring (from the
    model's record), data releases, drug table, structure files with SHA-256 and numbering,
    method references."""
    from ..judge.verdict import validation_note

    return f"""
<div class="methods">
<h2>Methods and provenance</h2>
<p>Command: <code>{_e(command or "structkit.report(...)")}</code></p>
<p>Each variant is placed from UniProt numbering onto each structure's residues (DBREF or
sequence alignment; HER2 variants also onto EGFR kinase-drug complexes through the HER2-EGFR
alignment, marked 'via'); the reference residue is checked. Sites are computed from the
complexes: residues with a heavy atom within {cutoff:g} A of a partner's heavy atoms (metal
{metal_cutoff:g} A). Distances are between heavy atoms, in A.</p>
<p>Scoring: {_e(validation_note())}</p>
<p>Data releases: {_e(summary.attrs.get("hotspots", ""))}; {_e(summary.attrs.get("civic", ""))}.</p>
<h3>Drugs</h3>
<p>The catalog's drug table: status, approval, modality, the domain each binds and the structures
that show it. A structural relation is not a drug response; the known response is CIViC's.</p>
{_both(drugs, None, _drugs_print(drugs)) if len(drugs) else ""}
<h3>Structure files and the numbering of each chain</h3>
{(f'<div class="noprint">{_table(prov, cls="files")}'
  f'{_table(numbering) if len(numbering) else ""}</div><div class="printonly">'
  f'{_files_print_html(prov, numbering)}</div>') if len(prov)
 else "<p>No structure was read.</p>"}
<h3 class="noprint">Method references</h3>
<ul class="noprint">{"".join(f"<li><b>{_e(a)}</b>: {_e(b)}</li>" for a, b in METHOD_REFERENCES)}</ul>
<p class="printonly">Method references. {
    " ".join(f"<b>{_e(a)}</b>: {_e(b)}." for a, b in METHOD_REFERENCES)}</p>
</div>
"""


@accepts_session
def report(variants, out: str | Path, *, title: str = "structkit report", structures=None,
           cutoff: float | None = None, metal_cutoff: float | None = None,
           fetcher: Fetcher | None = None, pdf: str | Path | None = None, max_cards: int = 30,
           max_views: int = 10, png_views: bool = False, command: str | None = None,
           paper: str = "A4") -> Path:
    """Write the review dossier of ``variants`` (as for ``impact_table``) to ``out`` (.html).

    ``max_cards`` variant cards (highest impact score first; the summary table lists all),
    ``max_views`` of them with a 3D view (on the structure of the nearest site). ``pdf`` also
    prints the page to PDF through headless Chromium. ``png_views`` also renders each 3D view
    as a static picture (headless Chromium, a few seconds per view), shown without JavaScript
    and in print. ``command`` is recorded in the methods. ``paper`` (``A4`` or ``Letter``) is
    the page size of the printed PDF; print shows each card briefly (one row per structure,
    the approved drugs that bind where the variant lies), the HTML in full.
    Returns the HTML path.
    """
    from ..cutoffs import resolve_cutoffs
    from ..io.files import atomic_write
    from ..io.store import session_of
    from ..io.variants import Variant, VariantBatch, parse_variants

    if paper not in PAPER:
        raise ValueError(f"paper {paper!r}: expected one of {', '.join(PAPER)}")
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"report {out}: the report is an HTML file (.html)")
    fetcher = session_of(fetcher)
    cutoff, metal_cutoff = resolve_cutoffs(fetcher, cutoff, metal_cutoff)
    batch = variants if isinstance(variants, VariantBatch) else parse_variants(
        [variants] if isinstance(variants, Variant) else variants, fetcher=fetcher)
    run = _Run(batch, *_results(batch, structures, cutoff, metal_cutoff, fetcher), cutoff,
               metal_cutoff, fetcher)
    body = _body(run, title, command, max_cards, max_views, png_views)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{CSS}@page{{size:{PAPER[paper]};margin:10mm}}"
            f"</style>\n{body.lib}</head>\n<body>{body.html}"
            f"<script>{SORT_JS}</script></body></html>\n")
    with atomic_write(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    if pdf is not None:
        print_pdf(out, pdf)
    return out


class _Run(NamedTuple):
    """What one report shows: the variants and everything computed from them."""

    batch: object
    table: pd.DataFrame  # the impact table, every row
    placed: pd.DataFrame  # its rows on structures
    summary: pd.DataFrame
    matrix: pd.DataFrame  # variant x therapy
    evidence: pd.DataFrame  # CIViC items that name the variant itself
    cutoff: float
    metal_cutoff: float
    fetcher: object


class _Body(NamedTuple):
    lib: str  # the 3Dmol.js script and the structures' models, once for the page
    html: str


def _results(batch, structures, cutoff: float, metal_cutoff: float, fetcher) -> tuple:
    """Step 1: the impact table, its placed rows, the summary, the therapy matrix and the known
    evidence (shown on the cards, never read by the score) of ``batch``."""
    from ..analysis.table import impact_table
    from ..io.evidence import EVIDENCE_COLUMNS, known_evidence
    from ..io.fetch import NotAvailableOffline
    from ..judge.summary import summarize
    from ..judge.therapy import therapy_matrix

    table = impact_table(batch, structures, cutoff, metal_cutoff=metal_cutoff, fetcher=fetcher)
    placed = table[table.kind.notna()]
    summary = summarize(placed, fetcher=fetcher)
    matrix = therapy_matrix(None, cutoff=cutoff, metal_cutoff=metal_cutoff, table=table,
                            summary=summary, fetcher=fetcher) if len(placed) else pd.DataFrame()
    try:
        evidence = known_evidence(batch, fetcher, broader=False)
        evidence = evidence[evidence.match == "variant"]
    except NotAvailableOffline:
        evidence = pd.DataFrame(columns=EVIDENCE_COLUMNS)
    return table, placed, summary, matrix, evidence


def _body(run: _Run, title: str, command: str | None, max_cards: int, max_views: int,
          png_views: bool) -> _Body:
    """Step 2: the page's body (heading, summary, figures, cards, methods) and its scripts."""
    from concurrent.futures import ThreadPoolExecutor

    from ..judge.therapy import drug_table
    from .view import local_3dmol

    summary, placed, matrix = run.summary, run.placed, run.matrix
    order = summary.sort_values("impact_score", ascending=False, kind="stable", na_position="last")
    js = local_3dmol()
    # the static pictures (Chromium, the costly part of a first --png-views) are drawn while
    # the figures are made
    with ThreadPoolExecutor(1, thread_name_prefix="structkit-pictures") as pool:
        finish = _views(order, placed, js, max_cards, max_views, png_views, run.fetcher, pool)
        figs = _figures(run.batch, summary, placed, order, matrix, run.fetcher)
        views, view_note = finish()
    drugs = drug_table()
    drugs = drugs[drugs.drug.isin(set(matrix.therapy))] if len(matrix) else drugs.iloc[:0]
    numbering = placed[placed.numbering_method.notna()].astype(
        {"pdb_id": object, "chain": object, "numbering_method": object}).drop_duplicates(
        ["pdb_id", "chain"])[["pdb_id", "chain", "numbering_method"]]
    links = "".join(f'<li><a href="#v{i}">{_e(g)} {_e(v)}</a></li>'
                    for i, (g, v) in enumerate(zip(summary.gene, summary.variant, strict=True))
                    if i < max_cards)
    shown_cards = summary.loc[order.index[:max_cards]].reset_index(drop=True)
    lib, views = _view_scripts(views, js)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    n_in = int(run.table.input_row.nunique()) if len(run.table) else 0
    methods = _methods_html(command, run.cutoff, run.metal_cutoff, summary, drugs,
                            _provenance(placed, run.fetcher), numbering)
    return _Body(lib, f"""
<h1>{_e(title)}</h1>
<p class="muted">structkit {_e(__version__)}, {_e(now)}; {n_in} input items, {len(summary)} variants;
positions in UniProt numbering, author numbers as in each file; contact cut-off {run.cutoff:g} A,
metal {run.metal_cutoff:g} A.</p>
{_summary_html(summary)}
<h2>Figures</h2>
{"".join(f"<h3>{_e(t)}</h3>{img}" for t, img in figs)}
<h2>Variants</h2>
<p class="muted">{len(shown_cards)} of {len(summary)} variants, highest impact score first.
{_e(view_note)}</p>
<ul class="noprint">{links}</ul>
<div class="cards">{_cards(placed, shown_cards, matrix, views, run.evidence)}</div>
{methods}
""")


def print_pdf(html: str | Path, pdf: str | Path, timeout: float = 180) -> Path:
    """Print an HTML file to PDF with headless Chromium, with the network shut off."""
    from ..io.files import atomic_write
    from .browser import render

    pdf = Path(pdf)
    with atomic_write(pdf) as tmp:
        render(html, f"--print-to-pdf={tmp}", timeout=timeout)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise RuntimeError(f"Chromium wrote no PDF for {html}")
    return pdf
