"""Sessions: settings passed explicitly, results kept per session, two side by side."""

from __future__ import annotations

import os

import pytest

import structkit as sk
from structkit.cli import main


def test_two_sessions_side_by_side(tmp_path, data_dir, p53_mirror):
    full = sk.Session(cache_dir=tmp_path / "a", mirror=data_dir, offline=True)
    p53 = sk.Session(cache_dir=tmp_path / "b", mirror=p53_mirror, offline=True, cutoff=7.0)

    def dna(session):
        t = session.impact_table(["TP53:p.R249S"], structures=["1TSR"])
        return t[t.site == "DNA interface"].iloc[0]

    for _ in range(2):  # interleaved: neither sees the other's files, cut-offs or results
        a, b = dna(full), dna(p53)
        assert a.min_dist_A == b.min_dist_A == pytest.approx(6.31, abs=0.01)
        assert not a.in_site and a.cutoff_A == 4.0  # 6.3 A: no contact at 4 A ...
        assert b.in_site and b.cutoff_A == 7.0  # ... a contact at 7 A
        her2_full = full.impact_table(["ERBB2:p.T798M"], family=False)
        her2_p53 = p53.impact_table(["ERBB2:p.T798M"], family=False)
        assert (her2_full.status == "mapped").any()
        assert set(her2_p53.status) == {"not available offline"}
    assert full.cache("analyses") and p53.cache("analyses")
    assert not set(map(id, full.cache("analyses").values())) & set(
        map(id, p53.cache("analyses").values()))


def test_session_checks_its_cutoffs():
    with pytest.raises(ValueError, match="positive, finite"):
        sk.Session(cutoff=-1)


def test_the_command_line_never_writes_the_environment(tmp_path, data_dir, capsys):
    before = dict(os.environ)
    assert main(["impact", "TP53:p.R175H", "--structures", "1TSR", "--mirror", str(data_dir),
                 "--offline", "--cache", str(tmp_path / "c")]) == 0
    assert main(["plot", "lollipop", "--input", str(data_dir / "variants" / "tcga_laml.maf.gz"),
                 "--gene", "TP53", "--out", str(tmp_path / "l.png"), "--mirror", str(data_dir),
                 "--offline", "--cache", str(tmp_path / "c")]) == 0
    assert dict(os.environ) == before
