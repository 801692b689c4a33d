"""`structkit report`: one self-contained HTML (and PDF) from real structures, checked in a real
headless Chromium with the network shut off."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
import subprocess

import numpy as np
import pytest
from test_view import need_browser

from structkit import report
from structkit.catalog import catalog
from structkit.cli import main
from structkit.io.structure import read_structure
from structkit.io.variants import parse_variants


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "seed.html"
    panel = [(v["gene"], v["change"]) for v in catalog().seed_panel]
    report(panel, out, title='Seed <script>alert("x")</script> & co', max_views=3)
    return out


def test_report_has_the_summary_cards_figures_and_provenance(seed_report):
    page = seed_report.read_text()
    n = len(catalog().seed_panel)
    summary = page.split('class="sortable"')[1].split("</table>")[0]
    assert summary.count("<tr>") == n + 1  # header + one row per variant
    assert page.count('<section class="card">') == n
    # figures are embedded PNGs of sensible size
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(imgs) >= 3  # a lollipop per gene, the distance profile, the therapy heat map
    from PIL import Image

    for data in imgs:
        w, h = Image.open(io.BytesIO(base64.b64decode(data))).size
        assert 100 < w < 4000 and 100 < h < 4000
    assert len(re.findall(r"<td>([0-9a-f]{64})</td>", page)) >= 5  # files with SHA-256
    from structkit.judge.verdict import models

    cv = models()["evolution"].meta["cv_auc_grouped_by_codon"]  # the model's record, not typed
    assert "Kato et al. 2003" in page and f"ROC AUC {cv:.3f} in 5-fold cross-validation" in page
    assert "Tien MZ et al. (2013)" in page and "Kabsch W, Sander C (1983)" in page


def test_report_therapies_show_known_response_beside_the_relation(seed_report):
    """Each HER2 card's therapy table has CIViC's known response and the structural relation
    in separate columns; the methods list the drug table with its approvals."""
    from structkit.judge.therapy import drug_table

    page = seed_report.read_text()
    cards = page.split('<section class="card">')[1:]
    t798m = next(c for c in cards if "p.T798M" in c.split("</h3>")[0])
    table = t798m.split("<h4>Therapies</h4>")[1].split("</table>")[0]
    assert "<th>known response (CIViC)</th><th>structural relation</th>" in table
    row = next(r for r in table.split("<tr>") if "<td>lapatinib</td>" in r)
    assert "<td>resistance</td><td>contact</td>" in row  # EID3006 beside the 1XKK contact
    drugs = page.split("<h3>Drugs</h3>")[1].split("</table>")[0]
    approved = drug_table("ERBB2")
    for d in approved[approved.status == "approved"].drug:
        assert f"<td>{d}</td>" in drugs
    assert "Therapies (approved drugs): structural relation (colour) and known response" in page


def test_report_cards_read_the_score_by_the_genes_role(seed_report):
    """Each card says the role and the effect class; the methods give both models' numbers
    from their shipped provenance, not a loss-of-function reading for every gene."""
    from structkit.judge.verdict import models

    page = seed_report.read_text()
    cards = page.split('<section class="card">')[1:]
    her2 = [c for c in cards if "ERBB2" in c.split("</h3>")[0]]
    p53 = [c for c in cards if "TP53" in c.split("</h3>")[0]]
    assert her2 and all("(oncogene: <b>" in c for c in her2)
    assert p53 and all("(tumour suppressor: <b>" in c for c in p53)
    meta = models()["oncogene"].meta
    assert f"ROC AUC {meta['cv_auc_grouped_by_position']:.3f}" in page
    assert f"ROC AUC {models()['evolution'].meta['cv_auc_grouped_by_codon']:.3f}" in page


def test_report_cards_carry_region_hotspots_and_civic_links(seed_report, data_dir):
    """T798M's card: its region, and the CIViC item EID3006 (lapatinib resistance) linked to
    the evidence item and to PubMed as the release file gives them; the data releases with
    their SHA-256 in the methods."""
    import csv

    page = seed_report.read_text()
    card = next(c for c in page.split('<section class="card">')[1:]
                if "ERBB2 p.T798M" in c.split("</h3>")[0])
    assert "Region: <b>Protein kinase; N-lobe; ATP pocket; gatekeeper</b>" in card
    with open(data_dir / "evidence" / "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv") as fh:
        item = next(r for r in csv.DictReader(fh, delimiter="\t") if r["evidence_id"] == "3006")
    assert f'<a href="{item["evidence_civic_url"]}">EID3006</a>' in card
    assert f'https://pubmed.ncbi.nlm.nih.gov/{item["citation_id"]}/' in card
    hot = data_dir / "variants" / "cancerhotspots_v2_multi_type_residue.txt"
    assert hashlib.sha256(hot.read_bytes()).hexdigest() in page


def test_report_lists_each_file_with_its_checksum(seed_report, data_dir):
    page = seed_report.read_text()
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([0-9a-f]{64})</td>"
                      r"<td>([^<]+)</td><td>([^<]*)</td>", page)
    assert rows
    for _pid, name, sha, origin, cite in rows:
        src = data_dir / ("alphafold" if name.startswith("AF-") else "pdb") / name
        assert hashlib.sha256(src.read_bytes()).hexdigest() == sha
        assert origin == "mirror"
        # the citation column is the file's own JRNL records (mmCIF: a primary _citation row),
        # as read with the structure
        raw = src.read_bytes()
        text = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        has = (re.search(rb"\n_citation\.id\s+primary", text) is not None
               if ".cif" in name else b"\nJRNL " in text)
        assert (cite != "") == has, name


def test_primary_citation_comes_from_the_file(data_dir):
    cite = read_structure(data_dir / "pdb" / "1n8z.pdb").citation
    # Cho et al. (2003) Nature 421:756, as the JRNL records of the file give it
    assert cite.startswith("H.-S.CHO, K.MASON") and "HERCEPTIN FAB" in cite
    assert "NATURE V. 421 756 2003" in cite and cite.endswith("doi:10.1038/NATURE01392")
    assert read_structure(data_dir / "pdb" / "1tup.pdb").citation == ""  # header-stripped file
    cif = data_dir / "pdb" / "7pcd.cif"  # mmCIF: the _citation row with id 'primary', if any
    has_primary = b"_citation." in cif.read_bytes()
    assert bool(read_structure(cif).citation) == has_primary


def test_everything_a_user_reads_is_escaped(seed_report):
    page = seed_report.read_text()
    assert '<script>alert("x")</script>' not in page
    assert "Seed &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    # nothing is loaded from elsewhere: no external src= or <link href>; the only links that
    # leave the page are the CIViC evidence items and their PubMed sources, followed by a reader
    assert not re.search(r'(?:src\s*=|<link[^>]*href\s*=)\s*["\']?(?:https?:)?//', page)
    hosts = set(re.findall(r'<a href="https?://([^/"]+)', page))
    assert hosts and hosts <= {"civicdb.org", "pubmed.ncbi.nlm.nih.gov"}


def test_report_renders_offline_in_chromium(seed_report, tmp_path):
    """The page in a real Chromium, network shut off: every 3D viewer draws its canvas and no
    script fails (the console would say 'Uncaught'); each structure's text is embedded once,
    however many cards show it (issue 28)."""
    chromium, _ = need_browser()
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
           "--enable-unsafe-swiftshader", "--host-resolver-rules=MAP * ~NOTFOUND",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
           "--enable-logging=stderr", "--v=0", "--dump-dom", seed_report.resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    dom = run.stdout
    assert dom.count("<canvas") >= 3  # the three 3D viewers drew their canvases
    assert dom.count('<section class="card">') == len(catalog().seed_panel)
    assert "Uncaught" not in run.stderr, [ln for ln in run.stderr.splitlines() if "Uncaught" in ln]
    page = seed_report.read_text()
    shared = page.split("var structkit_models = [", 1)[1].split("];</script>", 1)[0]
    n_views = page.count("structkit_models[")
    assert n_views == 3 and 'addModel("' not in page.split("<body>", 1)[1]
    models = re.findall(r'^"(?:[^"\\]|\\.)*"', shared, flags=re.MULTILINE)
    assert 1 <= len(models) <= n_views and len(set(models)) == len(models)


def test_pdf_pages_and_text(seed_report, tmp_path):
    need_browser()
    from pypdf import PdfReader

    from structkit.outputs.report import print_pdf

    pdf = print_pdf(seed_report, tmp_path / "seed.pdf")
    reader = PdfReader(pdf)
    text = " ".join(p.extract_text() for p in reader.pages)
    n = len(catalog().seed_panel)
    # print shows each card briefly, in two columns that flow across pages: at most 2 pages per
    # 5 variants (17 variants: 6 A4 pages; 44-54 before the print layout)
    assert 3 <= len(reader.pages) <= 2 * n / 5
    variants_at = next(i for i, p in enumerate(reader.pages) if "Variants" in p.extract_text()
                       and "of 17 variants" in p.extract_text())
    assert reader.pages[variants_at].extract_text().count("impact score") >= 2  # not stranded
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    for needle in ("p.R248Q", "p.T798M", "1TSR", "3PP0", "Methods and provenance"):
        assert needle in text, needle
    first = reader.pages[0].extract_text()
    # the summary's last columns fit, and no cell breaks inside a word ('mapped', 'p.R248Q')
    assert "stability" in first and "PDB status" in first and "mapped" in first
    assert "mappe\nd" not in first and "p.R248\n" not in first
    assert "/work/" not in text and str(tmp_path) not in text  # no machine paths
    assert "3D view:" not in text  # no heading without its picture
    assert text.count("impact score") >= n
    # the methods give each structure file with its numbering and the first 16 hex digits of
    # its SHA-256 (all 64 in the HTML); the HER2 model absent from the mirror is named as such
    page = seed_report.read_text()
    full = re.findall(r"<td>([^<]+)</td><td>([0-9a-f]{64})</td>", page)
    assert len(full) >= 15
    tight = re.sub(r"\s+", "", text)  # a long file name may wrap in its cell
    for name, sha in full:
        assert re.search(rf"{re.escape(name)}.{{0,60}}?{sha[:16]}", tight), name
    from conftest import in_mirror

    her2_model = catalog().find("AF-P04626")
    if her2_model is not None and not in_mirror(her2_model):  # the mirror may grow
        assert "notavailableoffline:AF-P04626" in tight


def test_pdf_on_letter_paper(tmp_path):
    need_browser()
    from pypdf import PdfReader

    out = tmp_path / "r.html"
    assert main(["report", "--out", str(out), "--pdf", str(tmp_path / "r.pdf"),
                 "--paper", "Letter", "--max-views", "0"]) == 0  # the seed panel
    reader = PdfReader(tmp_path / "r.pdf")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert len(reader.pages) <= 2 * len(catalog().seed_panel) / 5  # shorter pages, same target


def test_report_on_the_tp53_hotspot_rows(tmp_path, data_dir):
    batch = parse_variants(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv", genes=["TP53"])
    out = report(batch, tmp_path / "tp53.html", max_cards=5, max_views=0)
    page = out.read_text()
    distinct = len({v.hgvs for v in batch.variants})
    summary = page.split('class="sortable"')[1].split("</table>")[0]
    assert summary.count("<tr>") == distinct + 1
    assert page.count('<section class="card">') == 5
    assert "I255del" in page


def test_report_command(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "TP53:p.R248Q", "--out", str(out), "--max-views", "0"]) == 0
    # the command as given, with file names instead of this machine's directories
    assert "structkit report TP53:p.R248Q --out r.html --max-views 0" in out.read_text()
    assert str(tmp_path) not in out.read_text()
    assert main(["report", "TP53:p.R248Q", "--out", str(tmp_path / "r.txt")]) == 2
    assert "the report is an HTML file" in capsys.readouterr().err


def test_static_pictures_of_the_views_for_print_and_no_javascript(tmp_path):
    need_browser()
    from PIL import Image

    out = report(["TP53:p.R248Q", "ERBB2:p.T798M"], tmp_path / "r.html", max_views=2,
                 png_views=True)  # both pictures drawn in one go (view.save_pngs)
    page = out.read_text()
    pics = {}
    for card in page.split('<section class="card">')[1:]:
        name = card.split("</h3>")[0]
        fallback = card.split("<noscript>")[1].split("</noscript>")[0]
        variant = "p.R248Q" if "p.R248Q" in name else "p.T798M"
        assert f"3D view of {'TP53' if variant == 'p.R248Q' else 'ERBB2'} {variant} on" in fallback
        data = re.search(r'src="data:image/png;base64,([^"]+)"', fallback).group(1)
        img = Image.open(io.BytesIO(base64.b64decode(data)))
        assert img.size == (640, 360)
        pics[variant] = np.asarray(img.convert("RGB")).astype(int)
    assert set(pics) == {"p.R248Q", "p.T798M"}
    assert np.abs(pics["p.R248Q"] - pics["p.T798M"]).mean() > 1.0  # each card its own picture
    assert 'class="printonly"' in page  # the same picture replaces the viewer in print


def test_the_readme_screenshot_is_made_by_a_script(tmp_path, data_dir):
    """scripts/screenshots.py draws docs/report_seed_panel.png from a fresh run (offline)."""
    need_browser()
    import sys

    from PIL import Image

    repo = __import__("pathlib").Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(repo / "scripts" / "screenshots.py"), "--mirror",
                        str(data_dir), "--out", str(tmp_path), "--width", "900", "--height", "700"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    img = Image.open(tmp_path / "report_seed_panel.png")
    assert img.size == (900, 700)
    assert (repo / "docs" / "report_seed_panel.png").is_file()


def test_a_structure_shown_on_several_cards_is_embedded_once():
    """Two cards on 1TSR and one on 3KMD: two structure texts in the shared script, and each
    card's viewer reads its own by index."""
    from structkit.outputs.report import _shared_models
    from structkit.outputs.view import view_variants

    views = {("TP53", v): view_variants(s, [f"TP53:{v}"])._make_html()
             for s, v in (("1TSR", "p.R248Q"), ("1TSR", "p.R273H"), ("3KMD", "p.R249S"))}
    script, out = _shared_models(views)
    assert script.count('"ATOM ') + script.count('"HEADER') + script.count('"data_') == 2
    assert "structkit_models[0]" in out["TP53", "p.R248Q"]
    assert "structkit_models[0]" in out["TP53", "p.R273H"]
    assert "structkit_models[1]" in out["TP53", "p.R249S"]
    assert all('addModel("' not in html for html in out.values())
    tsr = re.search(r'addModel\(("(?:[^"\\]|\\.)*")', views["TP53", "p.R248Q"]).group(1)
    saved = sum(map(len, views.values())) - sum(map(len, out.values())) - len(script)
    assert saved > len(tsr) - 200  # 1TSR's text once instead of twice
