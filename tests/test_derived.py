"""Derived data on disk (issue 28): a fresh process reads what an earlier one computed, the
same arrays and texts as computing afresh; a damaged or stale entry is detected and rebuilt."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from structkit import Session
from structkit.analysis import analyze
from structkit.analysis.damage import environment
from structkit.analysis.measure import residue_distances, residue_sasa
from structkit.analysis.numbering import number_structure
from structkit.io.derived import DERIVED_FOLDER, entry_key, load_entry, read_entry, save_entry
from structkit.io.fetch import IntegrityError
from structkit.io.structure import read_structure, read_structure_cached

ENV_ARRAYS = ("phi", "psi", "omega", "cis", "cb_dir", "ca", "other_atoms", "owner")
ENV_TEXTS = ("hbonds", "salt_bridges", "disulfide", "centroid_dist", "hbonds_bb", "second_shell")


def _session(cache, data_dir) -> Session:
    return Session(cache_dir=str(cache), mirror=str(data_dir), offline=True)


def _same_arrays(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def _same_analysis(a, b) -> None:
    assert list(a.chains) == list(b.chains) and a.notes == b.notes
    for ch in a.chains:
        x, y = a.chains[ch], b.chains[ch]
        for f in ("sasa", "rsa", "ss", "bfactor", "pos_to_k", "aa"):
            _same_arrays(getattr(x, f), getattr(y, f))
        assert x.ss_method == y.ss_method
        nx, ny = x.numbering, y.numbering
        assert (nx.method, nx.identity, nx.construct, nx.notes) == (
            ny.method, ny.identity, ny.construct, ny.notes)
        _same_arrays(nx.residue_indices, ny.residue_indices)
        _same_arrays(nx.uniprot_pos, ny.uniprot_pos)
        for f in ENV_ARRAYS:
            _same_arrays(getattr(x.env, f), getattr(y.env, f))
        for f in ENV_TEXTS:
            assert getattr(x.env, f) == getattr(y.env, f), f
        assert [s.name for s in x.sites] == [s.name for s in y.sites]
        for s, t in zip(x.sites, y.sites, strict=True):
            assert s.dist.keys() == t.dist.keys() and s.covalent == t.covalent
            for k in s.dist:
                _same_arrays(s.dist[k], t.dist[k])
            _same_arrays(s.nearest_label, t.nearest_label)
            _same_arrays(s.covalent_text, t.covalent_text)


@pytest.mark.parametrize("pdb_id", ["1TSR", "6OGE", "7PCD"])
def test_a_second_process_reads_the_same_analysis(pdb_id, tmp_path, data_dir):
    """1TSR (DNA, zinc), 6OGE (two Fabs), 7PCD (a covalent inhibitor: bond texts)."""
    first = analyze(pdb_id, session=_session(tmp_path, data_dir))
    kinds = {p.name for p in (tmp_path / DERIVED_FOLDER).iterdir()}
    assert {"structures", "checked", "numbering", "dssp", "sasa", "sites", "environment"} <= kinds
    again = analyze(pdb_id, session=_session(tmp_path, data_dir))  # a new session: from disk
    assert again is not first
    _same_analysis(first, again)
    # and both equal the steps computed directly on the file, without any cache
    st = read_structure(first.structure.path, entry_id=pdb_id)
    for ch, cd in again.chains.items():
        ri = cd.numbering.residue_indices
        direct = number_structure(st, again.accession, again.uniprot_seq,
                                  list(again.entry.target_chains) or None)[ch]
        _same_arrays(direct.uniprot_pos, cd.numbering.uniprot_pos)
        _same_arrays(residue_sasa(st, ri), cd.sasa)
        env = environment(st, ri)
        for f in ENV_ARRAYS:
            _same_arrays(getattr(env, f), getattr(cd.env, f))
        for f in ENV_TEXTS:
            assert getattr(env, f) == getattr(cd.env, f)
        for site in cd.sites:
            d = residue_distances(st, ri, site.partner_atoms, site.cutoff)
            for k in d:
                _same_arrays(d[k], site.dist[k])
    if pdb_id == "7PCD":  # the inhibitor's covalent bond to Cys805 survives the round trip
        assert any("805" in t for s in again.sites for t in s.covalent.values())


def test_a_parsed_file_reads_back_array_for_array(tmp_path, data_dir):
    for name in ("1tsr.pdb", "3rcd.cif.gz", "2ocj.pdb.gz"):
        path = data_dir / "pdb" / name
        fresh = read_structure(path)
        read_structure_cached(path, None, tmp_path)  # writes the entry
        back = read_structure_cached(path, None, tmp_path)
        for f in fresh.__dataclass_fields__:
            x, y = getattr(fresh, f), getattr(back, f)
            if isinstance(x, np.ndarray):
                _same_arrays(x, y)
            else:
                assert x == y, f


def _entries(root, kind):
    return sorted((root / DERIVED_FOLDER / kind).glob("*.skd"))


def test_a_damaged_or_stale_entry_is_rebuilt(tmp_path, data_dir):
    ref = analyze("1TSR", session=_session(tmp_path, data_dir))
    for kind in ("structures", "environment", "sites"):
        for p in _entries(tmp_path, kind):  # cut short: the entry no longer reads
            p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    for p in _entries(tmp_path, "numbering"):  # one bit flipped in the data: the CRC differs
        raw = bytearray(p.read_bytes())
        raw[-5] ^= 0x01
        p.write_bytes(bytes(raw))
    sasa = _entries(tmp_path, "sasa")[0]
    other = load_entry(tmp_path, "sasa", "0" * 64)  # no such entry
    assert other is None
    # an entry written for another key in its place is stale: refused, removed, rebuilt
    good = sasa.read_bytes()
    save_entry(tmp_path, "sasa", entry_key("something else"), {"sasa": np.ones(3)})
    stale = _entries(tmp_path, "sasa")
    shutil.copyfile([p for p in stale if p != sasa][0], sasa)
    again = analyze("1TSR", session=_session(tmp_path, data_dir))
    _same_analysis(ref, again)
    assert sasa.read_bytes() == good  # rewritten with the right content
    for kind in ("structures", "environment", "sites", "numbering"):
        for p in _entries(tmp_path, kind):
            read_entry(p)  # whole again (raises when not)


def test_an_entry_that_does_not_fit_is_refused(tmp_path):
    key = entry_key("test")
    save_entry(tmp_path, "things", key, {"x": np.arange(4)}, meta={"n": 4})
    assert load_entry(tmp_path, "things", key, lambda d: len(d["x"]) == d["meta"]["n"])["meta"] == {"n": 4}
    assert load_entry(tmp_path, "things", key, lambda d: len(d["x"]) == 5) is None
    assert not _entries(tmp_path, "things")  # removed, to be rebuilt by its caller


def test_the_integrity_check_is_skipped_only_for_the_same_bytes(tmp_path, data_dir):
    """A file that passed the check is not parsed twice by later processes; a file changed
    after that is checked again (and refused when cut short)."""
    mirror = tmp_path / "mirror"
    (mirror / "pdb").mkdir(parents=True)
    src = data_dir / "pdb" / "1tsr.pdb"
    shutil.copyfile(src, mirror / "pdb" / "1tsr.pdb")
    cache = tmp_path / "cache"
    s = Session(cache_dir=str(cache), mirror=str(mirror), offline=True)
    assert s.pdb("1TSR").source == "mirror"
    assert len(list((cache / DERIVED_FOLDER / "checked").iterdir())) == 1
    text = src.read_bytes()
    (mirror / "pdb" / "1tsr.pdb").write_bytes(text[: len(text) // 2])  # no END record
    with pytest.raises(IntegrityError, match="1tsr.pdb"):
        Session(cache_dir=str(cache), mirror=str(mirror), offline=True).pdb("1TSR")


def test_a_session_keeps_a_bounded_number_of_analyses_and_can_forget(tmp_path, data_dir,
                                                                      monkeypatch):
    """A long notebook session does not grow without end: past the limit the least recently
    used analysis is dropped and comes back equal from the disk cache; clear() forgets all."""
    from structkit.io import store

    monkeypatch.setitem(store.STORE_LIMITS, "analyses", 2)
    monkeypatch.setitem(store.STORE_LIMITS, "analyses_by_id", 2)
    s = _session(tmp_path, data_dir)
    first = analyze("1TSR", session=s)
    analyze("2OCJ", session=s)
    assert analyze("1TSR", session=s) is first  # used again: now the most recent
    analyze("3KMD", session=s)  # drops 2OCJ, the least recently used
    by_id = s.cache("analyses_by_id")  # what a repeated call by ID reads
    assert len(by_id) == 2 and len(s.cache("analyses")) == 2
    assert sorted(a.structure.id for a in by_id.values()) == ["1TSR", "3KMD"]
    assert analyze("1TSR", session=s) is first
    s.clear()
    assert s.store == {}
    again = analyze("1TSR", session=s)
    assert again is not first
    _same_analysis(first, again)


def test_entries_are_keyed_by_the_code_that_made_them(monkeypatch, tmp_path):
    """An edited structkit (an editable install) never reads what older code computed: the
    digest of the package's files is part of every key."""
    from structkit.io import derived

    before = entry_key("structure", "abc")
    save_entry(tmp_path, "things", before, {"x": np.arange(3)})
    monkeypatch.setattr(derived, "_CODE_DIGEST", ["another version of the code"])
    after = entry_key("structure", "abc")
    assert after != before
    assert load_entry(tmp_path, "things", after) is None
    monkeypatch.undo()
    assert entry_key("structure", "abc") == before and derived.code_digest() != ""


def test_a_warm_process_loads_neither_scipy_nor_biopython(tmp_path, data_dir):
    """Lazy work (issue 28): with the cache warm, the seed panel is answered from derived data:
    no KD-tree library, no aligner, no structure parser (imported only to compute what is not
    on disk), no file lock (a process that only reads takes none)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "STRUCTKIT_MIRROR": str(data_dir), "STRUCTKIT_OFFLINE": "1",
           "STRUCTKIT_CACHE": str(tmp_path / "cache"), "STRUCTKIT_STABILITY": "shipped"}
    code = ("import contextlib, io, sys\nfrom structkit.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['impact']) == 0\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}\n"
            "             & {'scipy', 'Bio', 'matplotlib', 'gemmi', 'filelock'}))")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]
    for name in ("scipy", "Bio", "gemmi"):  # cold: computed and stored, so loaded
        assert name in first.stdout
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert warm.returncode == 0, warm.stderr[-2000:]
    assert warm.stdout.strip() == "[]"


def test_derived_entries_keep_dtype_shape_and_text(tmp_path):
    key = entry_key("types")
    arrays = {"f": np.array([[1.5, np.nan], [3.0, -0.0]]), "i": np.arange(5, dtype=np.int32),
              "b": np.array([True, False]), "u": np.array(["CA", "OXT", ""]),
              "o": np.array(["B:TYR 57 CZ", ""], dtype=object), "empty": np.zeros((0, 3)),
              "scalar": np.int64(7)}
    save_entry(tmp_path, "types", key, arrays, meta={"note": "Zn site", "n": [1, 2]})
    back = load_entry(tmp_path, "types", key)
    assert back["meta"] == {"note": "Zn site", "n": [1, 2]}
    for name, a in arrays.items():
        want = np.asarray(a).astype(str) if np.asarray(a).dtype == object else np.asarray(a)
        _same_arrays(want, back[name])
    back["f"][0, 0] = 2.0  # writable, as arrays read from a file are expected to be
    assert load_entry(tmp_path, "types", entry_key("other")) is None


def test_the_civic_release_is_kept_as_a_frame_and_rebuilt_when_damaged(tmp_path, data_dir):
    """The accepted CIViC items read back from derived data equal a fresh parse (values,
    dtypes, provenance attrs); a damaged entry is rebuilt."""
    import pandas as pd

    from structkit.io.evidence import _read_civic, civic_items

    fresh = civic_items(_session(tmp_path, data_dir))
    (entry,) = _entries(tmp_path, "civic")
    back = civic_items(_session(tmp_path, data_dir))
    pd.testing.assert_frame_equal(fresh, back)
    parsed = _read_civic(fresh.attrs["path"])  # the parse itself, never through an entry
    pd.testing.assert_frame_equal(parsed, back)
    assert back.attrs == fresh.attrs and len(back.attrs["sha256"]) == 64
    assert (back.evidence_status == "accepted").all() and back._eid.dtype == np.int64
    raw = bytearray(entry.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    entry.write_bytes(bytes(raw))
    again = civic_items(_session(tmp_path, data_dir))
    pd.testing.assert_frame_equal(fresh, again)
    read_entry(entry)  # rewritten whole


def test_prune_removes_what_this_code_cannot_read_and_keeps_the_rest(tmp_path, data_dir,
                                                                     monkeypatch):
    """`structkit cache --prune` (derived.prune): entries and marks of other code, older-format
    .npz files and damaged entries go; this code's entries and marks and the ProteinMPNN
    scores (kept across versions) stay, and the analysis still reads from the disk
    afterwards."""
    from structkit.io import derived
    from structkit.io.derived import inventory, prune

    ref = analyze("1TSR", session=_session(tmp_path, data_dir))
    current = {p: p.read_bytes() for p in (tmp_path / DERIVED_FOLDER).rglob("*") if p.is_file()}
    monkeypatch.setattr(derived, "_CODE_DIGEST", ["an older structkit"])
    save_entry(tmp_path, "sasa", entry_key("old"), {"sasa": np.ones(3)})  # another code's entry
    monkeypatch.undo()
    old_npz = tmp_path / DERIVED_FOLDER / "structures" / ("0" * 40 + ".npz")
    old_npz.write_bytes(b"PK\x03\x04 an entry of the format before .skd")
    kept = tmp_path / DERIVED_FOLDER / "stability" / "abc_def.npz"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"scores of hours of CPU")
    damaged = tmp_path / DERIVED_FOLDER / "sites" / ("1" * 40 + ".skd")
    damaged.write_bytes(b"SKDRV\x002\n" + b"\xff" * 12)
    with pytest.raises(ValueError, match="header longer than the file"):
        read_entry(damaged)  # a reader refuses it (and rebuilds), never an OverflowError
    by_kind = {r["kind"]: r for r in inventory(tmp_path)}
    assert by_kind["sasa"]["stale_files"] == 1 and by_kind["structures"]["stale_files"] == 1
    assert by_kind["sites"]["stale_files"] == 1 and by_kind["stability"]["stale_files"] == 0
    assert by_kind["checked"]["stale_files"] == 0
    old_mark = tmp_path / DERIVED_FOLDER / "checked" / ("2" * 40 + ".ok")
    old_mark.write_bytes(b"")  # a mark of other code (marks before the digest were empty)
    n, size = prune(tmp_path)
    assert n == 4 and size > 0 and not old_mark.exists()
    left = {p for p in (tmp_path / DERIVED_FOLDER).rglob("*") if p.is_file()}
    assert left == set(current) | {kept}
    assert all(p.read_bytes() == b for p, b in current.items())
    again = analyze("1TSR", session=_session(tmp_path, data_dir))
    _same_analysis(ref, again)
    assert {p for p in (tmp_path / DERIVED_FOLDER).rglob("*") if p.is_file()} == left  # read
    assert all(r["stale_files"] == 0 for r in inventory(tmp_path))
