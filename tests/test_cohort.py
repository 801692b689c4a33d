"""Cohorts as cohorts: every input row accounted for, samples kept, truncating variants named.

Expectations come from the real files read independently (pandas on the MAF and the hotspot
table) and from the structures' own site tables.
"""

from __future__ import annotations

import gzip
import io
import os
import stat

import numpy as np
import pandas as pd
import pytest

from structkit import impact_table, summarize, write_table
from structkit.analysis import analyze
from structkit.catalog import catalog
from structkit.cli import main
from structkit.io.fetch import Fetcher
from structkit.io.variants import VariantError, parse_variants
from structkit.outputs.cohort import cohort_tables


@pytest.fixture(scope="module")
def laml_path(data_dir):
    return data_dir / "variants" / "tcga_laml.maf.gz"


@pytest.fixture(scope="module")
def laml_raw(laml_path):
    """The MAF read by pandas, with each data row's 1-based line number in the file."""
    text = gzip.decompress(laml_path.read_bytes()).decode()
    lines = text.split("\n")
    header = next(i for i, ln in enumerate(lines) if ln and not ln.startswith("#"))
    df = pd.read_csv(io.StringIO("\n".join(lines[header:])), sep="\t", dtype=str)
    df["line"] = np.arange(len(df)) + header + 2
    return df


@pytest.fixture(scope="module")
def laml_table(laml_path):
    return impact_table(laml_path)


def test_every_maf_row_appears_and_joins_back_by_row_and_sample(laml_table, laml_raw):
    t = laml_table
    assert set(t.input_row) == set(laml_raw.line)  # every row, nothing invented
    # one row per input row for those not placed on structures; placed ones repeat per structure
    first = t.drop_duplicates("input_row").set_index("input_row")
    raw = laml_raw.set_index("line")
    assert (first["sample"].astype(str).to_numpy()
            == raw.loc[first.index, "Tumor_Sample_Barcode"].to_numpy()).all()
    assert (first.gene.astype(str).to_numpy() == raw.loc[first.index, "Hugo_Symbol"].to_numpy()).all()


def test_statuses_say_what_happened(laml_table, laml_raw):
    first = laml_table.drop_duplicates("input_row").set_index("input_row")
    known = {t.gene for t in catalog().targets}
    other_rows = laml_raw[~laml_raw.Hugo_Symbol.isin(known)].line
    assert (first.loc[other_rows, "status"] == "gene not in catalog").all()
    r = first.loc[other_rows[:1]].iloc[0]
    assert laml_raw.set_index("line").loc[other_rows.iloc[0], "Hugo_Symbol"] in r.detail
    # TP53 splice-site rows: without a protein change 'splice'; p.T125T at a splice site too
    tp53 = laml_raw[laml_raw.Hugo_Symbol == "TP53"]
    splice = tp53[tp53.Variant_Classification == "Splice_Site"].line
    assert (first.loc[splice, "status"] == "splice").all() and len(splice) == 3
    fs = tp53[tp53.Variant_Classification.str.startswith("Frame_Shift")].line
    assert (first.loc[fs, "status"] == "truncating").all() and len(fs) == 4


def test_summary_counts_rows_and_samples(laml_table, laml_raw):
    s = summarize(laml_table, verdict=False).set_index("variant")
    tp53 = laml_raw[(laml_raw.Hugo_Symbol == "TP53") & laml_raw.Protein_Change.notna()]
    assert s.loc["p.R248Q", "n_rows"] == (tp53.Protein_Change == "p.R248Q").sum() == 1
    assert s.loc["p.R248Q", "n_samples"] == 1
    assert s.loc["p.P223fs", "consequence"] == "truncating"


def test_hotspot_table_duplicates_are_counted_not_merged_away(data_dir):
    path = data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv"
    raw = pd.read_csv(path, sep="\t", header=None, dtype=str)
    t = impact_table(parse_variants(path, genes=["TP53"]), structures=["1TSR"], damage=False)
    assert t.input_row.nunique() == len(raw)  # 3,181 rows, each once
    s = summarize(t, verdict=False).set_index("variant")
    tp53 = raw[raw[4] == "TP53"]
    for change in ("I255del", "N131del", "R175H"):
        assert s.loc[f"p.{change}", "n_rows"] == (tp53[6] == change).sum()
    assert s.loc["p.I255del", "n_rows"] == 48  # the lollipop's dominant row count (issue 13)
    assert s.n_rows.sum() == len(tp53)


def test_truncating_variant_lists_what_is_lost():
    t = impact_table(["TP53:p.R248*", "TP53:p.P223fs", "TP53:p.T125="], structures=["1TSR"])
    first = t.set_index("input_row")
    assert first.loc[1, "status"] == "truncating" and first.loc[1, "consequence"] == "truncating"
    assert np.isnan(first.loc[1, "min_dist_A"])
    d = first.loc[1, "detail"]
    # 1TSR's own sites (its site table), UniProt numbering: which are from 248 on
    sites = analyze("1TSR").site_table()
    dna = sorted(set(sites[sites.site_kind == "dna"].uniprot_pos))
    zn = sorted(set(sites[sites.site_kind == "metal"].uniprot_pos))
    assert zn == [176, 179, 238, 242]  # p53 zinc ligands C176 H179 C238 C242 (Cho et al. 1994)
    lost = [p for p in dna if p >= 248]
    assert d.startswith("residues 248-393 lost (146 of 393 aa)")
    assert "DNA-binding 102-292 from 248 (45 of 191)" in d
    listed = d.split("DNA contacts lost: ")[1].split(" (")[0].split("/")
    assert [int(x[1:]) for x in listed] == lost and listed[0] == "R248"
    assert "zinc ligands kept (C176/H179/C238/C242)" in d  # R248* ends after C242
    d2 = first.loc[2, "detail"]
    assert "zinc ligands lost: C238/C242 (2 of 4 kept)" in d2  # P223fs: C238, C242 are after 223
    assert first.loc[3, "status"] == "no protein change"


def test_inframe_deletion_names_the_residues(data_dir):
    t = impact_table(["TP53:p.P177_C182del"], structures=["1TSR"])
    d = t.detail.iloc[0]
    assert d.startswith("in-frame: deletes P177-C182 (6 aa)")
    assert "C176" not in d.split("site residues affected: ")[-1]  # 176 is outside 177-182


def test_cohort_tables_per_sample_gene_position(laml_table, laml_raw):
    c = cohort_tables(laml_table)
    samples = c["samples"].set_index("sample")
    tp53 = laml_raw[laml_raw.Hugo_Symbol == "TP53"]
    assert set(tp53.Tumor_Sample_Barcode) <= set(samples.index)
    # zinc ligands C176 and H179: their samples carry a zinc-site variant
    for change in ("p.C176Y", "p.H179R"):
        sample = tp53[tp53.Protein_Change == change].Tumor_Sample_Barcode.item()
        assert samples.loc[sample, "zinc_site"]
    genes = c["genes"].set_index("gene")
    assert genes.loc["TP53", "n_samples"] == tp53.Tumor_Sample_Barcode.nunique()
    assert genes.loc["TP53", "n_rows"] == len(tp53)
    assert len(c["unplaced"]) + genes.n_rows.sum() == len(laml_raw)


def test_cohort_tables_from_the_batch_equal_those_from_the_full_table(laml_table, laml_path):
    """A large cohort never builds rows x structures: cohort_tables(batch, summary of the
    distinct table) gives the same four tables as cohort_tables(full table)."""
    batch = parse_variants(laml_path)
    assert {"splice", "gene not in catalog"} <= set(batch.unplaced.status)
    distinct = impact_table(batch, distinct=True)
    assert len(distinct) < len(laml_table)
    a = cohort_tables(batch, summarize(distinct))
    b = cohort_tables(laml_table)
    for name in ("samples", "genes", "positions", "unplaced"):
        pd.testing.assert_frame_equal(a[name].reset_index(drop=True),
                                      b[name].reset_index(drop=True), check_dtype=False,
                                      obj=name)
    with pytest.raises(ValueError, match="distinct=True"):
        cohort_tables(batch)


def test_tp53_cohort_needs_no_her2_or_egfr_files(tmp_path, p53_mirror):
    """A mirror holding only p53 files: a TP53 cohort runs; other genes are reported."""
    mirror = p53_mirror
    f = Fetcher(cache_dir=tmp_path / "cache", mirror=mirror, offline=True)
    t = impact_table(["TP53:p.R248Q", "TP53:p.R175H", "TP53:p.R248*", "ERBB2:p.S310F"], session=f)
    s = summarize(t, session=f).set_index("variant")
    assert s.loc["p.R248Q", "mechanism"] == "DNA contact"
    assert s.loc["p.R248*", "status"] == "truncating"
    her2 = t[t.input_row == 4]
    assert her2.status.item() == "not available offline" and "P04626" in her2.detail.item()
    files = {p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert not any(n.startswith(("P04626", "P00533")) for n in files)


def test_sites_on_a_users_file_with_accession(tmp_path, capsys, data_dir):
    mine = tmp_path / "my_p53.pdb"
    mine.write_bytes((data_dir / "pdb" / "1tsr.pdb").read_bytes())  # a user's own copy, temporary
    code = main(["sites", str(mine), "--accession", "P04637"])
    out = capsys.readouterr().out
    assert code == 0 and "target P04637" in out and "DNA" in out
    code = main(["impact", "TP53:p.R248Q", "--structures", str(mine), "--accession", "P04637",
                 "--out", str(tmp_path / "t.csv")])
    assert code == 0
    t = pd.read_csv(tmp_path / "t.csv")
    assert t.source_file.str.endswith("my_p53.pdb").all()
    dna = t[t.site_kind == "dna"].iloc[0]
    assert dna.min_dist_A == pytest.approx(analyze("1TSR").site_table().set_index(
        "uniprot_pos").loc[248].min_dist_A.min(), abs=0.01)


def test_cutoffs_must_be_positive_and_finite(capsys):
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive, finite"):
            impact_table(["TP53:p.R175H"], cutoff=bad)
    with pytest.raises(ValueError, match="metal_cutoff"):
        impact_table(["TP53:p.R175H"], metal_cutoff=0)
    for bad in ("0", "-1", "nan"):
        with pytest.raises(SystemExit) as e:
            main(["impact", "R175H", "--cutoff", bad])
        assert e.value.code == 2
    assert "positive, finite" in capsys.readouterr().err


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_output_files_follow_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        t = impact_table(["TP53:p.R175H"], structures=["1TSR"], damage=False)
        for suffix in (".tsv", ".xlsx", ".parquet"):
            p = write_table(t, tmp_path / f"t{suffix}")
            assert stat.S_IMODE(p.stat().st_mode) == mode
    finally:
        os.umask(old)


def test_genomic_only_maf_gets_a_hint(data_dir):
    with pytest.raises(VariantError) as e:
        parse_variants(data_dir / "variants" / "brca.maf.gz")
    msg = str(e.value)
    assert "Chromosome" in msg and "Start_Position" in msg and "VEP" in msg
    assert "HGVSp_Short" in msg


def test_cohort_command_writes_sheets(tmp_path, capsys, laml_path):
    out = tmp_path / "laml.xlsx"
    code = main(["cohort", "--input", str(laml_path), "--out", str(out)])
    assert code == 0
    sheets = pd.read_excel(out, sheet_name=None)
    assert set(sheets) == {"samples", "genes", "positions", "unplaced", "variants", "provenance"}
    assert f", {len(sheets['samples'])} samples (" in capsys.readouterr().out
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~_umask()


def test_cohort_sheets_cannot_run_as_formulas(tmp_path, laml_path):
    """A sample name a spreadsheet would run is written as text in every cohort sheet."""
    v = parse_variants(laml_path).variants[0]
    cohort = tmp_path / "cohort.tsv"
    cohort.write_text("Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n"
                      f"{v.gene}\t{v.hgvs}\t=HYPERLINK(\"http://127.0.0.1/x\")\n")
    out = tmp_path / "c.xlsx"
    assert main(["cohort", "--input", str(cohort), "--out", str(out)]) == 0
    samples = pd.read_excel(out, sheet_name="samples")
    assert samples["sample"].tolist() == ["'=HYPERLINK(\"http://127.0.0.1/x\")"]


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_missing_input_file_is_an_error(capsys, tmp_path):
    code = main(["impact", "--input", str(tmp_path / "nope.maf")])
    assert code == 1 and "does not exist" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        parse_variants(tmp_path / "nope.maf")


@pytest.mark.parametrize("suffix", [".parquet", ".tsv"])
def test_streamed_table_equals_the_full_table(tmp_path, data_dir, suffix):
    """write_impact writes in chunks of input rows exactly what write_table(impact_table())
    writes; its distinct table gives the same summary."""
    from structkit.outputs.impact import write_impact

    path = data_dir / "variants" / "tcga_laml.maf.gz"
    full = impact_table(path, damage=False)
    write_table(full, tmp_path / f"full{suffix}")
    distinct = write_impact(path, tmp_path / f"stream{suffix}", damage=False, chunk_rows=3)

    def read(p):
        return (pd.read_parquet(p) if suffix == ".parquet" else pd.read_csv(p, sep="\t", dtype=str))

    key = ["input_row", "pdb_id", "chain", "site"]
    a = read(tmp_path / f"stream{suffix}").sort_values(key, kind="stable").reset_index(drop=True)
    b = read(tmp_path / f"full{suffix}").sort_values(key, kind="stable").reset_index(drop=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b) == len(full)
    for c in a.columns:
        assert a[c].astype(object).where(a[c].notna(), None).tolist() == \
            b[c].astype(object).where(b[c].notna(), None).tolist(), c
    s1 = summarize(full, verdict=False)
    s2 = summarize(distinct, verdict=False)
    pd.testing.assert_frame_equal(s1.reset_index(drop=True), s2.reset_index(drop=True),
                                  check_dtype=False, check_categorical=False)


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_streamed_text_is_byte_for_byte_the_table_writers(tmp_path, data_dir, suffix):
    """CSV/TSV streaming renders each distinct row once and repeats its text: the file is
    byte for byte what write_table(impact_table()) writes (pyarrow's writer, cells neutralised),
    including samples a spreadsheet would run or that need quoting, and rejected rows."""
    from structkit.outputs.impact import write_impact

    laml = parse_variants(data_dir / "variants" / "tcga_laml.maf.gz")
    changes = [f"{v.gene}\t{v.hgvs}" for v in laml.variants[:12]]
    samples = ['=HYPERLINK("x")', 'a "quoted", sample', "-2+3", "-1.5"]
    cohort = tmp_path / "cohort.tsv"
    lines = ["Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode"]
    for i in range(40):
        lines.append(f"{changes[i % len(changes)]}\t{samples[i % 4]}")
    lines.append("TP53\tp.X999Y\t=cmd")  # rejected, with a formula sample
    cohort.write_text("\n".join(lines) + "\n")
    full = impact_table(cohort, damage=False)
    assert set(full.status) >= {"mapped", "rejected"}
    write_table(full, tmp_path / f"full{suffix}")
    _, summary = write_impact(cohort, tmp_path / f"one{suffix}", damage=False,
                              chunk_rows=10**9, summary=True)  # summarised while writing
    pd.testing.assert_frame_equal(summary.reset_index(drop=True),
                                  summarize(full).reset_index(drop=True),
                                  check_dtype=False, check_categorical=False)
    ref = (tmp_path / f"full{suffix}").read_bytes()
    assert (tmp_path / f"one{suffix}").read_bytes() == ref
    assert b"'=HYPERLINK" in ref and b'"a ""quoted"", sample"' in ref and b"'-2+3" in ref
    write_impact(cohort, tmp_path / f"chunks{suffix}", damage=False, chunk_rows=3)
    assert sorted((tmp_path / f"chunks{suffix}").read_bytes().split(b"\n")) == \
        sorted(ref.split(b"\n"))


def test_streaming_stops_and_leaves_nothing_when_the_caller_fails(tmp_path, laml_path):
    """When the summary computed during the writing fails (here a bad msa argument), the
    writer thread is told to stop and neither the table nor a temporary file is left; a
    writer told to stop writes nothing past the header."""
    import threading

    from structkit.analysis.table import _compute
    from structkit.outputs.writers import _Stopped, _TextRows, _write_text_rows, write_impact

    out = tmp_path / "out" / "table.csv"
    out.parent.mkdir()
    with pytest.raises(TypeError):
        write_impact(laml_path, out, summary=True, msa=123)
    assert list(out.parent.iterdir()) == []
    parts = _compute(parse_variants(laml_path), None, 4.0, 3.0, True, False, None, False)
    rows = _TextRows(parts, parts.distinct_frame(), ",")
    stop = threading.Event()
    stop.set()
    with pytest.raises(_Stopped):
        _write_text_rows(rows, tmp_path / "stopped.csv", 50_000, stop)
    assert (tmp_path / "stopped.csv").read_bytes() == rows.header


def test_cohort_counts_every_sample_and_gives_frequencies(laml_path, laml_raw, tmp_path, capsys):
    """The LAML MAF names 193 samples, 15 of them with TP53 rows: the samples sheet has all 193
    (the carriers flagged), TP53 is mutated in 15/193, the header agrees with the gene table,
    and the splice rows without a protein position come last in the positions table; a sample
    list adds samples the MAF never names."""
    batch = parse_variants(laml_path)
    summary = summarize(impact_table(batch, distinct=True))
    c = cohort_tables(batch, summary)
    n = laml_raw.Tumor_Sample_Barcode.nunique()
    assert n == 193 and len(c["samples"]) == n and c["genes"].attrs["n_samples"] == n
    tp53 = laml_raw[laml_raw.Hugo_Symbol == "TP53"].Tumor_Sample_Barcode.nunique()
    genes = c["genes"].set_index("gene")
    assert genes.loc["TP53", "frac_samples"] == pytest.approx(tp53 / n)
    carriers = c["samples"][c["samples"].n_variants > 0]
    catalog_rows = laml_raw[laml_raw.Hugo_Symbol.isin(["TP53", "EGFR", "ERBB2"])]
    assert set(carriers["sample"]) <= set(catalog_rows.Tumor_Sample_Barcode)
    pos = c["positions"]
    assert pos.position.iloc[-1] is pd.NA and pos.variants.iloc[-1].startswith("splice site")
    assert pos.position.iloc[:-1].notna().all()
    extra = tmp_path / "samples.txt"
    extra.write_text("# the cohort's sample list\n" + "\n".join(
        sorted(set(laml_raw.Tumor_Sample_Barcode))) + "\nNO-MUTATION-1\nNO-MUTATION-2\n")
    assert main(["cohort", "--input", str(laml_path), "--samples", str(extra),
                 "--out", str(tmp_path / "c.xlsx")]) == 0
    out = capsys.readouterr().out
    genes_sheet = pd.read_excel(tmp_path / "c.xlsx", sheet_name="genes").set_index("gene")
    n_tp53 = int((laml_raw.Hugo_Symbol == "TP53").sum())
    assert f", {n + 2} samples (" in out and f"rows of catalog genes (EGFR 2, TP53 {n_tp53})" in out
    assert genes_sheet.loc["TP53", "frac_samples"] == pytest.approx(tp53 / (n + 2))


def test_streamed_text_with_a_line_break_in_a_cell(tmp_path, data_dir):
    """A sample name with a line break (legal in a quoted CSV cell): rows can no longer be told
    apart in rendered text, so pyarrow renders every row; the file is still what
    write_table(impact_table()) writes, and reads back with the sample whole."""
    from structkit.outputs.impact import write_impact

    laml = parse_variants(data_dir / "variants" / "tcga_laml.maf.gz")
    cohort = tmp_path / "cohort.csv"
    rows = ["Hugo_Symbol,HGVSp_Short,Tumor_Sample_Barcode"]
    names = ["plain", "two\nlines"]
    for i, v in enumerate(laml.variants[:6]):
        rows.append(f'{v.gene},{v.hgvs},"{names[i % 2]}"')
    cohort.write_text("\n".join(rows) + "\n")
    full = impact_table(cohort, damage=False)
    write_table(full, tmp_path / "full.csv")
    write_impact(cohort, tmp_path / "one.csv", damage=False)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "full.csv").read_bytes()
    back = pd.read_csv(tmp_path / "one.csv")
    assert "two\nlines" in set(back["sample"])


def test_parquet_of_repeated_variants_equals_the_full_table(tmp_path, data_dir):
    """A cohort that names each of 12 variants 50 times: the Parquet writer repeats each
    distinct row's values with NumPy (``writers._runs`` finds the runs) instead of a take per
    output row; the file read back equals write_table(impact_table()), nulls (distances,
    booleans, the damage columns) and pandas dtypes included."""
    from structkit.analysis.table import _compute
    from structkit.io.store import default_session
    from structkit.outputs.impact import write_impact
    from structkit.outputs.writers import _runs

    laml = parse_variants(data_dir / "variants" / "tcga_laml.maf.gz", genes=["TP53"])
    changes = list(dict.fromkeys(f"{v.gene}\t{v.hgvs}" for v in laml.variants))[:12]
    cohort = tmp_path / "repeated.tsv"
    cohort.write_text("Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n" + "".join(
        f"{changes[i % len(changes)]}\tS{i % 37}\n" for i in range(600)))
    parts = _compute(cohort, None, None, None, True, True, default_session(), False)
    assert _runs(parts.expanded_index()[2]) is not None  # the repeat path is the one taken
    full = impact_table(cohort)
    write_table(full, tmp_path / "full.parquet")
    write_impact(cohort, tmp_path / "stream.parquet")  # one chunk: the full table's row order
    a, b = pd.read_parquet(tmp_path / "stream.parquet"), pd.read_parquet(tmp_path / "full.parquet")
    assert len(a) == len(full) > 600 and list(a.columns) == list(b.columns)
    assert a.buried.isna().any() and a.min_dist_A.isna().any()  # nulls were there to keep
    # the same frame, dtypes included (pandas' metadata is kept: Int64, boolean, category)
    pd.testing.assert_frame_equal(a, b)
    assert str(a.author_num.dtype) == "Int64" and str(a.buried.dtype) == "boolean"
