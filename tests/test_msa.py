"""The alignment reader and the conservation model, on the real alignments of the mirror."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as hs

from structkit.io.fetch import Fetcher, NotAvailableOffline
from structkit.io.msa import GAP, read_alignment
from structkit.io.uniprot import uniprot_record


@pytest.fixture(scope="module")
def p53_aln(tmp_path_factory):
    f = Fetcher(cache_dir=tmp_path_factory.mktemp("msa"), mirror=DATA, offline=True)
    path = f.msa("P04637").path
    return read_alignment(path, uniprot_record("P04637").sequence), path


def test_a2m_query_mapping_and_match_columns(p53_aln):
    a, path = p53_aln
    # SOURCES.tsv: 3,668 sequences; 329 match columns covering residues 45-374, 60 is an insert
    assert a.n_sequences == 3668 and a.n_columns == 329
    assert a.positions[0] == 45 and a.positions[-1] == 374
    assert 60 not in set(a.positions) and a.column_of(60) == -1
    assert len(set(a.positions)) == 329 and np.all(np.diff(a.positions) > 0)
    # the query row of the match columns is the UniProt sequence at those positions
    useq = uniprot_record("P04637").sequence
    from structkit.io.msa import AMINO_ACIDS

    assert "".join(AMINO_ACIDS[c] for c in a.codes[0]) == "".join(useq[p - 1] for p in a.positions)
    # an independent count of the second sequence's match columns in the file itself
    text = open(path).read().split(">")[2].split("\n", 1)[1].replace("\n", "")
    assert sum(ch.isupper() or ch == "-" for ch in text) == 329


def test_weights_are_one_over_neighbours(p53_aln):
    a, _ = p53_aln
    w = a.weights
    assert w.shape == (3668,) and (w > 0).all() and (w <= 1).all()
    # recompute one weight by brute force: sequences >= 80 % identical over its non-gap columns
    assert w[1] == pytest.approx(brute_weight(a, 1))
    assert 100 < a.n_effective < a.n_sequences


def brute_weight(a, i: int) -> float:
    """1 / sequences >= 80 % identical over sequence i's non-gap match columns (from the codes)."""
    own = a.codes[i] < GAP
    same = ((a.codes == a.codes[i]) & own).sum(axis=1) / own.sum()
    return 1 / (same >= 0.8).sum()


def test_log_odds_follow_the_weighted_column(p53_aln):
    a, path = p53_aln
    lo, cons = a.scores([175, 175, 248, 30, 60], ["R", "R", "R", "L", "E"], ["H", "K", "Q", "A", "A"])
    # independently, from the file's text: who has K or H at match column 175
    j = a.column_of(175)
    col = ["".join(ch for ch in rec.split("\n", 1)[1].replace("\n", "") if ch.isupper() or ch == "-")[j]
           for rec in open(path).read().split(">")[1:]]
    assert col.count("R") > 3000 and col.count("H") == 10 and col.count("K") == 3  # raw: H commoner
    w_k = sum(brute_weight(a, i) for i, c in enumerate(col) if c == "K")
    w_h = sum(brute_weight(a, i) for i, c in enumerate(col) if c == "H")
    # weighted (near-identical H sequences count once), K is commoner: the log-odds follow weights
    assert (w_k > w_h) == (lo[1] > lo[0])
    assert lo[0] < 0 and lo[1] < 0 and 0 < cons[0] <= 1
    assert np.isnan(lo[3]) and np.isnan(lo[4])  # outside the match columns: no evidence


def test_stockholm_family_alignment_maps_the_her2_kinase_domain(tmp_path):
    f = Fetcher(cache_dir=tmp_path, mirror=DATA, offline=True)
    path = f.msa("PF07714_human_tyrosine_kinases").path
    a = read_alignment(path, uniprot_record("P04626").sequence, query="ERBB2_HUMAN")
    assert a.n_sequences == 127
    mapped = a.positions[a.positions > 0]
    assert 721 <= mapped.min() and mapped.max() <= 977  # SOURCES.tsv: HER2 721-977
    useq = uniprot_record("P04626").sequence
    from structkit.io.msa import AMINO_ACIDS

    row = a.codes[a.query]
    ok = a.positions > 0
    assert "".join(AMINO_ACIDS[c] for c in row[ok]) == "".join(useq[p - 1] for p in a.positions[ok])


def test_missing_alignment_is_reported(tmp_path):
    empty = tmp_path / "mirror"  # a mirror without msa/: never assume a file is absent from ours
    (empty / "msa").mkdir(parents=True)
    f = Fetcher(cache_dir=tmp_path / "cache", mirror=empty, offline=True)
    with pytest.raises(NotAvailableOffline, match="alignment P04637 not available.*msa/P04637.a2m"):
        f.msa("P04637")
    with pytest.raises(ValueError, match="plain file stem"):
        f.msa("../etc/passwd")


def test_reader_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.a2m"
    bad.write_text(">q\nMEEPQ\n>h\nMEE\n")
    with pytest.raises(ValueError, match="bad.a2m.*match columns"):
        read_alignment(bad, "MEEPQSDP")
    odd = tmp_path / "odd.a2m"
    odd.write_text(">q\nWWWWW\n>h\nWWWWW\n")
    with pytest.raises(ValueError, match="not a stretch of the UniProt"):
        read_alignment(odd, "MEEPQSDP")
    alone = tmp_path / "alone.a2m"
    alone.write_text(">q\nMEEPQ\n")
    with pytest.raises(ValueError, match="alone.a2m: one sequence only"):
        read_alignment(alone, "MEEPQSDP")


@settings(max_examples=60, deadline=None)
@given(match=hs.lists(hs.sampled_from("ACDEFGHIKLMNPQRSTVWY-"), min_size=1, max_size=30),
       inserts=hs.lists(hs.text(alphabet="acdy.", max_size=3), min_size=30, max_size=30))
def test_a2m_insertions_never_change_the_match_columns(match, inserts):
    """Lower-case letters and '.' are insertions: adding them anywhere keeps the match columns."""
    import tempfile
    from pathlib import Path

    query = "".join(c if c != "-" else "A" for c in match)
    row = "".join(c + ins for c, ins in zip(match, inserts, strict=False))
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.a2m"
        p.write_text(f">q\n{query}\n>h\n{row}\n")
        a = read_alignment(p, "X" + query + "X")  # X: not in the query, so one placement
    assert a.n_columns == len(match)
    assert list(a.positions) == list(range(2, len(match) + 2))
    assert "".join("ACDEFGHIKLMNPQRSTVWY-"[c] for c in a.codes[1]) == "".join(match)


def test_alignment_weights_are_kept_on_disk_and_a_damaged_entry_is_rebuilt(tmp_path, data_dir):
    """p53's homolog alignment: the first session reads and weights it and stores an entry under
    the cache's derived/ folder (with the column profile); a second process-like session reads
    that back (the same weights); an entry cut short is detected and rebuilt, never trusted."""
    from structkit.io.msa import cached_alignment
    from structkit.io.uniprot import uniprot_record

    seq = uniprot_record("P04637").sequence
    src = data_dir / "msa" / "P04637.a2m"
    fresh = read_alignment(src, seq)
    a = cached_alignment(src, seq, cache_dir=tmp_path)
    (entry,) = (tmp_path / "derived" / "alignments").glob("*.skd")
    b = cached_alignment(src, seq, cache_dir=tmp_path)
    assert "weights" in b.__dict__  # read back, not recomputed
    assert np.array_equal(b.weights, fresh.weights) and np.array_equal(b.codes, fresh.codes)
    assert np.array_equal(b.positions, fresh.positions) and b.names == fresh.names
    assert round(b.n_effective) == round(a.n_effective) == 449
    for x, y in zip(b._profile, fresh._profile, strict=True):  # the profile read back
        assert np.array_equal(x, y)
    entry.write_bytes(entry.read_bytes()[:5000])  # damaged
    c = cached_alignment(src, seq, cache_dir=tmp_path)
    assert "weights" not in c.__dict__ or np.array_equal(c.weights, fresh.weights)
    assert np.array_equal(c.weights, fresh.weights)
    from structkit.io.derived import read_entry

    assert read_entry(entry)["codes"].shape == fresh.codes.shape  # rewritten whole
