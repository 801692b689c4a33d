"""Hostile files, servers and cells (issue 15): each test reproduces an attack on real files
through the loopback test server or a temporary mirror/cache, and fails if the protection is
removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_fetch import net_fetcher

from structkit import impact_table, write_table
from structkit.io.fetch import Fetcher, FetchError, IntegrityError, NotAvailableOffline, check_structure_bytes
from structkit.io.resolve import load
from structkit.io.variants import parse_variants


def _cut_after_first_model(data: bytes) -> bytes:
    cut = data.index(b"ENDMDL")
    return data[: data.index(b"\n", cut) + 1]


def test_file_cut_after_endmdl_fails_the_integrity_check(data_dir):
    data = (data_dir / "pdb" / "3kz8.pdb1").read_bytes()
    check_structure_bytes(data, "3kz8.pdb1", "pdb", "3KZ8")  # the real file passes
    with pytest.raises(IntegrityError, match="expected END"):
        check_structure_bytes(_cut_after_first_model(data), "cut", "pdb", "3KZ8")
    # ... and with an END appended, the open MODEL count gives it away only if ENDMDL is missing;
    # a second MODEL without its ENDMDL is caught
    cut2 = data[: data.rindex(b"ENDMDL")] + b"END\n"
    with pytest.raises(IntegrityError, match="no ENDMDL"):
        check_structure_bytes(cut2, "cut2", "pdb", "3KZ8")


def test_truncated_file_in_the_cache_is_not_used(tmp_path, data_dir):
    cache = tmp_path / "cache"
    (cache / "pdb").mkdir(parents=True)
    full = (data_dir / "pdb" / "3kz8.pdb1").read_bytes()
    (cache / "pdb" / "3kz8.pdb1").write_bytes(_cut_after_first_model(full))
    f = Fetcher(cache_dir=cache, mirror=data_dir, offline=True)
    st = load("3KZ8", session=f, assembly=1)
    assert Path(st.path).read_bytes() == full  # the complete file, not the cut one
    assert st.n_models == 2 and (st.model == 1).sum() == (st.model == 2).sum()
    t = impact_table(["TP53:p.R273H"], structures=["3KZ8"], session=f, damage=False)
    dna = t[t.site_kind == "dna"]
    assert dna.min_dist_A.min() < 3.5  # R273 touches DNA (2.9 A), not 10.5 A from a half file


def test_network_body_cut_after_endmdl_is_not_cached(mirror_server, tmp_path):
    mirror_server.fault("/rcsb/download/3KZ8.pdb1", "cut_after_endmdl", times=5)
    f = net_fetcher(mirror_server, tmp_path, retries=1)
    with pytest.raises(FetchError):
        f.pdb("3KZ8", format="pdb", assembly=1)
    assert not [p for p in tmp_path.rglob("3kz8*") if p.is_file()]


def test_slow_drip_hits_the_overall_deadline(mirror_server, tmp_path):
    mirror_server.fault("/rcsb/download/1TSR.pdb", "drip", times=3, interval=0.05)
    f = net_fetcher(mirror_server, tmp_path, retries=0, deadline=1.0)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 1 s"):
        f.pdb("1TSR", format="pdb")
    assert time.monotonic() - t0 < 10


def test_redirect_to_another_host_or_http_is_refused(mirror_server, tmp_path):
    port = mirror_server.url.rsplit(":", 1)[1]
    mirror_server.fault("/rcsb/download/1TSR.pdb", "redirect",
                        location=f"http://127.0.0.2:{port}/rcsb/download/1TSR.pdb")
    f = net_fetcher(mirror_server, tmp_path)
    with pytest.raises(FetchError, match="another host"):
        f.pdb("1TSR", format="pdb")
    mirror_server.fault("/rcsb/download/1TSR.pdb", "redirect",
                        location="http://evil.example/1TSR.pdb")
    with pytest.raises(FetchError, match="not https"):
        f.pdb("1TSR", format="pdb")
    assert not [p for p in tmp_path.rglob("1tsr*") if p.is_file()]


def test_redirect_loop_is_a_clean_error(mirror_server, tmp_path):
    path = "/rcsb/download/1TSR.pdb"
    mirror_server.fault(path, "redirect", times=10, location=mirror_server.url + path)
    f = net_fetcher(mirror_server, tmp_path)
    with pytest.raises(FetchError, match="redirect loop"):
        f.pdb("1TSR", format="pdb")


def test_content_encoding_gzip_is_decoded(mirror_server, tmp_path, data_dir):
    mirror_server.fault("/rcsb/download/1TSR.pdb", "gzip_encoding")
    f = net_fetcher(mirror_server, tmp_path)
    res = f.pdb("1TSR", format="pdb")
    assert Path(res.path).read_bytes() == (data_dir / "pdb" / "1tsr.pdb").read_bytes()


def test_offline_never_uses_a_url_mirror(mirror_server, tmp_path):
    f = Fetcher(cache_dir=tmp_path, mirror=mirror_server.url + "/rcsb/download", offline=True)
    with pytest.raises(NotAvailableOffline):
        f.pdb("1TSR", format="pdb")
    assert sum(mirror_server.hits.values()) == 0


@pytest.mark.parametrize("mirror", ["ftp://example.org/data", "file:///tmp/x", "gopher://h/x"])
def test_unknown_mirror_schemes_are_errors(mirror, tmp_path):
    with pytest.raises(ValueError, match="not supported"):
        Fetcher(cache_dir=tmp_path, mirror=mirror)


def test_uppercase_scheme_is_a_url_not_a_directory(tmp_path):
    f = Fetcher(cache_dir=tmp_path, mirror="HTTPS://files.example.org/data", offline=True)
    assert f._mirror_is_url() and str(f.mirror).startswith("https://")


def test_stale_part_files_are_cleaned(mirror_server, tmp_path):
    (tmp_path / "pdb").mkdir()
    stale = tmp_path / "pdb" / ".1tsr.pdb.abc123.part.pdb"
    stale.write_bytes(b"x" * 1000)
    net_fetcher(mirror_server, tmp_path).pdb("1TSR", format="pdb")
    assert not stale.exists()


def test_formula_cells_are_neutralised(tmp_path):
    evil = '=HYPERLINK("http://evil.example/","click")'
    t = impact_table([evil, "TP53:p.R175H", "+cmd|' /C calc'!A0", "@SUM(1+1)",
                      "-2+3+cmd", "TP53:p.R248Q\x01"], structures=["1TSR"], damage=False)
    for suffix in (".csv", ".tsv"):
        p = write_table(t, tmp_path / f"t{suffix}")
        back = pd.read_csv(p, sep="," if suffix == ".csv" else "\t", dtype=str)
        for col in back.columns:
            cells = back[col].dropna()
            assert not cells.str.match(r"^[=+@]").any(), col
            assert not cells.str.match(r"^-[^0-9.]").any(), col
    p = write_table(t, tmp_path / "t.xlsx")  # \x01 would raise IllegalCharacterError
    ws = load_workbook(p)["impact"]
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(v.startswith(("=", "+", "@")) for v in values)
    assert any(v.startswith("'=HYPERLINK") for v in values)
    ss = [c.value for c in ws[1]].index("ss")  # DSSP coil '-' stays as it is: not a formula
    states = {r[ss].value for r in ws.iter_rows(min_row=2)}
    assert "-" in states and not any(str(s).startswith("'") for s in states)


def test_markdown_is_escaped(tmp_path):
    t = impact_table(["TP53:<img src=x onerror=alert(1)>|x"], damage=False)
    text = write_table(t, tmp_path / "t.md").read_text()
    assert "<img" not in text and "&lt;img" in text and "\\|x" in text


def test_a_file_in_the_working_directory_never_replaces_an_id(tmp_path, monkeypatch, data_dir):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "1TSR").write_bytes((data_dir / "pdb" / "1tup.pdb").read_bytes())
    st = load("1TSR")
    assert Path(st.path).resolve() != (tmp_path / "1TSR").resolve()
    assert st.id == "1TSR"
    with pytest.raises(FileNotFoundError):
        load("./nope.pdb")


@pytest.mark.parametrize("item", [["TP53:p.R175H"], {"a": 1}, pd.NA, None, 3.5, b"R175H"])
def test_any_item_becomes_a_row(item):
    b = parse_variants(["TP53:p.R248Q", item, "TP53:p.R273H"])
    assert [v.row for v in b] == [1, 3]
    assert list(b.unplaced.row) == [2] and b.unplaced.status.item() == "rejected"


def test_string_dtype_column_with_na(tmp_path):
    s = pd.Series(["TP53:p.R248Q", pd.NA, "TP53:p.R175H"], dtype="string")
    t = impact_table(list(s), structures=["1TSR"], damage=False)
    assert set(t.input_row) == {1, 2, 3}


def test_binary_and_truncated_gzip_inputs_are_clean_errors(tmp_path, data_dir):
    from structkit.cli import main

    binary = tmp_path / "x.maf"
    binary.write_bytes(os.urandom(2000).replace(b"\x00", b"\x01") + b"\x00" * 10)
    gz = tmp_path / "laml.maf.gz"
    gz.write_bytes((data_dir / "variants" / "tcga_laml.maf.gz").read_bytes()[:5000])
    for p in (binary, gz, tmp_path):
        assert main(["impact", "--input", str(p)]) == 1


def test_decompression_bombs_are_refused_not_inflated(tmp_path):
    import gzip

    from structkit.io.fetch import gunzip_if_needed
    from structkit.io.variants import VariantError, read_text

    bomb = gzip.compress(b"A" * (8 << 20), compresslevel=9)  # 8 MiB of text in ~8 kB
    assert len(bomb) < 50_000
    with pytest.raises(IntegrityError, match="decompression bomb"):
        gunzip_if_needed(bomb, "bomb.pdb.gz", limit=1 << 20)
    p = tmp_path / "bomb.maf.gz"
    p.write_bytes(bomb)
    with pytest.raises(VariantError, match="more than 1 MiB"):
        read_text(p, limit=1 << 20)


def test_sasa_clusters_far_atoms_and_matches_the_direct_computation(monkeypatch):
    from structkit.analysis import measure

    st = load("1TSR")
    atoms = st.atoms_of(st.residues_of("B"))[0]
    direct = measure.shrake_rupley(st.coord[atoms], st.element[atoms])
    monkeypatch.setattr(measure, "CLUSTER_ABOVE_CELLS", 10)  # force the clustered path
    clustered = measure.shrake_rupley(st.coord[atoms], st.element[atoms])
    assert direct.sum() > 5000 and abs(clustered - direct).max() < 1e-3


def test_huge_legal_coordinates_do_not_allocate_by_volume(tmp_path, data_dir):
    """6 real atoms of 1TSR moved to +9999.999 / -999.999 (legal PDB values): the bounding
    box would need a 41.7 GiB cell list; the clusters need almost nothing."""
    from structkit import analyze

    lines = [ln for ln in (data_dir / "pdb" / "1tsr.pdb").read_text().splitlines()
             if ln.startswith("ATOM")][:6]
    xs = ["-999.999", "9999.999"]
    hostile = [ln[:30] + f"{xs[i % 2]:>8}" * 3 + ln[54:] for i, ln in enumerate(lines)]
    p = tmp_path / "huge.pdb"
    p.write_text("\n".join(hostile) + "\nEND\n")
    a = analyze(load(p), "P04637")
    assert all((c.sasa > 0).all() for c in a.chains.values())


def test_non_finite_coordinates_name_the_file(tmp_path, data_dir):
    from structkit.io.structure import StructureFormatError

    lines = (data_dir / "pdb" / "1tsr.pdb").read_text().splitlines()
    i = next(k for k, ln in enumerate(lines) if ln.startswith("ATOM"))
    lines[i] = lines[i][:30] + f"{'nan':>8}" + lines[i][38:]
    p = tmp_path / "nan.pdb"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(StructureFormatError, match="nan.pdb: 1 atoms have non-finite"):
        load(p)
    with pytest.raises(IntegrityError, match="non-finite"):
        check_structure_bytes(p.read_bytes(), "nan.pdb", "pdb", "1TSR")


def test_another_entry_without_header_is_not_accepted_under_an_id(tmp_path, data_dir):
    text = (data_dir / "pdb" / "1tsr.pdb").read_bytes()
    no_header = b"\n".join(ln for ln in text.split(b"\n") if not ln.startswith(b"HEADER"))
    (tmp_path / "pdb").mkdir()
    (tmp_path / "pdb" / "1n8z.pdb").write_bytes(no_header)
    f = Fetcher(cache_dir=tmp_path, mirror=data_dir, offline=True)
    res = f.pdb("1N8Z", format="pdb")
    assert res.source == "mirror"  # the impostor in the cache was refused


def test_view_size_cannot_inject_html():
    from structkit.outputs.view import view_variants

    with pytest.raises(ValueError, match="integer number of pixels"):
        view_variants("1TSR", ["R248Q"], width='100px"><img src=x onerror=alert(1)>')


def test_structures_argument_rejects_what_is_not_an_id(capsys):
    from structkit.cli import main

    assert main(["impact", "--structures", "1TSR", "2OCJ", "R175H", "--cutoff", "5"]) == 2
    err = capsys.readouterr().err
    assert "'R175H'" in err and "variants go before --structures" in err
    assert main(["impact", "R175H", "--structures", "1TSR", "--cutoff", "5"]) == 0
