"""3D views with py3Dmol: a complex with its variants and sites, offline-capable and escaped.

- ``view_variants(structure, variants, site=None)``: target chain(s) as cartoon, partners by
  kind (antibody heavy/light chains as cartoons in their own colours, ligand as sticks, DNA as
  cartoon + sticks, zinc as a sphere), site residues as coloured sticks, variant residues as
  magenta sticks and spheres labelled in UniProt numbering (``T798M``), camera on the variants
  and site.
- ``view_site(structure, site_name)``: one site and its partner.
- ``view_variant_across(variant, structures)``: one variant in several structures (a grid).
- ``save_html(view, path)``: a standalone page.

Where 3Dmol.js comes from: the ``js`` argument, else ``$STRUCTKIT_3DMOL_JS`` (a URL or a local
file path), else py3Dmol's default CDN URL. With a local file, ``save_html(..., embed=True)``
writes the library into the page so it renders with no network at all.

Every string that reaches JavaScript (labels, file contents, names) is JSON-encoded with
``<``, ``>``, ``&``, U+2028 and U+2029 escaped, so ``</script>``, quotes or backticks in a
label cannot end the script or run code.

Size: one module because every view shares one colour and legend scheme, one placement of the
variants and one escaping rule; the export (HTML, PNG) is the short tail.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np
import py3Dmol

from ..analysis.structure_analysis import StructureAnalysis, analyze
from ..catalog import catalog
from ..io.derived import entry_key, load_entry, save_entry
from ..io.files import atomic_write, sha256_file
from ..io.store import session_of
from ..io.structure import Structure
from ..io.variants import Variant, parse_variant
from ..statuses import PRESENT

if TYPE_CHECKING:
    from ..io.fetch import Fetcher

__all__ = ["SafeView", "view_variants", "view_site", "view_variant_across", "save_html", "save_png",
           "add_legend", "placements", "show",
           "js_source", "js_string", "VARIANT_COLOR", "SITE_COLORS"]

DEFAULT_JS = "https://cdn.jsdelivr.net/npm/3dmol@2.5.5/build/3Dmol-min.js"
VARIANT_COLOR = "#ff00ff"  # magenta sticks and spheres for variant residues
VARIANT_SPHERE_A = 1.7  # sphere radius of the variant residues' atoms (A): seen through partners
SITE_COLORS = {"epitope": "#ffa500", "ligand": "#17becf", "dna": "#1e90ff", "metal": "#8b4513"}
LIGAND_SCHEME = "yellowCarbon"  # the drug itself: yellow carbons, unlike its pocket residues (teal)
FIT_MARGIN = 0.8  # zoom factor after fitting the selection: 20 % margin around it
CHAIN_COLORS = {"target": "#b0c4de", "heavy": "#e07b39", "light": "#f2c14e", "dna": "#87ceeb"}
# each antibody of an entry its own (heavy, light, epitope) colours, so that two Fabs (6OGE:
# pertuzumab and trastuzumab) and their epitopes never merge
ANTIBODY_COLORS = [("#e07b39", "#f2c14e", "#ffa500"), ("#2ca02c", "#98df8a", "#00a86b"),
                   ("#9467bd", "#c5b0d5", "#b05fdc"), ("#8c564b", "#c49c94", "#a0522d")]
ORIENTS = ("site", "variant", "whole")
LEGEND_SHIFT = 0.18  # of the width: the molecule moves right, clear of the legend


def js_string(value) -> str:
    """JSON for a JavaScript context inside an HTML ``<script>`` element."""
    try:
        text = json.dumps(value)
    except TypeError:
        text = json.dumps(np.asarray(value).tolist())
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def js_source(js: str | os.PathLike | None = None) -> str:
    """The 3Dmol.js location: argument, ``$STRUCTKIT_3DMOL_JS``, or py3Dmol's CDN default.

    A URL (``https://``, ``http://``, ``file://``) is used as is; an existing local file becomes
    a ``file://`` URL; anything else is a relative URL (a copy next to a served page). The result
    is percent-encoded so it cannot break out of the quoted string py3Dmol puts it in.
    """
    src = os.fspath(js) if js is not None else os.environ.get("STRUCTKIT_3DMOL_JS") or DEFAULT_JS
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", src) and Path(src).is_file():
        src = Path(src).resolve().as_uri()
    return quote(src, safe=":/?#[]@!$&()*+,;=%-._~")


def local_3dmol() -> Path | None:
    """A local 3Dmol.js file: ``$STRUCTKIT_3DMOL_JS`` if it is a file, else the npm copy the
    README describes (``.js/node_modules/3dmol/build/3Dmol-min.js``) under the working
    directory or the project checkout; None if there is none."""
    env = os.environ.get("STRUCTKIT_3DMOL_JS")
    rel = Path(".js") / "node_modules" / "3dmol" / "build" / "3Dmol-min.js"
    for cand in ([Path(env)] if env else []) + [Path.cwd() / rel,
                                                 Path(__file__).resolve().parents[3] / rel]:
        if cand.is_file():
            return cand
    return None


class SafeView(py3Dmol.view):
    """py3Dmol.view whose JavaScript arguments are escaped for HTML (see ``js_string``)."""

    def __init__(self, width: int = 800, height: int = 600, viewergrid=None, js=None):
        width, height = _pixels(width, "width"), _pixels(height, "height")
        self.js_url = js_source(js)
        super().__init__(width=width, height=height, viewergrid=viewergrid, js=self.js_url)
        self.size_px = (width, height)

    def __getattr__(self, name):
        if name.startswith("_") or name == "getdoc":
            raise AttributeError(name)

        def makejs(*args, **kwargs):
            call = f"{name}(" + ",".join(js_string(a) for a in args) + ");\n"
            if self.viewergrid:
                coords = kwargs.get("viewer")
                cells = [coords] if coords else [(r, c) for r in range(self.viewergrid[0])
                                                 for c in range(self.viewergrid[1])]
                cmd = "".join(f"\tviewergrid_UNIQUEID[{int(r)}][{int(c)}].{call}" for r, c in cells)
            else:
                cmd = f"\tviewer_UNIQUEID.{call}"
            self.startjs += cmd
            self.updatejs += cmd
            return self

        return makejs


def _analysis(structure, fetcher=None) -> StructureAnalysis:
    if isinstance(structure, StructureAnalysis):
        return structure
    return analyze(structure, fetcher=fetcher)


def _as_variants(variants, gene: str, fetcher=None) -> list[Variant]:
    out = []
    for v in variants or []:
        out.append(v if isinstance(v, Variant)
                   else parse_variant(v, None if ":" in v else gene, fetcher=fetcher))
    return out


def _model_text(st: Structure) -> tuple[str, str]:
    raw = Path(st.path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        import gzip

        raw = gzip.decompress(raw)
    text = raw.decode("latin-1")
    fmt = "cif" if text.lstrip().startswith("data_") else "pdb"
    if fmt == "pdb":  # coordinates only: legacy columns 73-80 and headers are not needed
        keep = ("ATOM  ", "HETATM", "MODEL ", "ENDMDL", "TER", "END")
        text = "\n".join(ln[:72] if ln.startswith(("ATOM  ", "HETATM")) else ln
                         for ln in text.splitlines() if ln.startswith(keep)) + "\n"
    return text, fmt


def _sel(chain: str, resi: int | None = None, icode: str = "") -> dict:
    s: dict = {"chain": chain}
    if resi is not None:
        s["resi"] = f"{resi}{icode}" if icode else resi
    return s


def _antibody_colors(a: StructureAnalysis) -> dict[str, tuple[str, str, str]]:
    """(heavy, light, epitope) colours per antibody partner name, in the entry's order."""
    abs_ = [p for p in a.entry.partners if p.kind == "antibody"]
    return {p.name: ANTIBODY_COLORS[i % len(ANTIBODY_COLORS)] for i, p in enumerate(abs_)}


def site_color(a: StructureAnalysis, s) -> str:
    """The colour of a site's residues: an epitope takes its antibody's colour, other sites
    their kind's (``SITE_COLORS``)."""
    if s.kind == "epitope":
        return _antibody_colors(a).get(s.partner.name, ANTIBODY_COLORS[0])[2]
    return SITE_COLORS.get(s.kind, "#00c000")


def _style_partners(v: SafeView, a: StructureAnalysis, **kw) -> None:
    for ch in a.chains:
        v.setStyle(_sel(ch), {"cartoon": {"color": CHAIN_COLORS["target"]}}, **kw)
    colours = _antibody_colors(a)
    for p in a.entry.partners:
        if p.kind == "antibody":
            heavy, light, _ = colours[p.name]
            v.setStyle(_sel(p.heavy), {"cartoon": {"color": heavy}}, **kw)
            v.setStyle(_sel(p.light), {"cartoon": {"color": light}}, **kw)
        elif p.kind == "ligand":
            sel = {"resn": list(p.comp_ids)} if p.comp_ids else {"hetflag": True}
            v.setStyle(sel, {"stick": {"colorscheme": LIGAND_SCHEME, "radius": 0.3}}, **kw)
        elif p.kind == "dna":
            for ch in p.chains:
                v.setStyle(_sel(ch), {"cartoon": {"color": CHAIN_COLORS["dna"]},
                                      "stick": {"radius": 0.12}}, **kw)
        elif p.kind == "metal":
            v.setStyle({"elem": (p.element or "ZN").capitalize()},
                       {"sphere": {"color": "#808080", "radius": 1.0}}, **kw)


def _pixels(value, name: str) -> int:
    """A view size in pixels: an integer 50-10000 (py3Dmol writes it into the page as is, so
    text such as ``'100px"><img ...'`` must never reach it)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer number of pixels, got {value!r}")
    if not 50 <= int(value) <= 10000:
        raise ValueError(f"{name} must be 50-10000 pixels, got {value}")
    return int(value)


def add_legend(v: SafeView, entries: list[tuple[str, str]], title: str | None = None,
                **kw) -> None:
    """A legend in the viewer's top-left corner (screen labels: they show in notebooks, saved
    pages and PNGs alike): one line per (colour, text), the title first."""
    lines = ([("#ffffff", title)] if title else []) + entries
    for i, (colour, text) in enumerate(lines):
        r, g, b = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 160  # white text on dark patches
        v.addLabel(text, {"useScreen": True, "position": {"x": 8, "y": 8 + 22 * i, "z": 0},
                          "alignment": "topLeft", "fontSize": 13 if i == 0 and title else 12,
                          "backgroundColor": colour, "backgroundOpacity": 0.9,
                          "fontColor": "white" if dark else "black", "borderThickness": 0.5,
                          "borderColor": "#444444"}, **kw)


def _legend_entries(a: StructureAnalysis, site: str | None, n_variants: int) -> list[tuple[str, str]]:
    out = [(CHAIN_COLORS["target"], f"{catalog().target(a.accession).gene} chain(s) "
            f"{', '.join(a.chains)} (cartoon)")]
    colours = _antibody_colors(a)
    for p in a.entry.partners:
        if p.kind == "antibody":
            heavy, light, _ = colours[p.name]
            out.append((heavy, f"{p.drug or p.name} heavy chain {p.heavy}"))
            out.append((light, f"{p.drug or p.name} light chain {p.light}"))
        elif p.kind == "ligand":
            out.append(("#ffff66", f"{p.drug or p.name} (ligand, yellow carbons)"))
        elif p.kind == "dna":
            out.append((CHAIN_COLORS["dna"], f"DNA chains {', '.join(p.chains)}"))
        elif p.kind == "metal":
            out.append(("#808080", f"{p.name} (sphere)"))
    names: dict[str, list[str]] = {}  # colour -> site names
    for cd in a.chains.values():
        for s in cd.sites:
            c = site_color(a, s)
            if (site is None or s.name == site) and s.name not in names.setdefault(c, []):
                names[c].append(s.name)
    for colour, ns in names.items():
        out.append((colour, "site residues: " + ", ".join(ns)))
    if n_variants:
        out.append((VARIANT_COLOR, "variant residues (spheres; labels in UniProt numbering)"))
    return out


def view_variants(structure, variants=(), site: str | None = None, *, width: int = 800,
                  height: int = 600, js=None, labels: bool = True, title: str | None = None,
                  legend: bool = True, orient: str = "site", zoom: float = 1.0,
                  fetcher: Fetcher | None = None) -> SafeView:
    """The complex with its partners, a site's residues and the variants, in one py3Dmol view.

    ``structure``: catalog ID, Structure or StructureAnalysis. ``variants``: Variant objects or
    strings in UniProt numbering. ``site``: name of a site to show (default: every site).
    Variant residues are magenta sticks and spheres labelled ``T798M`` (UniProt numbering); site residues
    are sticks coloured by site (a drug's pocket teal, the drug itself yellow carbons; each
    antibody its own colours for its chains and epitope). ``orient``: fit the view to the
    variants and sites (``'site'``, default), to the variants only (``'variant'``) or to the
    whole entry (``'whole'``), with a margin (``FIT_MARGIN``) and then ``zoom`` (> 1 closer);
    ``legend`` draws what each colour means in the top-left corner, with ``title`` above it,
    and moves the molecule right (``LEGEND_SHIFT``) so that the legend does not cover it.
    ``fetcher``: the session whose files and records are used (default session without one).
    """
    if orient not in ORIENTS:
        raise ValueError(f"orient {orient!r}: expected one of {', '.join(ORIENTS)}")
    if isinstance(zoom, bool) or not isinstance(zoom, (int, float)) or not 0.1 <= float(zoom) <= 10:
        raise ValueError(f"zoom must be a number from 0.1 to 10, got {zoom!r}")
    a = _analysis(structure, fetcher)
    st = a.structure
    text, fmt = _model_text(st)
    v = SafeView(width, height, js=js)
    v.addModel(text, fmt)
    v.setStyle({}, {})
    _style_partners(v, a)
    focus: list[dict] = []
    for cd in a.chains.values():
        for s in cd.sites:
            if site is not None and s.name != site:
                continue
            for k in np.flatnonzero(s.in_site):
                ri = int(cd.numbering.residue_indices[k])
                sel = _sel(s.chain, int(st.res_num[ri]), str(st.res_icode[ri]))
                v.addStyle(sel, {"stick": {"color": site_color(a, s), "radius": 0.2}})
                focus.append(sel)
    n_placed = 0
    for p in placements(a, variants, fetcher=fetcher):
        if p["status"] not in PRESENT:
            continue
        sel = _sel(p["chain"], p["author_num"], p["icode"])
        # sticks and spheres: a small residue (S310 behind a Fab in 6OGE) stays visible
        v.addStyle(sel, {"stick": {"color": VARIANT_COLOR, "radius": 0.35},
                         "sphere": {"color": VARIANT_COLOR, "radius": VARIANT_SPHERE_A}})
        if labels:
            v.addLabel(p["label"], {"fontColor": "black", "backgroundColor": "white",
                                    "backgroundOpacity": 0.8, "fontSize": 14,
                                    "screenOffset": {"x": 14, "y": -14}}, sel)  # beside it
        focus.insert(0, sel)
        n_placed += 1
    if orient == "whole" or not focus:
        v.zoomTo({})
    elif orient == "variant" and n_placed:
        v.zoomTo({"or": focus[:n_placed]})
    else:
        v.zoomTo({"or": focus[:40]})
    v.zoom(FIT_MARGIN * float(zoom))
    if legend:
        add_legend(v, _legend_entries(a, site, n_placed), title)
        v.translate(int(LEGEND_SHIFT * width), 0)  # screen pixels: the molecule clear of it
    return v


def placements(structure, variants, *, fetcher: Fetcher | None = None) -> list[dict]:
    """Where each variant lands in each target chain of a structure: variant, chain, author
    number and insertion code, status (``numbering.PLACEMENT_STATUSES``) and the label shown.
    The same rule as the impact table (``numbering.place_in_chain``; family stand-ins through
    ``numbering.family_positions``), so a view and the table never disagree."""
    from ..analysis.numbering import PLACEMENT_STATUSES, place_in_chain

    a = _analysis(structure, fetcher)
    st = a.structure
    out = []
    gene = catalog().target(a.accession).gene
    for var in _as_variants(variants, gene, fetcher):
        pos, label = _placed(var, a, fetcher)
        if pos is None:
            continue
        expected = var.ref if var.accession == a.accession else a.uniprot_seq[pos - 1]
        for ch, cd in a.chains.items():
            pl = place_in_chain([pos], cd.numbering, cd.pos_to_k, len(a.uniprot_seq), cd.aa,
                                [expected])
            k = int(pl.k[0])
            ri = int(cd.numbering.residue_indices[k]) if k >= 0 else -1
            out.append({"variant": var.hgvs, "gene": var.gene, "chain": ch,
                        "author_num": int(st.res_num[ri]) if k >= 0 else None,
                        "icode": str(st.res_icode[ri]) if k >= 0 else "",
                        "status": PLACEMENT_STATUSES[int(pl.status[0])], "label": label})
    return out


def _placed(var: Variant, a: StructureAnalysis, fetcher=None) -> tuple[int | None, str]:
    """Position of ``var`` in the structure's protein and its label (UniProt numbering).

    A variant of another family member (HER2 on an EGFR complex) is placed through the
    UniProt-UniProt alignment and labelled with both numbers, e.g. ``T798M (EGFR T790)``.
    """
    if var.accession == a.accession:
        return var.position, var.short
    from ..analysis.numbering import family_positions
    from ..io.uniprot import uniprot_record

    fam = catalog().target(var.accession).family_reference
    if fam != a.accession:
        raise ValueError(f"{var.label} cannot be placed on {a.structure.id} ({a.accession}): "
                         "not the same protein nor its family reference")
    f = session_of(fetcher)
    pos = int(family_positions(uniprot_record(var.accession, f).sequence, a.uniprot_seq,
                               [var.position], memo=f.cache("family"), cache_dir=f.cache_dir)[0])
    if pos < 1:
        return None, ""
    target = catalog().target(a.accession).gene
    return pos, f"{var.short} ({target} {a.uniprot_seq[pos - 1]}{pos})"


def view_site(structure, site: str, *, fetcher: Fetcher | None = None, **kw) -> SafeView:
    """One site: partner and site residues, camera on the site."""
    a = _analysis(structure, fetcher)
    names = {s.name for s in a.sites}
    if site not in names:
        raise ValueError(f"{a.structure.id} has no site {site!r}; its sites: {', '.join(sorted(names))}")
    return view_variants(a, (), site=site, fetcher=fetcher, **kw)


def view_variant_across(variant, structures, *, width: int = 900, height: int = 400, js=None,
                        fetcher: Fetcher | None = None) -> SafeView:
    """One variant shown in several structures side by side (one viewer per structure)."""
    ids = list(structures)
    v = SafeView(width, height, viewergrid=(1, len(ids)), js=js)
    for c, sid in enumerate(ids):
        a = _analysis(sid, fetcher)
        var = variant if isinstance(variant, Variant) else parse_variant(variant, fetcher=fetcher)
        text, fmt = _model_text(a.structure)
        cell = {"viewer": (0, c)}
        v.addModel(text, fmt, **cell)
        v.setStyle({}, {}, **cell)
        _style_partners(v, a, **cell)
        for p in placements(a, [var], fetcher=fetcher):
            if p["status"] in PRESENT:
                sel = _sel(p["chain"], p["author_num"], p["icode"])
                v.addStyle(sel, {"stick": {"color": VARIANT_COLOR, "radius": 0.35}}, **cell)
                v.addLabel(f"{p['label']} ({a.structure.id} {p['chain']})", {"fontSize": 12}, sel,
                           **cell)
                v.zoomTo(sel, **cell)
    return v


def show(view: SafeView, png: bool = True, *, cache_dir: str | os.PathLike | None = None) -> None:
    """Display a view in a notebook: the interactive viewer and, with ``png``, a static picture
    of the same view (``save_png``: needs Chromium and a local 3Dmol.js) that static renders of
    the notebook (GitHub, nbconvert, PDF) show too; without them a one-line note says why. The
    picture is kept in ``cache_dir`` (default: the default session's cache), so a notebook run
    again does not draw it again."""
    import tempfile

    from IPython.display import Image, display

    display(view)
    if not png:
        return
    try:
        with tempfile.TemporaryDirectory(prefix="structkit-show-") as tmp:
            data = save_png(view, Path(tmp) / "view.png", cache_dir=cache_dir if cache_dir
                            is not None else session_of(None).cache_dir).read_bytes()
        display(Image(data=data, format="png"))
    except (RuntimeError, ValueError) as exc:
        print(f"(no static picture of the view: {exc})")


def save_png(view: SafeView, path: str | os.PathLike, *, timeout: float = 120,
             cache_dir: str | os.PathLike | None = None, supersample: bool = False) -> Path:
    """A static PNG of ``view`` for papers: the page (with a local 3Dmol.js embedded) rendered by
    headless Chromium at the view's size, the network shut off; with ``cache_dir`` kept as
    derived data, ``supersample`` as ``save_pngs`` says."""
    return save_pngs([view], [path], timeout=timeout, cache_dir=cache_dir,
                     supersample=supersample)[0]


VIEWS_PER_PAGE = 8  # WebGL contexts on one page (Chromium allows 16; some headroom)


def save_pngs(views: list[SafeView], paths: list, *, timeout: float = 180,
              cache_dir: str | os.PathLike | None = None, supersample: bool = False,
              cartoon_quality: int | None = None) -> list[Path]:
    """Static PNGs of several views with one Chromium start per ``VIEWS_PER_PAGE`` views: the
    views are stacked on one page (3Dmol.js embedded once), the page is captured at once and
    cut into one picture per view (each at its own size). A report's ten pictures cost one
    browser start per core instead of ten, the browsers running in parallel.

    Edges are smoothed by the WebGL context's multisampling. ``supersample=True`` also draws
    each view at twice the resolution and scales it down (what 3Dmol.js does in a browser
    window by default: finer thin sticks and sphere outlines, at about 2.5 times the time in
    Chromium's software WebGL, about 3.5 s instead of 1.4 s for an 800 x 600 view).
    ``cartoon_quality``: 3Dmol.js's cartoon subdivisions per residue (its default 10); the
    report's small card pictures use 6, about 15 % less drawing time for a picture that differs
    by about 1.5 of 255 grey levels on average in a close view (ribbon curves a little coarser).

    With ``cache_dir`` (a session's cache directory) each picture is kept as derived data,
    keyed by the view's script, its size, the 3Dmol.js file, the Chromium binary,
    ``supersample`` and ``cartoon_quality`` (software rendering gives the same pixels for the
    same inputs): a view drawn before is not drawn again."""
    if len(views) != len(paths):
        raise ValueError(f"{len(views)} views but {len(paths)} output paths")
    outs = [Path(p) for p in paths]
    if not views:
        return outs
    if cache_dir is not None:
        drawer = _drawer_id(supersample, cartoon_quality)
        keys = [_png_key(v, drawer) for v in views]
        todo = [i for i, (k, out) in enumerate(zip(keys, outs, strict=True))
                if not _png_from_cache(cache_dir, k, out)]
        if todo:
            save_pngs([views[i] for i in todo], [outs[i] for i in todo], timeout=timeout,
                      supersample=supersample, cartoon_quality=cartoon_quality)
            for i in todo:
                save_entry(cache_dir, "view_png", keys[i],
                           {"png": np.frombuffer(outs[i].read_bytes(), dtype=np.uint8)})
        return outs
    # drawing costs about 2 s of CPU per view (software WebGL), a browser start far less:
    # the views are split over one browser per core (at most VIEWS_PER_PAGE on a page)
    workers = max(1, min(len(views), os.cpu_count() or 1))
    per = min(VIEWS_PER_PAGE, -(-len(views) // workers))
    starts = list(range(0, len(views), per))
    if len(starts) == 1:
        _render_group(views, outs, 0, per, timeout, supersample, cartoon_quality)
        return outs
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(_render_group, views, outs, s, per, timeout, supersample,
                              cartoon_quality) for s in starts]:
            f.result()
    return outs


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _drawer_id(supersample: bool = False, cartoon_quality: int | None = None) -> str:
    """What draws every picture of a call: the 3Dmol.js file embedded (its SHA-256), the
    Chromium binary, the page's time, whether views are supersampled and the cartoon
    quality; once per ``save_pngs`` call."""
    from .browser import VIRTUAL_TIME_MS, identity

    lib = local_3dmol()
    return (f"{sha256_file(lib) if lib is not None else ''}|{identity()}|{VIRTUAL_TIME_MS}|"
            f"upscale={int(supersample)}|cartoon={cartoon_quality}")


# a viewer's config as py3Dmol writes it: 3Dmol.js's 'upscale' (on with antialiasing) draws at
# twice the size; put first, so that a view's own setting still wins
# (a grid's viewers: its third argument)
_CREATE_VIEWER = re.compile(r"(\$3Dmol\.createViewer\((?:[^(),]|\([^()]*\))*,\s*\{"
                            r"|\$3Dmol\.createViewerGrid\((?:[^(),]|\([^()]*\))*,\s*\{[^{}]*\}\s*,\s*\{)")


def _viewer_config(html: str, config: str) -> str:
    """``html`` with ``config`` (``key:value,`` pairs) put first in every viewer's config."""
    return _CREATE_VIEWER.sub(lambda m: m.group(1) + config, html) if config else html


def _png_key(view: SafeView, drawer: str) -> str:
    """Derived-data key of ``view``'s picture: its script (before py3Dmol's random element IDs
    are filled in), its size, its 3Dmol.js address and ``drawer`` (``_drawer_id``)."""
    script = hashlib.sha256((view.startjs + "\0" + view.endjs).encode()).hexdigest()
    return entry_key("view_png", script, view.size_px, getattr(view, "js_url", ""), drawer)


def _png_from_cache(cache_dir, key: str, out: Path) -> bool:
    """Write the kept picture of ``key`` to ``out``; False when there is none (or it is no
    whole PNG: then it is removed)."""
    d = load_entry(cache_dir, "view_png", key,
                   lambda d: d["png"][:8].tobytes() == _PNG_SIGNATURE)
    if d is None:
        return False
    with atomic_write(out) as tmp:
        Path(tmp).write_bytes(d["png"].tobytes())
    return True


def _render_group(views: list, outs: list[Path], start: int, per: int, timeout: float,
                  supersample: bool = False, cartoon_quality: int | None = None) -> None:
    """Draw ``views[start:start + per]`` on one page in one Chromium and cut the pictures."""
    import tempfile

    from PIL import Image

    from .browser import render  # looked up at call time (tests stand in for Chromium)

    group = views[start:start + per]
    config = ("" if supersample else "upscale:false,") + (
        f"cartoonQuality:{int(cartoon_quality)}," if cartoon_quality else "")
    width = max(v.size_px[0] for v in group)
    tops = np.cumsum([0] + [v.size_px[1] for v in group]).tolist()
    body = "".join(
        f'<div style="position:absolute;left:0;top:{top}px;width:{v.size_px[0]}px;'
        f'height:{v.size_px[1]}px;overflow:hidden">'
        f'{_viewer_config(v._make_html(), config)}</div>'
        for v, top in zip(group, tops, strict=False))
    with tempfile.TemporaryDirectory(prefix="structkit-view-") as tmp:
        page = _page(group[0], Path(tmp) / "views.html", body, "structkit views")
        shot = Path(tmp) / "shot.png"
        render(page, f"--screenshot={shot}", window=(width, tops[-1]), timeout=timeout)
        if not shot.is_file() or shot.stat().st_size == 0:
            raise RuntimeError(f"Chromium wrote no screenshot for {outs[start]}")
        with Image.open(shot) as whole:
            for k, (v, top) in enumerate(zip(group, tops, strict=False)):
                w, h = v.size_px
                with atomic_write(outs[start + k]) as part:
                    whole.crop((0, top, w, top + h)).save(part, format="PNG")


def save_html(view: SafeView, path: str | os.PathLike, *, embed: bool = False,
              title: str = "structkit view") -> Path:
    """Write a standalone HTML page for ``view``.

    ``embed=True`` copies the 3Dmol.js library (which must then be a local file) into the page,
    so it renders without any network; otherwise the page loads it from ``view.js_url``.
    """
    return _page(view, path, view._make_html(), title, embed)


def _page(view: SafeView, path: str | os.PathLike, body: str, title: str,
          embed: bool = True) -> Path:
    """A standalone page around ``body`` (views' HTML), 3Dmol.js embedded or linked as
    ``save_html`` says."""
    p = Path(path)
    head = ""
    if embed:
        url = getattr(view, "js_url", "")
        if not url.startswith("file://") and local_3dmol() is not None:
            url = local_3dmol().resolve().as_uri()
        if not url.startswith("file://"):
            raise ValueError(f"embed=True needs a local 3Dmol.js file, not {url!r} "
                             "(set STRUCTKIT_3DMOL_JS or pass js=path)")
        from urllib.parse import unquote, urlparse

        lib = Path(unquote(urlparse(url).path)).read_text(encoding="utf-8")
        lib = re.sub(r"</(script)", r"<\\/\1", lib, flags=re.IGNORECASE)
        head = f"<script>{lib}</script>\n<script>var $3Dmolpromise = Promise.resolve();</script>\n"
    from html import escape

    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{escape(title)}</title>\n"
            f"{head}</head>\n<body style=\"margin:0\">\n{body}\n</body></html>\n")
    with atomic_write(p) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return p
