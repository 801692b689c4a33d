"""Figures from the real hotspot list and a real impact table, checked as images and as data."""

from __future__ import annotations

import numpy as np
import pytest

from structkit.cli import main
from structkit.outputs.plots import distance_profile, lollipop, site_positions


def test_lollipop_counts_the_hotspot_list(data_dir):
    fig = lollipop(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv", "p53")
    ax = fig.axes[0]
    # 586 of the 626 TP53/ERBB2 rows are TP53 (the rest ERBB2): every one is counted
    assert ax.get_title().startswith("TP53: 586 variants")
    from matplotlib.collections import PathCollection

    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections
                         if isinstance(c, PathCollection)])
    assert xs.min() >= 1 and xs.max() <= 393
    labels = {t.get_text() for t in ax.texts}
    assert "DNA-binding" in labels and "Oligomerization" in labels


def test_site_positions_from_complexes():
    s = site_positions(("1TSR",))
    assert {176, 179, 238, 242} == s["Zn site (1TSR)"]
    assert {248, 273} <= s["DNA interface (1TSR)"]


def test_plot_cli_writes_real_images(tmp_path, data_dir, capsys):
    from PIL import Image

    png = tmp_path / "tp53.png"
    assert main(["plot", "lollipop", "--input", str(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv"),
                 "--gene", "TP53", "--out", str(png)]) == 0
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert img.shape[0] > 400 and (img.sum(axis=2) < 600).mean() > 0.01  # not an empty canvas
    table = tmp_path / "t.tsv"
    assert main(["impact", "TP53:p.R248Q", "TP53:p.R175H", "--structures", "1TSR", "--out", str(table)]) == 0
    svg = tmp_path / "d.svg"
    assert main(["plot", "distances", "--input", str(table), "--out", str(svg)]) == 0
    text = svg.read_text()
    assert text.startswith("<?xml") and "contact cut-off 4 A" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_distance_profile_needs_distances():
    import pandas as pd

    with pytest.raises(ValueError, match="no site distances"):
        distance_profile(pd.DataFrame({"min_dist_A": [np.nan], "site": [""], "gene": ["TP53"],
                                       "variant": ["p.R248Q"], "position": [248]}))


@pytest.mark.parametrize("gene, sites", [("TP53", ("1TSR",)), ("ERBB2", ("1N8Z", "1S78", "3PP0"))])
def test_lollipop_labels_never_overlap_and_ticks_are_counts(data_dir, gene, sites):
    fig = lollipop(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv", gene, sites_from=sites)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Annotation, Text

    labels = [t for t in ax.texts if isinstance(t, Annotation) and ("/" in t.get_text()
              or t.get_text()[:1].isalpha() and t.get_text()[1:2].isdigit())]
    for t in labels:
        t.update_positions(renderer)
    boxes = [Text.get_window_extent(t, renderer) for t in labels]  # the texts, not their leaders
    assert len(boxes) >= 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
    legend = ax.get_legend().get_window_extent(renderer)
    assert not any(b.overlaps(legend) for b in boxes)
    ticks = [t for t in ax.get_yticks()]
    assert ticks and all(t >= 0 and float(t).is_integer() for t in ticks)
    classes = {c.get_label() for c in ax.collections}
    assert "missense" in classes and "in-frame" in classes  # I255del, N131del; Y772_A775dup


def test_lollipop_counts_a_sample_once_per_change(data_dir):
    from structkit.io.variants import parse_variants

    laml = parse_variants(data_dir / "variants" / "tcga_laml.maf.gz", genes=["TP53"]).variants
    twice = laml + laml  # every row given again: the same samples, the same changes
    ax = lollipop(twice, "TP53").axes[0]
    assert ax.get_ylabel() == "samples with the change"
    n_pairs = len({(v.sample, v) for v in laml})
    assert ax.get_title().startswith(f"TP53: {n_pairs} sample-variant pairs")


def test_distance_profile_of_hundreds_of_variants_stays_a_sane_size(data_dir, tmp_path):
    from PIL import Image

    from structkit import impact_table, parse_variants

    batch = parse_variants(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv",
                           genes=["TP53", "ERBB2"])
    t = impact_table(batch, damage=False)
    n = t[t.min_dist_A.notna()].drop_duplicates(["gene", "variant"]).shape[0]
    assert n > 400  # 456 measured of the 513 distinct TP53/ERBB2 hotspot variants
    fig = distance_profile(t)
    assert f"50 of {n} variants" in fig.axes[0].get_title()
    png = tmp_path / "d.png"
    fig.savefig(png, dpi=200)  # what 'structkit plot distances' writes
    w, h = Image.open(png).size
    assert w < 4000 and h < 4000


def test_lollipop_coloured_by_mechanism(data_dir):
    from structkit import impact_table, parse_variants, summarize

    batch = parse_variants(data_dir / "variants" / "tcga_laml.maf.gz", genes=["TP53"])
    summary = summarize(impact_table(batch))
    ax = lollipop(batch.variants, "TP53", summary=summary).axes[0]
    labels = {c.get_label() for c in ax.collections
              if not c.get_label().startswith(("_", "Cancer Hotspots"))}
    # LAML TP53: R248Q and R273C touch DNA, C176Y and H179R coordinate the zinc, frameshifts
    assert {"DNA contact", "zinc site", "truncating"} <= labels
    assert labels <= set(summary.mechanism) | {"not scored"}


def test_lollipop_shows_anatomy_and_hotspots_and_oncogene_classes(data_dir):
    """The anatomy track names the ECD domains (Cho et al. 2003), the hotspot track has one
    diamond per Cancer Hotspots residue of the gene (counted in the file), and an oncogene's
    heads are coloured by effect class."""
    import csv

    from structkit import impact_table, parse_variants, summarize

    batch = parse_variants(["ERBB2:p.S310F", "ERBB2:p.T798M", "ERBB2:p.K753M", "ERBB2:p.V777L"])
    summary = summarize(impact_table(batch))
    ax = lollipop(batch.variants, "ERBB2", summary=summary).axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert {"ECD domain I", "ECD domain II", "ECD domain III", "ECD domain IV"} <= texts
    with open(data_dir / "variants" / "cancerhotspots_v2_multi_type_residue.txt") as fh:
        residues = {r["Amino_Acid_Position"] for r in csv.DictReader(fh, delimiter="\t")
                    if r["Hugo_Symbol"] == "ERBB2" and r["Amino_Acid_Position"].isdigit()}
    hot = next(c for c in ax.collections if c.get_label().startswith("Cancer Hotspots"))
    assert len(hot.get_offsets()) == len(residues)
    labels = {c.get_label() for c in ax.collections if not c.get_label().startswith("_")}
    heads = labels - {hot.get_label()}
    assert heads == set(summary.effect_class)
    assert {"activating", "resistance candidate", "catalytically dead"} <= heads


def test_lollipop_of_the_hotspot_residue_table_counts_tumours_and_labels_the_top(data_dir):
    """The residue table: each allele weighted by its tumour count (TP53 R273: 609 tumours,
    R248: 560, as the file says); every position among the ten highest is labelled, with all
    its alleles (ERBB2 L755 shows S among S/P/M/A/W)."""
    import pandas as pd

    path = data_dir / "variants" / "cancerhotspots_v2_multi_type_residue.txt"
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    tp53 = raw[raw.Hugo_Symbol == "TP53"].set_index("Residue")
    fig = lollipop(path, "TP53")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "tumours (Cancer Hotspots v2)"
    heads = {}
    from matplotlib.collections import PathCollection

    for c in ax.collections:
        if isinstance(c, PathCollection) and c.get_label() in ("missense", "truncating"):
            for x, y in c.get_offsets():
                heads[int(x)] = max(heads.get(int(x), 0), float(y))
    for res in ("R273", "R248", "R175"):
        alleles = tp53.loc[res, "Variant_Amino_Acid"].split("|")
        want = sum(int(a.split(":")[1]) for a in alleles if a.split(":")[0] != res[0])
        assert heads[int(res[1:])] == want  # R273: 609 less its silent count, if any
    texts = [t.get_text() for t in ax.texts]
    top = sorted(heads, key=lambda p: -heads[p])[:10]
    for p in top:
        assert any(t[1:].startswith(str(p)) and t[0].isalpha() for t in texts), (p, texts)
    her2 = [t.get_text() for t in lollipop(path, "ERBB2").axes[0].texts]
    l755 = next(t for t in her2 if t.startswith("L755"))
    assert "S" in l755.split("L755")[1].split("/") or l755.startswith("L755S")


def test_a_list_without_counts_is_said(data_dir):
    with pytest.warns(UserWarning, match="no samples or counts"):
        fig = lollipop(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv", "TP53")
    assert "counting input rows" in fig.axes[0].get_title()


def test_lollipop_counts_from_a_column(tmp_path):
    p = tmp_path / "counts.tsv"
    p.write_text("gene\tvariant\tn\nTP53\tp.R248Q\t5\nTP53\tp.R175H\t2\nTP53\tp.R248W\t0\n")
    ax = lollipop(p, "TP53", counts_column="n").axes[0]
    assert ax.get_ylabel() == "count (n)"
    assert ax.get_title().startswith("TP53: 7 counted in column n (2 rows)")
    texts = {t.get_text() for t in ax.texts}
    assert {"R248Q", "R175H"} <= texts  # R248W counted 0: not drawn
    with pytest.raises(ValueError, match="no column 'count'"):
        lollipop(p, "TP53", counts_column="count")


def test_distance_profile_styles_are_fixed_and_many_variants_make_a_dot_plot(tmp_path):
    """A site looks the same in every figure (colour by kind, marker by the catalog's partner),
    whatever other sites are drawn; the ligand sites of the catalog all get distinct markers;
    50 variants give one row each; structkit's own TSV reads without a dtype warning."""
    import warnings

    from matplotlib.collections import PathCollection

    from structkit import impact_table, write_table
    from structkit.outputs.plots import site_style

    ligands = [site_style(f"{d} ligand contacts", "ligand")[1] for d in
               ("03Q", "70I", "TAK-285", "lapatinib", "neratinib", "afatinib", "gefitinib",
                "erlotinib", "compound 20a")]
    assert len(set(ligands)) == len(ligands)

    def styles(fig):
        return {c.get_label(): (tuple(c.get_facecolor()[0]), c.get_paths()[0].vertices.shape)
                for c in fig.axes[0].collections if isinstance(c, PathCollection)}

    a = styles(distance_profile(impact_table(["TP53:p.R248Q"], damage=False)))
    b = styles(distance_profile(impact_table(["TP53:p.R248Q", "ERBB2:p.T798M"], damage=False)))
    assert a["DNA interface"] == b["DNA interface"] and a["Zn site"] == b["Zn site"]
    p53 = [f"TP53:p.{r}{p}{a}" for p, r, a in ((248, "R", "Q"), (273, "R", "H"), (175, "R", "H"),
                                               (245, "G", "S"), (249, "R", "S"), (282, "R", "W"),
                                               (220, "Y", "C"), (176, "C", "F"), (179, "H", "R"),
                                               (238, "C", "Y"))]
    many = [v[:-1] + alt for v in p53 for alt in "ADEKM"]  # 50 distinct changes at 10 residues
    t = impact_table(many, damage=False)
    out = write_table(t, tmp_path / "t.tsv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = distance_profile(out)
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == 50 and ax.get_xlabel().startswith("minimum heavy-atom")
    w, h = fig.get_size_inches()
    assert w < 12 and 10 < h <= 18
