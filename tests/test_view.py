"""3D views: content, escaping of hostile text, and a real render in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from structkit.outputs.view import (
    DEFAULT_JS,
    SafeView,
    js_source,
    js_string,
    save_html,
    view_site,
    view_variants,
)

LOCAL_JS = REPO / ".js" / "node_modules" / "3dmol" / "build" / "3Dmol-min.js"


def local_js() -> Path | None:
    env = os.environ.get("STRUCTKIT_3DMOL_JS")
    for cand in ([Path(env)] if env else []) + [LOCAL_JS]:
        if cand.is_file():
            return cand
    return None


def need_browser():
    """In CI the browser test must run (.ci/run installs Chromium and 3Dmol.js); locally it may skip."""
    chromium = shutil.which("chromium")
    js = local_js()
    if chromium and js:
        return chromium, js
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide chromium ({chromium}) and 3Dmol.js ({js}); see .ci/run")
    pytest.skip("chromium or the 3dmol npm package is not installed (run .ci/run's set-up)")


def test_view_contains_partners_sites_and_labels():
    v = view_variants("1TSR", ["R248Q", "TP53:p.R273H"])
    js = v.startjs
    assert js.count("addModel(") == 1
    assert '"R248Q"' in js and '"R273H"' in js  # labels in UniProt numbering
    assert '"chain": "E"' in js and '"sphere"' in js  # DNA chain styled, zinc as a sphere
    assert '"resi": 248' in js


def test_labels_use_uniprot_numbers_on_mature_numbered_entries():
    v = view_variants("1N8Z", ["ERBB2:p.P579L"])
    # UniProt 579 is author 557 in chain C; the label says P579L
    assert '"chain": "C", "resi": 557' in v.startjs and '"P579L"' in v.startjs


def test_view_site_names_the_choices():
    with pytest.raises(ValueError, match="trastuzumab epitope"):
        view_site("1N8Z", "pertuzumab epitope")


HOSTILE = ['</script><script>alert(1)</script>', "x'); alert(1); ('", '`${alert(1)}`',
           '"><img src=x onerror=alert(1)>', "\u2028line"]


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_are_escaped(tmp_path, label):
    v = SafeView(400, 300, js="3Dmol-min.js")
    v.addLabel(label, {"fontSize": 12})
    page = save_html(v, tmp_path / "v.html", title=label).read_text()
    assert "alert(1)</script>" not in page and "<script>alert" not in page
    assert "<img src=x" not in page
    # the label survives as data: decode the JSON argument back
    start = page.index("addLabel(") + len("addLabel(")
    arg, _ = json.JSONDecoder().raw_decode(page[start:])
    assert arg == label
    assert page.count("<script>") == page.count("</script>")


def test_js_string_escapes_html_breakers():
    s = js_string("</script>&<!--")
    assert "<" not in s and ">" not in s and "&" not in s
    assert json.loads(s) == "</script>&<!--"


def test_js_source_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("STRUCTKIT_3DMOL_JS", raising=False)
    assert js_source() == DEFAULT_JS
    f = tmp_path / "my 3Dmol's.js"
    f.write_text("//")
    monkeypatch.setenv("STRUCTKIT_3DMOL_JS", str(f))
    url = js_source()
    assert url.startswith("file://") and "'" not in url and " " not in url
    assert js_source("lib/3Dmol-min.js") == "lib/3Dmol-min.js"


def test_py3dmol_and_npm_versions_agree():
    js = local_js()
    if js is None:
        pytest.skip("3dmol npm package not installed")
    version = json.loads((js.parents[1] / "package.json").read_text())["version"]
    assert f"3dmol@{version}/" in DEFAULT_JS


# ------------------------------------------------------------------------------ real browser


def _serve(directory: Path):
    handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *a: None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _screenshot(chromium: str, url: str, out: Path, profile: Path) -> np.ndarray:
    from PIL import Image

    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
           "--enable-unsafe-swiftshader", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--window-size=800,600", "--virtual-time-budget=15000",
           f"--screenshot={out}", url]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert out.is_file(), f"chromium wrote no screenshot for {url}"
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def _magenta(img: np.ndarray) -> int:
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return int(((r > 180) & (g < 90) & (b > 180)).sum())


def _non_white(img: np.ndarray) -> float:
    return float((img.sum(axis=2) < 720).mean())


def test_saved_view_renders_in_chromium(tmp_path):
    chromium, js = need_browser()
    shutil.copy(js, tmp_path / "3Dmol-min.js")
    save_html(view_variants("1TSR", ["R248Q", "R273H"], js="3Dmol-min.js"), tmp_path / "good.html")
    save_html(view_variants("1TSR", ["R248Q", "R273H"], js="missing/3Dmol-min.js"),
              tmp_path / "bad.html")
    httpd = _serve(tmp_path)
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        good = _screenshot(chromium, f"{base}/good.html", tmp_path / "good.png", tmp_path / "p1")
        bad = _screenshot(chromium, f"{base}/bad.html", tmp_path / "bad.png", tmp_path / "p2")
    finally:
        httpd.shutdown()
    assert _non_white(good) > 0.15, "the molecule was not drawn"
    assert _magenta(good) > 200, "the variant residues (magenta) are not visible"
    # with a wrong 3Dmol.js path the same page stays blank: the test can tell the difference
    assert _magenta(bad) == 0 and _non_white(bad) < 0.05


def test_embedded_page_renders_from_file_without_a_server(tmp_path):
    chromium, js = need_browser()
    lib = tmp_path / "lib" / "3Dmol-min.js"
    lib.parent.mkdir()
    shutil.copy(js, lib)
    page = save_html(view_variants("1N8Z", ["ERBB2:p.P579L"], js=lib), tmp_path / "embed.html",
                     embed=True)
    shutil.rmtree(lib.parent)  # the page must not need the file any more
    img = _screenshot(chromium, page.as_uri(), tmp_path / "embed.png", tmp_path / "p3")
    assert _non_white(img) > 0.15 and _magenta(img) > 50


def test_her2_variant_on_egfr_complex_is_labelled_in_both_numberings():
    v = view_variants("3POZ", ["ERBB2:p.T798M"])
    assert '"T798M (EGFR T790)"' in v.startjs and '"resi": 790' in v.startjs


def test_variant_across_structures_grid():
    from structkit.outputs.view import view_variant_across

    v = view_variant_across("TP53:p.R248Q", ["1TSR", "2OCJ"])
    assert v.startjs.count("addModel(") == 2 and "viewergrid_UNIQUEID[0][1]" in v.startjs


def test_view_png_for_papers_has_legend_and_fits(tmp_path):
    """structkit view --png: the real browser draws the complex at the asked size, the legend in
    the top-left corner (title, ligand, variant patches), the variant residue inside the frame,
    the drug in yellow carbons apart from its teal pocket."""
    need_browser()
    from PIL import Image

    from structkit.cli import main

    out = tmp_path / "t798m.png"
    assert main(["view", "3POZ", "ERBB2:p.T798M", "--title", "T798M and TAK-285", "--width", "640",
                 "--height", "480", "--png", str(out), "--html", str(tmp_path / "v.html")]) == 0
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape[:2] == (480, 640)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    yellow = (r > 220) & (g > 220) & (b < 150)
    teal = (r < 80) & (g > 150) & (b > 160)
    corner = (slice(0, 130), slice(0, 280))
    assert yellow[corner].sum() > 300 and _magenta(img[corner]) > 300  # legend patches
    assert yellow.sum() - yellow[corner].sum() > 100  # the drug itself
    assert teal.sum() - teal[corner].sum() > 100  # its pocket residues, another colour
    mag = ((r > 180) & (g < 90) & (b > 180))
    mag[corner] = False
    ys, xs = np.nonzero(mag)
    assert len(ys) > 50  # the variant residue is drawn ...
    assert 20 < xs.min() and xs.max() < 620 and 20 < ys.min() and ys.max() < 460  # ... inside
    page = (tmp_path / "v.html").read_text()
    assert "T798M and TAK-285" in page
    assert "var $3Dmolpromise = Promise.resolve();" in page  # 3Dmol.js embedded, not fetched


@pytest.mark.parametrize("structure, variants", [
    ("1TSR", ["TP53:p.R248Q", "TP53:p.R273H", "TP53:p.P72R", "TP53:p.R175H"]),
    ("1XKK", ["ERBB2:p.T798M", "ERBB2:p.L755S", "ERBB2:p.C805S", "ERBB2:p.S310F"]),
    ("1N8Z", ["ERBB2:p.P579L", "ERBB2:p.S310F"]),
])
def test_view_and_table_place_alike(structure, variants):
    """One placement rule: the view's residue and status for each variant and chain are the
    impact table's (direct, family stand-in, outside the construct)."""
    from structkit import impact_table
    from structkit.outputs.view import placements

    t = impact_table(variants, structures=[structure], damage=False)
    t = t.drop_duplicates(["variant", "chain"]).set_index(["variant", "chain"])
    got = placements(structure, variants)
    assert got
    for p in got:
        row = t.loc[(p["variant"], p["chain"])]
        assert p["status"] == row.status
        if p["author_num"] is not None:
            assert p["author_num"] == row.author_num


def test_two_fabs_and_their_epitopes_have_their_own_colours_and_the_legend_is_clear(tmp_path):
    """6OGE holds pertuzumab and trastuzumab Fabs on one HER2: each Fab and its epitope its own
    colour (in the view's script and the legend), and in the rendered picture the molecule
    stays clear of the legend column."""
    from structkit.outputs.view import ANTIBODY_COLORS, view_variants

    v = view_variants("6OGE", ["ERBB2:p.S310F"], title="S310F")
    js = v.startjs
    (ph, pl, pe), (th, tl, te) = ANTIBODY_COLORS[:2]
    assert f'{{"chain": "C"}},{{"cartoon": {{"color": "{ph}"}}}}' in js  # pertuzumab heavy
    assert f'{{"chain": "E"}},{{"cartoon": {{"color": "{th}"}}}}' in js  # trastuzumab heavy
    assert f'"color": "{pe}"' in js and f'"color": "{te}"' in js and pe != te
    assert "site residues: pertuzumab epitope" in js and "site residues: trastuzumab epitope" in js
    assert "translate(" in js
    with pytest.raises(ValueError, match="orient 'sideways'"):
        view_variants("6OGE", ["ERBB2:p.S310F"], orient="sideways")
    with pytest.raises(ValueError, match="zoom must be a number from 0.1 to 10"):
        view_variants("6OGE", ["ERBB2:p.S310F"], zoom=0)
    need_browser()
    from PIL import Image

    from structkit.cli import main

    out = tmp_path / "v.png"
    assert main(["view", "3KMD", "TP53:p.R248Q", "--orient", "whole", "--png", str(out)]) == 0
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    drawn = (img.sum(axis=2) < 700)  # not the white background
    h, w = drawn.shape
    legend_col = drawn[:, : int(0.3 * w)]
    below_legend = legend_col[int(0.3 * h):]  # under the legend's lines: empty
    assert below_legend.mean() < 0.002
    ys, xs = np.nonzero(drawn[:, int(0.3 * w):])
    assert ys.min() > 2 and ys.max() < h - 3  # the whole entry fits top to bottom


def test_several_views_in_one_browser_match_one_at_a_time(tmp_path):
    """view.save_pngs (issue 28: the report's pictures with one Chromium start): each picture
    is its own view at its own size, the same picture one browser per view gives."""
    need_browser()
    from PIL import Image

    from structkit.outputs.view import save_png, save_pngs, view_variants

    views = [view_variants("1TSR", ["TP53:p.R248Q"], width=400, height=300),
             view_variants("3POZ", ["ERBB2:p.T798M"], width=320, height=260),
             view_variants("1TSR", ["TP53:p.R175H"], width=400, height=300)]
    outs = save_pngs(views, [tmp_path / f"b{i}.png" for i in range(3)])
    singles = [save_png(v, tmp_path / f"s{i}.png") for i, v in enumerate(views[:2])]
    pics = [np.asarray(Image.open(p).convert("RGB")).astype(int) for p in outs]
    assert [p.shape[:2] for p in pics] == [(300, 400), (260, 320), (300, 400)]
    for pic, single in zip(pics, singles, strict=False):
        alone = np.asarray(Image.open(single).convert("RGB")).astype(int)
        assert pic.shape == alone.shape
        assert np.abs(pic - alone).mean() < 2.0  # the same drawing (software WebGL, same size)
        assert len(np.unique(pic.reshape(-1, 3), axis=0)) > 50  # a molecule, not a blank
    assert np.abs(pics[0] - pics[2]).mean() > 1.0  # another variant, another picture
    with pytest.raises(ValueError, match="2 views but 1 output paths"):
        save_pngs(views[:2], [tmp_path / "x.png"])


def test_pictures_are_kept_and_a_view_drawn_before_is_not_drawn_again(tmp_path, monkeypatch):
    """save_pngs with a cache directory (the report's --png-views, issue 28): the second time
    the same views give the same bytes without starting Chromium; a damaged picture entry is
    drawn again; the random element IDs py3Dmol puts in each page do not change the key."""
    need_browser()
    from structkit.io.derived import DERIVED_FOLDER
    from structkit.outputs import browser
    from structkit.outputs.view import save_pngs, view_variants

    cache = tmp_path / "cache"
    make = lambda: [view_variants("1TSR", ["TP53:p.R248Q"], width=320, height=240),  # noqa: E731
                    view_variants("1TSR", ["TP53:p.R175H"], width=320, height=240)]
    first = [p.read_bytes() for p in save_pngs(make(), [tmp_path / "a0.png", tmp_path / "a1.png"],
                                                cache_dir=cache)]
    assert first[0] != first[1] and all(b.startswith(b"\x89PNG") for b in first)

    def no_browser(*a, **k):
        raise AssertionError("Chromium started for a picture that was kept")

    monkeypatch.setattr(browser, "render", no_browser)
    again = [p.read_bytes() for p in save_pngs(make(), [tmp_path / "b0.png", tmp_path / "b1.png"],
                                                cache_dir=cache)]
    assert again == first
    monkeypatch.undo()
    entries = sorted((cache / DERIVED_FOLDER / "view_png").glob("*.skd"))
    assert len(entries) == 2
    for e in entries:
        e.write_bytes(e.read_bytes()[:-100])  # cut short: drawn again
    redrawn = [p.read_bytes() for p in save_pngs(make(), [tmp_path / "c0.png", tmp_path / "c1.png"],
                                                  cache_dir=cache)]
    assert redrawn == first  # software WebGL: the same page gives the same pixels


def test_view_command_keeps_its_picture(tmp_path, monkeypatch, capsys, data_dir):
    """`structkit view --png` twice: the second writes the same PNG without starting Chromium
    (the picture is derived data of the command's cache)."""
    need_browser()
    from structkit.cli import main
    from structkit.outputs import browser

    src = ["--cache", str(tmp_path / "cache"), "--mirror", str(data_dir), "--offline"]
    args = ["view", "1TSR", "TP53:p.R248Q", "--width", "320", "--height", "240"]
    assert main([*args, "--png", str(tmp_path / "a.png"), *src]) == 0

    def no_browser(*a, **k):
        raise AssertionError("Chromium started for a picture that was kept")

    monkeypatch.setattr(browser, "render", no_browser)
    assert main([*args, "--png", str(tmp_path / "b.png"), *src]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "b.png").read_bytes().startswith(b"\x89PNG")
    capsys.readouterr()


def test_a_picture_is_drawn_at_its_size_unless_supersampled(tmp_path):
    """save_pngs draws each view at its own size (the WebGL context's multisampling smooths
    the edges); supersample=True draws at twice the size and scales down, as 3Dmol.js does in
    a browser window: the same molecule in the same place (the two pictures differ only along
    edges), a different picture, and kept under another key; so is a coarser cartoon."""
    need_browser()
    from PIL import Image

    from structkit.outputs.view import save_pngs, view_variants

    make = lambda: [view_variants("1TSR", ["TP53:p.R248Q"], width=400, height=300)]  # noqa: E731
    cache = tmp_path / "cache"
    plain = save_pngs(make(), [tmp_path / "plain.png"], cache_dir=cache)[0]
    fine = save_pngs(make(), [tmp_path / "fine.png"], cache_dir=cache, supersample=True)[0]
    a = np.asarray(Image.open(plain).convert("L")).astype(int)
    b = np.asarray(Image.open(fine).convert("L")).astype(int)
    assert a.shape == b.shape == (300, 400)
    assert plain.read_bytes() != fine.read_bytes()
    drawn_a, drawn_b = a < 250, b < 250  # not the white background
    assert drawn_a.mean() > 0.05 and abs(drawn_a.mean() - drawn_b.mean()) < 0.02
    assert (drawn_a == drawn_b).mean() > 0.95  # the same molecule, in the same place
    coarse = save_pngs(make(), [tmp_path / "coarse.png"], cache_dir=cache, cartoon_quality=6)[0]
    c = np.asarray(Image.open(coarse).convert("L")).astype(int)
    assert coarse.read_bytes() != plain.read_bytes()  # the ribbons' subdivisions differ...
    assert np.abs(c - a).mean() < 3.0  # ...by little (1.5 grey levels; the report uses 6)
    from structkit.io.derived import DERIVED_FOLDER

    assert len(list((cache / DERIVED_FOLDER / "view_png").glob("*.skd"))) == 3
