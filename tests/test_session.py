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


def _module_state() -> dict:
    """A fingerprint of every module-level value of structkit that could hold state: containers
    and objects by the SHA-1 of their pickle, memoised functions by their cache size."""
    import hashlib
    import inspect
    import pickle
    import sys

    out = {}
    for name, mod in sorted(sys.modules.items()):
        if not (name == "structkit" or name.startswith("structkit.")):
            continue
        for attr, val in vars(mod).items():
            if attr.startswith("__") or inspect.ismodule(val) or inspect.isclass(val):
                continue
            if hasattr(val, "cache_info"):  # functools.cache / lru_cache
                out[name, attr] = ("memo", val.cache_info().currsize)
            elif callable(val):
                continue
            else:
                try:
                    out[name, attr] = hashlib.sha1(pickle.dumps(val)).hexdigest()
                except (pickle.PicklingError, TypeError, AttributeError):
                    out[name, attr] = repr(val)
    return out


def test_a_session_leaves_no_state_at_module_level(tmp_path, data_dir):
    """Everything a session computes (structures, records, analyses, alignments, family maps,
    the table's category codes) stays in the session: a second session doing new work changes
    no module-level value. The first session loads the read-only resources (catalog, shipped
    model, BLOSUM62) that every session shares."""
    import pkgutil
    from importlib import import_module
    from importlib.util import find_spec

    from structkit.outputs.view import placements

    for m in pkgutil.walk_packages(sk.__path__, "structkit."):  # every floor's modules
        if not m.name.endswith(".mpnn") or find_spec("torch"):  # mpnn: the optional torch
            import_module(m.name)

    def work(session, variants):
        t = session.impact_table(variants)
        session.summarize(t)
        placements(session.analyze("3POZ"), ["ERBB2:p.T798M"], fetcher=session)
        return t

    first = sk.Session(cache_dir=tmp_path / "a", mirror=data_dir, offline=True)
    work(first, ["TP53:p.R248Q", "ERBB2:p.L755S"])
    before = _module_state()
    second = sk.Session(cache_dir=tmp_path / "b", mirror=data_dir, offline=True, cutoff=5.0)
    t = work(second, ["TP53:p.R273H", "TP53:p.G245S", "ERBB2:p.T798M", "TP53:p.R213*"])
    assert set(t.variant) >= {"p.R273H", "p.T798M", "p.R213*"}  # new texts to code
    assert _module_state() == before
    assert second.cache("columns") and second.cache("family") and second.cache("alignments")


def test_a_session_parses_each_item_once_but_retries_missing_records(tmp_path, data_dir,
                                                                      p53_mirror):
    """Re-running a cell parses nothing again (the session keeps parsed items, checked against
    its own records); an item whose UniProt record was missing is tried again next time."""
    s = sk.Session(cache_dir=tmp_path / "c", mirror=p53_mirror, offline=True)
    first = s.parse_variants(["TP53:p.R248Q", "ERBB2:p.T798M", "TP53:G248Q"])
    assert [v.hgvs for v in first.variants] == ["p.R248Q"]
    assert list(first.unplaced.status) == ["not available offline", "rejected"]
    template = s.cache("parsed")[None, "TP53:p.R248Q", True]
    again = s.parse_variants(["TP53:p.R248Q"])
    assert again.variants[0] == template and again.variants[0] is not template  # a copy, row 1
    assert s.cache("parsed")[None, "TP53:p.R248Q", True] is template
    for f in (data_dir / "uniprot").glob("P04626*"):  # the record arrives in the mirror
        (p53_mirror / "uniprot" / f.name).symlink_to(f)
    later = s.parse_variants(["ERBB2:p.T798M"])
    assert [v.label for v in later.variants] == ["ERBB2 p.T798M"]


def test_a_session_draws_views_from_its_own_files(tmp_path, data_dir, p53_mirror):
    """A view uses the session's files and records: a p53-only session shows 1TSR with the
    variant where the UniProt numbering puts it, and cannot show a HER2 structure."""
    p53 = sk.Session(cache_dir=tmp_path / "c", mirror=p53_mirror, offline=True)
    v = p53.view_variants("1TSR", ["R248Q"])
    assert '"R248Q"' in v.startjs and '"chain": "B", "resi": 248' in v.startjs
    assert p53.cache("analyses")
    with pytest.raises(sk.NotAvailableOffline):
        p53.view_variants("1N8Z", ["ERBB2:p.P579L"])


@pytest.mark.filterwarnings("ignore:.*older name of session:DeprecationWarning")
def test_a_session_passed_as_fetcher_brings_its_cutoffs():
    """impact_table(..., fetcher=sk.Session(cutoff=7)) uses 7 A (issue 26: it wrote 4.0); an
    explicit cutoff still wins. p53 R249 is 6.3 A from the DNA in 1TSR."""
    from structkit import impact_table, therapy_matrix

    s = sk.Session(cutoff=7.0)
    t = impact_table(["TP53:p.R249S"], structures=["1TSR"], fetcher=s, damage=False)
    dna = t[t.site == "DNA interface"].iloc[0]
    assert dna.cutoff_A == 7.0 and bool(dna.in_site) and dna.min_dist_A == pytest.approx(6.31, abs=0.01)
    t4 = impact_table(["TP53:p.R249S"], structures=["1TSR"], fetcher=s, damage=False, cutoff=4.0)
    assert set(t4.cutoff_A[t4.site == "DNA interface"]) == {4.0}
    m = therapy_matrix(["TP53:p.R249S"], fetcher=s, verdict=False)
    assert m.attrs["cutoff_A"] == 7.0
    assert m.set_index("therapy").loc["DNA", "relation"] == "contact"  # 6.3 A <= 7 A


def test_fetcher_is_a_deprecated_name_for_session_outside_structkit():
    """fetcher= (the older name, kept for one release) warns when a user's code passes it;
    structkit's own modules pass it between themselves without a warning; session= is quiet."""
    import warnings

    from structkit import analyze, impact_table

    s = sk.Session()
    with pytest.warns(DeprecationWarning, match=r"analyze\(fetcher=...\) is the older name"):
        a = analyze("1TSR", fetcher=s)
    assert a is analyze("1TSR", session=s)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        t = impact_table(["TP53:p.R248Q"], structures=["1TSR"], session=s)  # fetcher= inside
        assert len(t) and analyze("1TSR", session=s) is a


def test_session_keyword_is_the_settings_of_every_public_function():
    """session= (issue 26's name) gives the session's cut-offs; fetcher= is its older name;
    two different objects under the two names are refused."""
    from structkit import analyze, impact_table, summarize

    s = sk.Session(cutoff=7.0)
    t = impact_table(["TP53:p.R249S"], structures=["1TSR"], session=s, damage=False)
    assert set(t.cutoff_A[t.site_kind != "metal"]) == {7.0}  # metal sites: metal_cutoff
    assert analyze("1TSR", session=s).cutoff == 7.0
    assert summarize(t, session=s).variant.tolist() == ["p.R249S"]
    with pytest.raises(TypeError, match="not both"):
        impact_table(["TP53:p.R249S"], session=s, fetcher=sk.Session())
    for name in ("impact_table", "summarize", "therapy_matrix", "analyze", "report", "load",
                 "known_evidence", "parse_variants", "stability_table"):
        import inspect

        assert "session" in inspect.signature(getattr(sk, name)).parameters, name


def test_a_session_sets_its_own_dssp_method():
    """Session(dssp=...) is part of the analysis key: another method, another analysis; the
    method is checked when the session is made."""
    from structkit import analyze

    a = analyze("1TSR", session=sk.Session())
    b = analyze("1TSR", session=sk.Session(dssp="pydssp"))
    assert a.chains["B"].ss_method == "DSSP 8-state (structkit.analysis.dssp)"
    assert b.chains["B"].ss_method == "pydssp 3-state (MDAnalysis)"
    assert set(b.chains["B"].ss) <= {"H", "E", "-", "?"}
    with pytest.raises(ValueError, match="dssp='stride'"):
        sk.Session(dssp="stride")


def test_a_variant_string_is_never_read_as_a_file(tmp_path, monkeypatch):
    from structkit import parse_variants

    monkeypatch.chdir(tmp_path)
    (tmp_path / "R248Q").write_text("variant\nERBB2:p.T798M\n")
    assert [v.label for v in parse_variants("R248Q")] == ["TP53 p.R248Q"]
    assert [v.label for v in parse_variants("./R248Q")] == ["ERBB2 p.T798M"]  # a path, said so


def test_the_dssp_method_is_read_once_per_session(monkeypatch):
    """The environment is read when a session is made, never later: the same session keeps its
    method (and its analyses); the default session of the new environment is another one."""
    from structkit import analyze
    from structkit.io.store import default_session

    s = sk.Session()
    a = analyze("1TSR", session=s)
    monkeypatch.setenv("STRUCTKIT_DSSP", "pydssp")
    assert analyze("1TSR", session=s) is a and s.dssp == "structkit"
    assert default_session().dssp == "pydssp"
    b = analyze("1TSR")
    assert b.chains["B"].ss_method == "pydssp 3-state (MDAnalysis)"
    monkeypatch.setenv("STRUCTKIT_STABILITY", "sometimes")
    with pytest.raises(ValueError, match="stability='sometimes'"):
        sk.Session()


def test_report_leaves_the_matplotlib_backend_alone(tmp_path):
    import matplotlib

    from structkit import report

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        report(["TP53:p.R248Q"], tmp_path / "r.html", max_views=0)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_settings_are_one_frozen_object_and_make_a_session(tmp_path, data_dir):
    """Session.settings is a frozen snapshot of everything the session is configured with;
    a session made from it computes the same, in a store of its own; the analysis key follows
    its result_key (cut-offs and DSSP method)."""
    import dataclasses

    import structkit as sk

    s = sk.Session(cache_dir=str(tmp_path), mirror=str(data_dir), offline=True, cutoff=7.0,
                   dssp="structkit", stability="shipped")
    st = s.settings
    assert isinstance(st, sk.Settings)
    assert (st.cutoff, st.metal_cutoff, st.dssp, st.stability, st.offline) == (
        7.0, 3.0, "structkit", "shipped", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.cutoff = 4.0
    twin = sk.Session.from_settings(st)
    assert twin.settings == st and twin.store is not s.store
    a, b = s.analyze("1TSR"), twin.analyze("1TSR")
    assert a is not b and a.cutoff == b.cutoff == 7.0
    assert [s_.name for s_ in a.sites] == [s_.name for s_ in b.sites]
    assert (a.sites[0].in_site == b.sites[0].in_site).all()
    keys = list(s.cache("analyses_by_id"))
    assert keys and all(k[-3:] == st.result_key for k in keys)


def test_a_twin_session_keeps_the_service_endpoints(mirror_server, tmp_path):
    """Settings carry the service URLs too: a session made from another's settings talks to
    the same (here a local test server on 127.0.0.1), not to the public services."""
    import structkit as sk
    from structkit.io.fetch import Endpoints

    s = sk.Session(cache_dir=str(tmp_path), mirror="", offline=False, retries=0,
                   endpoints=Endpoints.under(mirror_server.url))
    twin = sk.Session.from_settings(s.settings)
    assert twin.fetcher.endpoints == s.fetcher.endpoints == twin.settings.endpoints
    assert twin.fetcher.endpoints.rcsb_files.startswith("http://127.0.0.1")
    assert twin.pdb("1TSR", format="pdb").source == "network"  # from the test server


def test_a_session_has_settings_a_fetcher_and_a_store(tmp_path, data_dir):
    """Issue 26: a Session is not a Fetcher; it has a frozen Settings, a Fetcher that only
    fetches (no store, no cut-offs) and its own store. A plain Fetcher given to the public
    functions gets one session of its own, kept for every call with that fetcher, with the
    default cut-offs; Session(fetcher=f) fetches through f."""
    import dataclasses

    import structkit as sk
    from structkit.io.fetch import Fetcher
    from structkit.io.store import session_of

    s = sk.Session(cache_dir=tmp_path / "a", mirror=data_dir, offline=True, cutoff=6.0)
    assert not isinstance(s, Fetcher) and isinstance(s.fetcher, Fetcher)
    assert not hasattr(s.fetcher, "store") and not hasattr(s.fetcher, "cutoff")
    assert s.cutoff == s.settings.cutoff == 6.0 and s.cache_dir == s.fetcher.cache_dir
    with pytest.raises(AttributeError):
        s.cutoff = 4.0  # the settings are frozen; make another session
    assert dataclasses.is_dataclass(s.settings)

    f = Fetcher(cache_dir=tmp_path / "b", mirror=data_dir, offline=True)
    a = sk.analyze("1TSR", session=f)
    assert session_of(f) is session_of(f) and sk.analyze("1TSR", session=f) is a
    assert session_of(f).cutoff == 4.0 and session_of(f).fetcher is f
    t = sk.Session(fetcher=f, cutoff=7.0).impact_table(["TP53:p.R249S"], structures=["1TSR"])
    assert t[t.site == "DNA interface"].cutoff_A.item() == 7.0
    with pytest.raises(TypeError, match="not both"):
        sk.Session(fetcher=f, mirror=data_dir)
    with pytest.raises(TypeError, match="expected a structkit.Session"):
        sk.analyze("1TSR", session="1TSR")
