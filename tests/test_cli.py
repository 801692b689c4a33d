"""The command line, run in-process on the mirror."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from structkit.cli import main


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_impact_seed_panel(capsys, tmp_path):
    out_file = tmp_path / "seed.tsv"
    code, out, err = run(capsys, "impact", "--out", str(out_file))
    assert code == 0
    assert "17 input items from built-in seed panel" in out
    t = pd.read_csv(out_file, sep="\t")
    assert set(t.gene) == {"ERBB2", "TP53"}
    from conftest import missing_from_mirror

    from structkit.catalog import catalog

    missing = missing_from_mirror([e.id for e in catalog().structures])
    assert set(t[t.status == "not available offline"].pdb_id) == missing  # said, never dropped
    assert f"wrote the table of 17 input items to {out_file}" in err
    assert set(t.input_row) == set(range(1, 18))


def test_impact_gene_inferred(capsys):
    code, out, _ = run(capsys, "impact", "T798M", "T798I", "L869R", "R248Q")
    assert code == 0
    lines = [ln for ln in out.splitlines() if ln.lstrip().startswith(("ERBB2", "TP53"))]
    assert [ln.split()[:2] for ln in lines] == [
        ["ERBB2", "p.T798M"], ["ERBB2", "p.T798I"], ["ERBB2", "p.L869R"], ["TP53", "p.R248Q"]]


def test_impact_bad_item_is_a_row_unless_strict(capsys, tmp_path):
    # one behaviour for command line and files: a bad item becomes a 'rejected' row
    out_file = tmp_path / "t.csv"
    code, out, _ = run(capsys, "impact", "TP53:p.R248Q", "TP53:p.T798M", "--out", str(out_file))
    assert code == 0 and "beyond TP53" in out
    t = pd.read_csv(out_file)
    bad = t[t.input_row == 2]
    assert len(bad) == 1 and bad.status.item() == "rejected" and "beyond TP53" in bad.detail.item()
    assert set(t.input_row) == {1, 2}
    code, _, err = run(capsys, "impact", "TP53:p.R248Q", "TP53:p.T798M", "--strict")
    assert code == 2 and "row 2: rejected:" in err and "beyond TP53" in err


def test_impact_maf_input_keeps_going(capsys, tmp_path, data_dir):
    out_file = tmp_path / "laml.csv"
    code, out, _ = run(capsys, "impact", "--input", str(data_dir / "variants" / "tcga_laml.maf.gz"),
                       "--structures", "1TSR", "--out", str(out_file))
    assert code == 0
    t = pd.read_csv(out_file)
    assert (t.status == "gene not in catalog").sum() > 1000  # other genes, named
    assert t.input_row.nunique() == 2207  # every MAF row (2,207 variants, SOURCES.tsv) is there
    assert "p.R248Q" in set(t[t.pdb_id == "1TSR"].variant)


def test_sites_command(capsys):
    code, out, _ = run(capsys, "sites", "1N8Z")
    assert code == 0
    assert "chain C: numbering DBREF, UniProt = author +22" in out
    assert "trastuzumab epitope" in out


def test_fetch_catalog_offline(capsys, tmp_path, data_dir):
    from conftest import missing_from_mirror

    from structkit.catalog import catalog

    ids = [s.id for s in catalog().structures]
    missing = missing_from_mirror(ids)
    code, out, _ = run(capsys, "fetch", "--catalog", "--offline", "--mirror", str(data_dir),
                       "--cache", str(tmp_path))
    assert code == (1 if missing else 0)  # something asked for is missing offline, and it is said
    for pid in ids:
        line = next(ln for ln in out.splitlines() if pid in ln.split())
        assert ("not available offline" in line) == (pid in missing), line
    n_records = len(catalog().targets)  # one UniProt record per target comes along
    tail = f", {len(missing)} not available offline" if missing else ""
    assert f"summary: {len(ids) - len(missing) + n_records} mirror{tail}\n" in out


def test_fetch_one_entry(capsys, tmp_path, data_dir):
    code, out, _ = run(capsys, "fetch", "1N8Z", "--mirror", str(data_dir), "--cache", str(tmp_path))
    assert code == 0 and "mirror" in out


def test_fetch_bad_id(capsys):
    code, out, _ = run(capsys, "fetch", "../../etc/passwd")
    assert code == 1 and "invalid PDB ID '../../etc/passwd'" in out


def test_terminal_output_fits_120_columns(capsys):
    code, out, _ = run(capsys, "impact")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 120
    code, wide, _ = run(capsys, "impact", "--wide")
    header = next(line for line in wide.splitlines() if line.startswith("gene"))
    assert code == 0 and "evidence" in header and "known evidence" in header


def test_xlsx_has_summary_provenance_frozen_header_and_filters(tmp_path, capsys, data_dir):
    import hashlib

    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    code, _, _ = run(capsys, "impact", "TP53:p.R248Q", "TP53:p.R175H", "--structures", "1TSR",
                     "--out", str(out))
    assert code == 0
    wb = load_workbook(out)
    assert wb.sheetnames == ["impact", "summary", "provenance"]
    for ws in wb:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert [c.value for c in wb["summary"][2][:2]] == ["TP53", "p.R248Q"]
    prov = {r[0].value: r[1].value for r in wb["provenance"].iter_rows(min_row=2)}
    sha = hashlib.sha256((data_dir / "pdb" / "1tsr.pdb").read_bytes()).hexdigest()
    assert prov["structure 1TSR"].endswith(f"sha256:{sha}")
    assert prov["cutoff_A"] == "4.0" and prov["structkit_version"]


def test_missing_numbers_are_empty_cells_like_missing_text(tmp_path, capsys):
    """A TSV/CSV cell is empty for a missing number as for missing text (no 'nan'): 1XKK has no
    resolution in its header-stripped file, a truncating variant no distance."""
    for suffix in (".tsv", ".csv"):
        out = tmp_path / f"t{suffix}"
        assert main(["impact", "TP53:p.R175*", "ERBB2:p.T798M", "--out", str(out)]) == 0
        import csv

        cells = [c for row in csv.reader(out.open(), delimiter="\t" if suffix == ".tsv" else ",")
                 for c in row]
        assert "nan" not in {c.lower() for c in cells}
        t = pd.read_csv(out, sep="\t" if suffix == ".tsv" else ",")
        assert t.loc[t.pdb_id == "1XKK", "resolution_A"].isna().all()
        assert t.min_dist_A.isna().any() and t.min_dist_A.notna().any()


def test_fetch_shows_no_progress_bar_off_a_terminal(capsys):
    assert main(["fetch", "1TSR", "3KMD"]) == 0
    assert "fetch:" not in capsys.readouterr().err  # tqdm's 'fetch: 100%|...' line
    assert main(["fetch", "1TSR", "3KMD", "--progress"]) == 0
    assert "fetch: 100%" in capsys.readouterr().err


def test_impact_log_and_the_script_share_one_path(tmp_path, data_dir):
    """scripts/impact_table.py is `structkit impact --log`: the table, the summary and a run
    log that names the input by SHA-256, the settings, and counts every input item once."""
    import hashlib
    import subprocess
    import sys

    import pandas as pd

    repo = Path(__file__).resolve().parents[1]
    maf = data_dir / "variants" / "tcga_laml.maf.gz"
    out = tmp_path / "t.tsv"
    r = subprocess.run([sys.executable, str(repo / "scripts" / "impact_table.py"), str(maf),
                        "--out", str(out), "--genes", "TP53", "--offline"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    log = (tmp_path / "t.log.txt").read_text()
    assert f"(SHA-256 {hashlib.sha256(maf.read_bytes()).hexdigest()})" in log
    assert "genes kept: TP53" in log and "cut-off: 4 A (metal 3 A)" in log
    assert "command: structkit impact --input" in log and "--genes TP53" in log
    counts = dict(line.strip().rsplit(": ", 1) for line in
                  log.split("input items by best status:\n")[1].split("items that give")[0]
                  .splitlines())
    n_rows = int(log.split("input items: ")[1].split(";")[0])
    assert sum(map(int, counts.values())) == n_rows == 2207  # the MAF's data rows
    table = pd.read_csv(out, sep="\t", low_memory=False)
    assert set(table[table.pdb_id.notna()].gene) == {"TP53"}  # every item has a row; only
    assert (table.status == "gene not selected").sum() >= 2  # TP53 is placed, the others say why
    summary = pd.read_csv(tmp_path / "t.summary.tsv", sep="\t")
    assert f"summary rows: {len(summary)}" in log
    # the command line's checks apply to the script: a bad cut-off writes nothing
    bad = tmp_path / "u.tsv"
    r = subprocess.run([sys.executable, str(repo / "scripts" / "impact_table.py"), str(maf),
                        "--out", str(bad), "--cutoff", "-1"], capture_output=True, text=True)
    assert r.returncode == 2 and "a cut-off must be a positive, finite distance" in r.stderr
    assert not list(tmp_path.glob("u.*"))
    # and --log may not overwrite the input or another output
    assert main(["impact", "TP53:p.R248Q", "--out", str(tmp_path / "a.tsv"),
                 "--log", str(tmp_path / "a.tsv")]) == 2


def test_cache_command_lists_and_prunes_derived_data(capsys, tmp_path, data_dir):
    """`structkit cache`: a line per kind of derived data with its stale part; --prune removes
    the stale files and says how many."""
    cache = tmp_path / "cache"
    src = ["--cache", str(cache), "--mirror", str(data_dir), "--offline"]
    assert run(capsys, "impact", "TP53:p.R248Q", "--structures", "1TSR", *src)[0] == 0
    stale = cache / "derived" / "structures" / ("0" * 40 + ".npz")  # the format before .skd
    stale.write_bytes(b"old")
    code, out, _ = run(capsys, "cache", *src)
    assert code == 0
    lines = {ln.split()[0]: ln.split()[1:] for ln in out.splitlines()[2:] if ln.split()}
    assert int(lines["structures"][0]) >= 2 and lines["structures"][2] == "1"  # 1 of them stale
    assert lines["sasa"][2] == "0" and "--prune removes them" in out
    code, out, _ = run(capsys, "cache", "--prune", *src)
    assert code == 0 and "removed 1 stale files" in out and not stale.exists()
    assert (cache / "derived" / "structures").is_dir()
