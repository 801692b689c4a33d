"""Fetchers: mirror, offline mode, cache integrity, and the network path against a local server."""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing as mp
from pathlib import Path

import pytest
import requests

from structkit.io.fetch import (
    USER_AGENT,
    Endpoints,
    Fetcher,
    FetchError,
    IntegrityError,
    NoSuchEntry,
    NotAvailableOffline,
)


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def net_fetcher(server, cache: Path, **kw) -> Fetcher:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", (2.0, 2.0))
    return Fetcher(cache_dir=cache, mirror="", offline=False,
                   endpoints=Endpoints.under(server.url), **kw)


def files_for(cache: Path, stem: str) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and stem in p.name.lower()
            and ".locks" not in p.parts]


# --------------------------------------------------------------------------- mirror / offline


def test_offline_mirror_returns_the_mirror_bytes(tmp_path, data_dir):
    f = Fetcher(cache_dir=tmp_path, mirror=data_dir, offline=True)
    res = f.pdb("1n8z")
    assert res.source == "mirror"
    assert sha(res.path) == sha(data_dir / "pdb" / "1n8z.pdb")
    assert f.pdb("2OCJ").path.name == "2ocj.pdb.gz"
    assert f.pdb("3KZ8", assembly=1).path.name == "3kz8.pdb1"
    assert f.alphafold("P04637").path.name == "AF-P04637-F1-model.pdb"
    assert f.uniprot("P04637", "json").source == "mirror"


def test_offline_without_entry_fails_clearly(tmp_path, data_dir):
    # a mirror that lacks the entries: a directory laid out like the mirror, with only UniProt
    empty = tmp_path / "mirror"
    (empty / "pdb").mkdir(parents=True)
    f = Fetcher(cache_dir=tmp_path / "cache", mirror=empty, offline=True)
    with pytest.raises(NotAvailableOffline) as e:
        f.pdb("3PP0")
    msg = str(e.value)
    assert "3PP0" in msg and "not available offline" in msg
    assert str(empty) in msg and "pdb/3pp0.cif" in msg
    with pytest.raises(NotAvailableOffline, match="P04626"):
        f.alphafold("P04626")


def test_offline_without_mirror_fails(tmp_path):
    f = Fetcher(cache_dir=tmp_path, mirror="", offline=True)
    with pytest.raises(NotAvailableOffline, match="1N8Z"):
        f.pdb("1N8Z")


def test_explicit_format_is_respected(tmp_path, data_dir):
    f = Fetcher(cache_dir=tmp_path, mirror=data_dir, offline=True)
    with pytest.raises(NotAvailableOffline, match="1n8z.cif"):
        f.pdb("1N8Z", format="cif")  # the mirror has only the PDB-format file


def test_corrupt_cache_file_is_replaced(tmp_path, data_dir):
    bad = tmp_path / "pdb" / "1n8z.pdb"
    bad.parent.mkdir(parents=True)
    bad.write_text("HEADER    TRUNCATED\nATOM      1  N   THR C   1      0.000   0.000   0.000\n")
    f = Fetcher(cache_dir=tmp_path, mirror=data_dir, offline=True)
    res = f.pdb("1N8Z")
    assert res.source == "mirror"
    assert not bad.exists()  # the corrupt copy was removed, not used


def test_corrupt_mirror_file_is_an_error(tmp_path):
    mirror = tmp_path / "m"
    (mirror / "pdb").mkdir(parents=True)
    (mirror / "pdb" / "1n8z.pdb").write_text("<html>not a structure</html>")
    f = Fetcher(cache_dir=tmp_path / "c", mirror=mirror, offline=True)
    with pytest.raises(IntegrityError, match="HTML"):
        f.pdb("1N8Z")


def test_environment_configures_the_default(tmp_path, monkeypatch, data_dir):
    from structkit.io.store import default_session

    monkeypatch.setenv("STRUCTKIT_CACHE", str(tmp_path))
    f = default_session()
    assert f.cache_dir == tmp_path and f.offline and Path(f.mirror) == data_dir


def test_only_https_or_loopback_urls():
    with pytest.raises(ValueError, match="https"):
        Fetcher(endpoints=Endpoints.under("http://example.org"))
    Fetcher(endpoints=Endpoints.under("http://127.0.0.1:9"))  # loopback is allowed


# ------------------------------------------------------------------------------- network path


def test_network_fetch_and_cache(mirror_server, tmp_path, data_dir):
    f = net_fetcher(mirror_server, tmp_path)
    res = f.pdb("1N8Z", format="pdb")
    assert res.source == "network"
    assert sha(res.path) == sha(data_dir / "pdb" / "1n8z.pdb")
    again = f.pdb("1N8Z", format="pdb")
    assert again.source == "cache" and mirror_server.hits["/rcsb/download/1N8Z.pdb"] == 1


def test_network_gzip_assembly_alphafold_uniprot(mirror_server, tmp_path, data_dir):
    f = net_fetcher(mirror_server, tmp_path)
    assert sha(f.pdb("2OCJ", format="pdb", gz=True).path) == sha(data_dir / "pdb" / "2ocj.pdb.gz")
    asm = f.pdb("3KZ8", format="pdb", assembly=1)
    assert asm.path.name == "3kz8.pdb1" and sha(asm.path) == sha(data_dir / "pdb" / "3kz8.pdb1")
    af = f.alphafold("P04637", format="pdb")
    assert af.path.name == "AF-P04637-F1-model_v6.pdb"  # the version the API calls latest
    assert sha(af.path) == sha(data_dir / "alphafold" / "AF-P04637-F1-model.pdb")
    assert f.uniprot("P04626").path.read_text().startswith(">sp|P04626|")
    with pytest.raises(NoSuchEntry, match="P04626"):
        f.alphafold("P04626", format="pdb")


def test_user_agent_names_structkit(mirror_server, tmp_path):
    f = net_fetcher(mirror_server, tmp_path)
    assert f.session.headers["User-Agent"] == USER_AGENT and "structkit/" in USER_AGENT


def test_search_rcsb_by_accession(mirror_server, tmp_path):
    f = net_fetcher(mirror_server, tmp_path)
    rows = f.search_rcsb("P04626")
    ids = {r["pdb_id"] for r in rows}
    # the mirror's entries whose DBREF names HER2 (SOURCES.tsv): 1N8Z, 1S78, 6OGE
    assert ids == {"1N8Z", "1S78", "6OGE"}
    by = {r["pdb_id"]: r for r in rows}
    assert by["1N8Z"]["resolution_A"] == pytest.approx(2.52)
    assert by["6OGE"]["method"] == "ELECTRON MICROSCOPY"
    assert f.search_rcsb("P01116") == []  # KRAS: no entry in the mirror


def test_404_says_no_such_entry(mirror_server, tmp_path):
    f = net_fetcher(mirror_server, tmp_path)
    with pytest.raises(NoSuchEntry, match="no such entry.*9XYZ"):
        f.pdb("9XYZ", format="pdb")
    assert files_for(tmp_path, "9xyz") == []


def test_503_twice_then_success(mirror_server, tmp_path, data_dir):
    path = "/rcsb/download/1N8Z.pdb"
    mirror_server.fault(path, "503", times=2)
    f = net_fetcher(mirror_server, tmp_path)
    res = f.pdb("1N8Z", format="pdb")
    assert mirror_server.hits[path] == 3
    assert sha(res.path) == sha(data_dir / "pdb" / "1n8z.pdb")


def test_429_retry_after_is_honoured(mirror_server, tmp_path):
    path = "/rcsb/download/1N8Z.pdb"
    mirror_server.fault(path, "429", retry_after=1)
    f = net_fetcher(mirror_server, tmp_path)
    import time

    t0 = time.monotonic()
    f.pdb("1N8Z", format="pdb")
    assert time.monotonic() - t0 >= 0.9  # waited as the server asked, not the 0.01 s backoff
    assert mirror_server.hits[path] == 2


FAULTS = [  # (path, fault, times, fault options, fetcher options, pdb() options, error, message)
    ("1N8Z.pdb", "503", 10, {}, {"retries": 2}, {}, FetchError, "gave up after 3 attempts.*503"),
    ("1N8Z.pdb", "stall", 2, {"seconds": 3}, {"retries": 1, "timeout": (1.0, 0.5)}, {},
     FetchError, "timed out"),
    ("1N8Z.pdb", "truncate", 3, {}, {"retries": 2}, {}, FetchError,
     "gave up after 3 attempts.*(IncompleteRead|got \\d+ of \\d+ bytes|ProtocolError)"),
    ("1N8Z.pdb.gz", "corrupt_gzip", 1, {}, {}, {"gz": True}, IntegrityError, "gzip"),
    ("1N8Z.cif", "html", 1, {}, {}, {"format": "cif"}, IntegrityError, "HTML"),
    ("1N8Z.pdb", "big", 1, {"size": 2_000_000}, {"max_bytes": 1_000_000}, {}, FetchError, "limit"),
]


@pytest.mark.parametrize("path,fault,times,fopts,kw,call,error,message", FAULTS,
                         ids=[f[1] for f in FAULTS])
def test_fault_is_rejected_and_nothing_cached(mirror_server, tmp_path, path, fault, times, fopts,
                                              kw, call, error, message):
    # corrupt_gzip: the server gzips the real 1n8z.pdb on the fly and damages it
    mirror_server.fault(f"/rcsb/download/{path}", fault, times=times, **fopts)
    f = net_fetcher(mirror_server, tmp_path, **kw)
    with pytest.raises(error, match=message):
        f.pdb("1N8Z", **{"format": "pdb", **call})
    assert files_for(tmp_path, "1n8z") == []


def test_truncated_then_complete_succeeds(mirror_server, tmp_path, data_dir):
    mirror_server.fault("/rcsb/download/1N8Z.pdb", "truncate")
    f = net_fetcher(mirror_server, tmp_path)
    assert sha(f.pdb("1N8Z", format="pdb").path) == sha(data_dir / "pdb" / "1n8z.pdb")


def test_wrong_entry_in_body_is_rejected(tmp_path, mirror_server, data_dir):
    # a server that answers 1S78 with the 1N8Z file: the HEADER ID does not match
    mirror = tmp_path / "m"
    (mirror / "pdb").mkdir(parents=True)
    (mirror / "pdb" / "1s78.pdb").write_bytes((data_dir / "pdb" / "1n8z.pdb").read_bytes())
    from mirror_server import MirrorServer

    srv = MirrorServer(mirror)
    srv.start()
    try:
        f = net_fetcher(srv, tmp_path / "c")
        with pytest.raises(IntegrityError, match="names entry 1N8Z, expected 1S78"):
            f.pdb("1S78", format="pdb")
    finally:
        srv.stop()


def test_url_mirror(mirror_server, tmp_path, data_dir):
    """A mirror given as a base URL with the shared/data layout."""
    from mirror_server import MirrorServer

    class Plain(MirrorServer):
        def _file_for(self, path):
            return self.root / path.lstrip("/")

    srv = Plain(data_dir)
    srv.start()
    try:
        # a URL mirror is the network: offline mode never asks it (issue 15)
        with pytest.raises(NotAvailableOffline):
            Fetcher(cache_dir=tmp_path, mirror=srv.url, offline=True).pdb("2OCJ")
        assert sum(srv.hits.values()) == 0
        f = Fetcher(cache_dir=tmp_path, mirror=srv.url, offline=False,
                    endpoints=Endpoints.under("http://127.0.0.1:9"))  # services unreachable
        res = f.pdb("2OCJ")
        assert res.source == "mirror" and sha(res.path) == sha(data_dir / "pdb" / "2ocj.pdb.gz")
    finally:
        srv.stop()


def _fetch_in_process(args):
    url, cache = args
    f = Fetcher(cache_dir=cache, mirror="", offline=False, endpoints=Endpoints.under(url),
                retries=0, timeout=(5.0, 20.0))
    res = f.pdb("1S78", format="pdb")
    return str(res.path), sha(res.path)


def test_eight_processes_one_download(tmp_path, data_dir):
    from mirror_server import MirrorServer

    srv = MirrorServer(data_dir, delay=0.5)  # slow server: the eight requests overlap
    srv.start()
    try:
        ctx = mp.get_context("spawn")
        with ctx.Pool(8) as pool:
            out = pool.map(_fetch_in_process, [(srv.url, str(tmp_path))] * 8)
    finally:
        srv.stop()
    assert srv.hits["/rcsb/download/1S78.pdb"] == 1
    assert len({p for p, _ in out}) == 1
    assert {h for _, h in out} == {sha(data_dir / "pdb" / "1s78.pdb")}
    leftovers = [p for p in (tmp_path / "pdb").iterdir() if p.name != "1s78.pdb"]
    assert leftovers == []  # no temporary files left behind


def test_requests_never_leave_loopback(mirror_server, tmp_path, monkeypatch):
    """Guard: the network tests talk to 127.0.0.1 only."""
    seen = []
    real = requests.Session.request

    def spy(self, method, url, *a, **kw):
        seen.append(url)
        return real(self, method, url, *a, **kw)

    monkeypatch.setattr(requests.Session, "request", spy)
    net_fetcher(mirror_server, tmp_path).uniprot("P00533")
    assert seen and all(u.startswith("http://127.0.0.1:") for u in seen)


def test_gzip_payload_roundtrip_unchanged(mirror_server, tmp_path, data_dir):
    f = net_fetcher(mirror_server, tmp_path)
    p = f.pdb("2OCJ", format="pdb", gz=True).path
    assert gzip.decompress(p.read_bytes()) == gzip.decompress((data_dir / "pdb" / "2ocj.pdb.gz").read_bytes())


def test_search_retries_busy_answers_and_says_when_it_gives_up(mirror_server, tmp_path):
    """The JSON requests (RCSB search) share the download's retry rules: a 503 and a 429 are
    retried and the answer is the mirror's; a server busy every time ends in a FetchError that
    names the attempts and the last answer; an HTML page instead of JSON is an IntegrityError."""
    f = net_fetcher(mirror_server, tmp_path)
    mirror_server.fault("/rcsb/search", "503")
    mirror_server.fault("/rcsb/search", "429", retry_after=0)
    rows = f.search_rcsb("P04626")
    assert {r["pdb_id"] for r in rows} == {"1N8Z", "1S78", "6OGE"}
    assert mirror_server.hits["/rcsb/search"] == 3  # two busy answers, then the real one
    mirror_server.fault("/rcsb/search", "503", times=3)  # retries=2: three attempts, all busy
    with pytest.raises(FetchError, match=r"gave up after 3 attempts; last: HTTP 503"):
        f.search_rcsb("P04626")
    mirror_server.fault("/rcsb/search", "html")
    with pytest.raises(IntegrityError, match="did not return JSON"):
        f.search_rcsb("P04626")
