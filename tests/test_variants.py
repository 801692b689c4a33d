"""Variant parsing, reference checks, files and MAFs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structkit.io.ids import normalize_accession, normalize_pdb_id
from structkit.io.variants import (
    ReferenceMismatch,
    VariantError,
    parse_variant,
    parse_variants,
    read_variant_file,
)


@pytest.mark.parametrize("text", ["T798M", "p.T798M", "p.Thr798Met", "ERBB2:p.T798M", "HER2 T798M",
                                  "her2:T798M", "NEU p.Thr798Met", "ErbB2 T798M"])
def test_forms_of_one_variant(text):
    v = parse_variant(text)
    assert (v.gene, v.accession, v.kind, v.position, v.ref, v.alt) == (
        "ERBB2", "P04626", "missense", 798, "T", "M")
    assert v.hgvs == "p.T798M"


def test_gene_inferred_only_when_one_target_fits():
    assert parse_variant("R248Q").gene == "TP53"
    assert parse_variant("L869R").gene == "ERBB2"
    with pytest.raises(VariantError, match="name the gene"):
        parse_variant("A2V")  # several targets have Ala at 2 or none: ask for the gene


def test_reference_checked_against_uniprot():
    with pytest.raises(VariantError, match=r"position 798 is beyond TP53 \(P04637, 393 aa\)"):
        parse_variant("TP53 T798M")
    with pytest.raises(ReferenceMismatch, match=r"ERBB2 \(P04626\) has T at 798, the variant gives R"):
        parse_variant("ERBB2 R798M")
    with pytest.raises(VariantError, match="unknown gene"):
        parse_variant("KRAS:p.G12D")


@pytest.mark.parametrize("text,kind,pos,end,alt", [
    ("TP53:R213*", "nonsense", 213, None, "*"),
    ("TP53:p.Arg213Ter", "nonsense", 213, None, "*"),
    ("TP53:p.R213X", "nonsense", 213, None, "*"),
    ("ERBB2:A775_G776insYVMA", "duplication", 772, 775, None),  # YVMA repeats 772-775: HGVS dup
    ("ERBB2:G776_V777insVC", "inframe_insertion", 777, 778, "CV"),  # V777 repeats: shifted 3'
    ("ERBB2:p.P780_Y781insGSP", "duplication", 778, 780, None),  # GSP = 778-780
    ("ERBB2:p.Tyr772_Ala775dup", "duplication", 772, 775, None),
    ("EGFR:p.E746_A750del", "inframe_deletion", 746, 750, None),
    ("TP53:p.I255del", "inframe_deletion", 255, None, None),
    ("TP53:p.P72Afs*10", "frameshift", 72, None, "A"),
    ("TP53:p.V173fs", "frameshift", 173, None, None),
    ("TP53:p.X125_splice", "splice", 125, None, None),
    ("TP53:p.T125T", "synonymous", 125, None, "T"),
    ("TP53:p.C238_M243delinsW", "delins", 238, 243, "W"),
])
def test_non_missense_kept_with_kind_and_positions(text, kind, pos, end, alt):
    v = parse_variant(text)
    assert (v.kind, v.position, v.end, v.alt) == (kind, pos, end, alt)


def _apply(seq: str, v) -> str:
    """The protein a parsed in-frame change makes of ``seq`` (written here, independently of
    the parser's shifting)."""
    a, b = v.position, v.end or v.position
    if v.kind == "inframe_insertion":
        return seq[:a] + v.alt + seq[a:]
    if v.kind == "duplication":
        return seq[:b] + seq[a - 1:b] + seq[b:]
    return seq[:a - 1] + seq[b:]  # inframe_deletion


@settings(max_examples=150, deadline=None)
@given(pos=st.integers(100, 300), ins=st.text("RGSPV", min_size=1, max_size=5),
       dele=st.integers(1, 4), which=st.sampled_from(["ins", "del", "dup"]))
def test_indels_written_in_their_hgvs_3prime_form(pos, ins, dele, which):
    """Any in-frame insertion, deletion or duplication of p53 (an alphabet of residues common
    around 100-300, so that repeats happen): the parsed form makes the same protein, lies at
    its most 3' position (the residue after it differs), and parsing its own text gives it
    back; an insertion that repeats the residues before it is a duplication."""
    from structkit.io.uniprot import uniprot_record

    seq = uniprot_record("P04637").sequence
    end = pos + dele - 1
    if which == "ins":
        text, protein = f"TP53:p.{seq[pos - 1]}{pos}_{seq[pos]}{pos + 1}ins{ins}", seq[:pos] + ins + seq[pos:]
    elif which == "del":
        text = f"TP53:p.{seq[pos - 1]}{pos}_{seq[end - 1]}{end}del"
        protein = seq[:pos - 1] + seq[end:]
    else:
        text = f"TP53:p.{seq[pos - 1]}{pos}_{seq[end - 1]}{end}dup"
        protein = seq[:end] + seq[pos - 1:end] + seq[end:]
    v = parse_variant(text)
    assert _apply(seq, v) == protein
    assert parse_variant(f"TP53:{v.hgvs}") == v
    a, b = v.position, v.end or v.position
    if v.kind == "inframe_insertion":
        assert seq[a] != v.alt[0]  # shifting on would give the same protein
        assert seq[a - len(v.alt):a] != v.alt  # not a duplication
    else:
        assert seq[b] != seq[a - 1]


def test_batch_reports_bad_rows_and_goes_on():
    b = parse_variants(["ERBB2:p.T798M", "TP53:p.T798M", "nonsense", "TP53:R248Q", ""])
    assert [v.hgvs for v in b] == ["p.T798M", "p.R248Q"]
    assert list(b.rejected.row) == [2, 3, 5]
    assert "beyond TP53" in b.rejected.reason.iloc[0]


def test_tcga_laml_maf(data_dir):
    b = parse_variants(data_dir / "variants" / "tcga_laml.maf.gz", genes=["TP53", "ERBB2"])
    # 19 TP53/ERBB2 rows in the file; 2 splice-site rows have no protein change
    kept = {v.hgvs for v in b}
    assert {"p.R248Q", "p.R273C", "p.H179R", "p.C176Y", "p.Q317*", "p.P223fs"} <= kept
    assert len(b) == 17
    mine = b.rejected[b.rejected.input.str.startswith(("TP53", "ERBB2"))]
    assert len(mine) == 2 and set(mine.status) == {"splice"}
    assert all("Splice_Site" in r for r in mine.reason)
    # other genes are reported, not silently dropped
    assert (b.rejected.reason.str.contains("not in the catalog|not selected")).sum() > 1000


def test_headerless_cancer_hotspots_table(data_dir):
    rows = read_variant_file(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv")
    assert len(rows) == 3181 and (rows[0].gene, rows[0].change) == ("TNFRSF14", "C111Y")
    assert rows[0].classification == "Missense_Mutation" and rows[0].sample is None
    b = parse_variants(data_dir / "variants" / "cancerhotspots_v2_GRCh37.tsv", genes=["TP53", "ERBB2"])
    assert len(b) == 626  # SOURCES.tsv: 626 TP53/ERBB2 rows; every one parses and matches UniProt
    assert {v.gene for v in b} == {"TP53", "ERBB2"}


def test_csv_with_gene_and_change_columns(tmp_path):
    p = tmp_path / "cohort.csv"
    p.write_text("sample,gene,protein_change\ns1,HER2,S310F\ns2,p53,R175H\ns3,TP53,R175Q\n")
    b = parse_variants(p)
    assert [v.label for v in b] == ["ERBB2 p.S310F", "TP53 p.R175H", "TP53 p.R175Q"]
    p.write_text("gene,protein_change\nTP53,G245Z\n")
    assert list(parse_variants(p).rejected.row) == [2]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parser_raises_only_variant_error(text):
    try:
        parse_variant(text, validate=False)
    except VariantError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"(ERBB2|TP53|HER2|p53):p\.[A-Z][0-9]{1,4}[A-Z*]", fullmatch=True))
def test_wellformed_strings_give_variant_or_documented_error(text):
    try:
        v = parse_variant(text)
    except VariantError:
        return
    assert v.gene in ("ERBB2", "TP53") and v.position >= 1


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.binary(max_size=12).map(lambda b: b.decode("latin-1"))))
def test_id_validators_raise_only_valueerror_and_touch_no_file(text):
    from unittest import mock

    def boom(*a, **k):
        raise AssertionError("file access during validation")

    with mock.patch("builtins.open", boom), mock.patch("os.stat", boom), \
            mock.patch("os.open", boom):
        for f in (normalize_pdb_id, normalize_accession):
            try:
                out = f(text)
            except ValueError as exc:
                assert repr(text) in str(exc)  # the message names the bad value
                continue
            assert out.isalnum()


@pytest.mark.parametrize("bad", ["../../etc/passwd", "", "1N8", "1N8ZZ", "0ABC", "1N8Z/", " ", "1n8z;rm"])
def test_bad_pdb_ids(bad):
    with pytest.raises(ValueError, match="PDB ID"):
        normalize_pdb_id(bad)


def test_good_ids():
    assert normalize_pdb_id("1n8z") == "1N8Z"
    assert normalize_pdb_id("pdb_00001n8z") == "1N8Z"
    assert normalize_accession("p04626") == "P04626"
    with pytest.raises(ValueError, match="UniProt accession"):
        normalize_accession("../P04626")


@pytest.mark.parametrize("text", ["TP53:p.R２４８Q", "TP53:p.R٢٤٨Q", "TP53:p.R248Q)", "TP53:R00248Q",
                                  "TP53:p.R248Xaa", "TP53:p.R" + "2" * 4400 + "Q"])
def test_strict_grammar_rejects(text):
    b = parse_variants([text])
    assert len(b) == 0 and b.unplaced.status.item() == "rejected"


def test_start_and_stop_lost_and_legacy_x_stop():
    b = parse_variants(["TP53:p.M1?", "TP53:p.M1I", "TP53:p.*394Qext*?", "TP53:p.R248X",
                        "TP53:p.(R248Q)"])
    assert [(v.kind, v.hgvs) for v in b] == [
        ("start_lost", "p.M1?"), ("start_lost", "p.M1?"), ("stop_lost", "p.*394Qext*?"),
        ("nonsense", "p.R248*"), ("missense", "p.R248Q")]
    # TP53 is 393 aa: the stop codon is 394
    bad = parse_variants(["TP53:p.*390Qext*?"])
    assert "stop codon of TP53 (P04637, 393 aa) is at 394" in bad.unplaced.reason.item()


def test_rows_keep_line_numbers_through_quoted_newlines(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text('sample,gene,protein_change,note\ns1,TP53,R175H,"two\nlines"\n'
                 's2,TP53,R248Q,x\u0085y\n\t\t\ns3,TP53,R273H,z\n', encoding="utf-8")
    b = parse_variants(p)
    assert [(v.row, v.sample, v.hgvs) for v in b] == [
        (2, "s1", "p.R175H"), (4, "s2", "p.R248Q"), (6, "s3", "p.R273H")]
    assert list(b.unplaced.row) == [5] and b.unplaced.status.item() == "rejected"


def test_parsing_pauses_the_collector_and_restores_its_state():
    """parse_variants pauses the cyclic collector (millions of small objects in a large
    cohort) and leaves it as it found it, also when the input is bad."""
    import gc

    assert gc.isenabled()
    parse_variants(["TP53:p.R248Q", "TP53:X1Y"])
    assert gc.isenabled()
    gc.disable()
    try:
        parse_variants(["TP53:p.R248Q"])
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(FileNotFoundError):
        parse_variants(Path("/nonexistent/cohort.maf"))
    assert gc.isenabled()


@pytest.mark.parametrize("text,message", [
    ("TP53:c.743G>A", "'c.743G>A' is a coding DNA change: structkit places protein changes"),
    ("TP53:g.7674220C>T", "is a genomic DNA change"),
    ("TP53:p.r248q", r"upper case in one-letter code \(R248Q\)"),
    ("TP53:r248q", r"upper case in one-letter code \(R248Q\)"),
])
def test_dna_notation_and_lower_case_say_what_is_accepted(text, message):
    with pytest.raises(VariantError, match=message):
        parse_variant(text)


def test_a_row_copy_keeps_every_field_of_its_variant(tmp_path):
    """Each input row's Variant is a copy of its distinct variant (``_with_origin``, slot by
    slot) with its own origin: every field but ``raw``, ``row`` and ``sample`` is the
    template's, equality and hash too, and a field added to Variant without a line there
    fails here. Rows of a file with each distinct text and sample held once."""
    import dataclasses

    from structkit.io.variants import Variant, _with_origin

    assert set(Variant.__slots__) == {f.name for f in dataclasses.fields(Variant)}
    t = Variant("ERBB2", "P04626", "delins", 755, "L", "SP", end=757, ref_end="E", raw="x")
    w = _with_origin(t, "ERBB2:p.L755_E757delinsSP", 7, "S1")
    for f in dataclasses.fields(Variant):
        want = {"raw": "ERBB2:p.L755_E757delinsSP", "row": 7, "sample": "S1"}.get(
            f.name, getattr(t, f.name))
        assert getattr(w, f.name) == want, f.name
    assert w == t and hash(w) == hash(t) and w.hgvs == "p.L755_E757delinsSP"
    path = tmp_path / "c.tsv"
    path.write_text("Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n"
                    + "TP53\tp.R248Q\tS1\nTP53\tp.R248Q\tS2\nTP53\tp.R248Q\tS1\n")
    b = parse_variants(path)
    assert [v.row for v in b] == [2, 3, 4] and len({v.hgvs for v in b}) == 1
    assert b.variants[0].raw is b.variants[1].raw and b.variants[0].sample is b.variants[2].sample


def test_a_malformed_row_past_the_first_read_batch_is_named_by_its_line(tmp_path):
    """The reader streams rows 4,096 at a time: a quote never closed on line 5,002 is named by
    that line, and the csv module's process-wide cell limit is the caller's again afterwards
    (and while the stream is suspended)."""
    import csv

    from structkit.io.inputs import VariantError, iter_variant_file

    path = tmp_path / "big.csv"
    path.write_text("gene,change\n" + "TP53,R248Q\n" * 5000 + 'TP53,"R273H\nTP53,R175H\n')
    before = csv.field_size_limit()
    rows = iter_variant_file(path)
    first = next(rows)
    assert (first.row, first.gene, first.change) == (2, "TP53", "R248Q")
    assert csv.field_size_limit() == before
    with pytest.raises(VariantError, match="line 5002"):
        list(rows)
    assert csv.field_size_limit() == before


_CELL = st.one_of(
    st.sampled_from(["TP53", "ERBB2", " TP53 ", "R248Q", "p.R175H", " R273H", "Silent",
                     "Splice_Site", "Intron", "X125_splice", "S1", " S2 ", "", "#x"]),
    st.text(alphabet=st.sampled_from(list("TP53R248Q*p. #\",\t\n\r")), max_size=8))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(_CELL, min_size=0, max_size=4), max_size=25),
       batch=st.integers(1, 7), delim=st.sampled_from([",", "\t"]))
def test_reading_in_batches_and_counting_lines_changes_no_row(tmp_path_factory, rows, batch,
                                                              delim):
    """The reader's shortcuts do not change a row: read a few rows at a time or 4,096, with
    the lines of a quote-free file counted rather than asked per row (every cell quoted forces
    the per-row path), each row has the same line, cells and sample; and the columnar parse
    gives, row for row, what parsing each row's (gene, change) on its own gives."""
    import csv
    import io

    from structkit.io import inputs

    def text(quoting):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delim, quoting=quoting, lineterminator="\n")
        w.writerow(["Hugo_Symbol", "HGVSp_Short", "Tumor_Sample_Barcode", "Variant_Classification"])
        w.writerows(rows)
        return buf.getvalue()

    d = tmp_path_factory.mktemp("batches")
    minimal, quoted = d / "minimal.tsv", d / "quoted.tsv"
    minimal.write_text(text(csv.QUOTE_MINIMAL), encoding="utf-8")
    quoted.write_text(text(csv.QUOTE_ALL), encoding="utf-8")

    def read(path, n):
        old = inputs.READ_BATCH
        inputs.READ_BATCH = n
        try:
            return [tuple(r) for r in inputs.iter_variant_file(path)]
        except VariantError as exc:
            return str(exc).replace(str(path), "FILE")
        finally:
            inputs.READ_BATCH = old

    got = read(minimal, 4096)
    assert read(minimal, batch) == got
    assert read(quoted, batch) == read(quoted, 4096)
    if isinstance(got, str):
        return
    rows_path = [inputs.InputRow(*r) for r in got]
    for validate in (False, True):
        a = parse_variants(minimal, validate=validate)
        b = parse_variants(rows_path, validate=validate)  # cells stripped row by row
        assert [(v.row, v.sample, v.raw, v.hgvs) for v in a] == \
               [(v.row, v.sample, v.raw, v.hgvs) for v in b]
        pd.testing.assert_frame_equal(a.unplaced, b.unplaced)
        assert a.n_rows == len(got)


def test_a_gene_whose_record_cannot_be_read_is_asked_for_once(tmp_path, p53_mirror):
    """A p53-only mirror, offline: 40 distinct HER2 changes give 40 rows 'not available
    offline' naming P04626, from the requests of one change (not one round per change, each
    waiting for the fetcher's retries); the TP53 rows are parsed."""
    from structkit.io.fetch import Fetcher

    class Counting(Fetcher):
        asked: list = []

        def uniprot(self, accession, *args, **kwargs):
            self.asked.append(accession)
            return super().uniprot(accession, *args, **kwargs)

    f = Counting(cache_dir=tmp_path / "cache", mirror=p53_mirror, offline=True)
    assert len(parse_variants([("ERBB2", "p.S310F")], session=f).unplaced) == 1
    once = Counting.asked.count("P04626")  # the formats tried for one record
    assert once >= 1
    items = [("ERBB2", f"p.S{p}F") for p in range(300, 340)] + [("TP53", "p.R248Q")]
    b = parse_variants(items, session=f)
    assert [v.label for v in b] == ["TP53 p.R248Q"]
    assert len(b.unplaced) == 40 and set(b.unplaced.status) == {"not available offline"}
    assert b.unplaced.reason.str.contains("P04626").all()
    assert Counting.asked.count("P04626") == 2 * once
