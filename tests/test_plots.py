"""Figures from the real hotspot list and a real impact table, checked as images and as data."""

from __future__ import annotations

import numpy as np
import pytest

from structkit.cli import main
from structkit.plots import distance_profile, lollipop, site_positions


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
