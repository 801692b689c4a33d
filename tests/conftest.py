"""Shared fixtures: the real data mirror (read-only), a temporary cache, a local HTTP server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("STRUCTKIT_TEST_DATA", REPO.parent / "shared" / "data")).resolve()


def pytest_configure(config):
    if not (DATA / "SOURCES.tsv").is_file():
        raise pytest.UsageError(
            f"test data mirror not found at {DATA}: the tests need ../shared/data beside the "
            "repository (or STRUCTKIT_TEST_DATA pointing at it)")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("structkit-cache")


@pytest.fixture(scope="session", autouse=True)
def offline_mirror(session_cache):
    """Every test runs offline against the read-only mirror with a temporary cache.

    Session-scoped so that module-scoped fixtures see it too; tests that need another setting
    change it with ``monkeypatch`` on top. Stability scores come from the shipped table only
    (``STRUCTKIT_STABILITY=shipped``): a test's modified copy of a structure is not scored with
    ProteinMPNN on the fly (tests/test_stability.py asks for that explicitly).
    """
    keys = ("STRUCTKIT_MIRROR", "STRUCTKIT_OFFLINE", "STRUCTKIT_CACHE", "STRUCTKIT_STABILITY")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({"STRUCTKIT_MIRROR": str(DATA), "STRUCTKIT_OFFLINE": "1",
                       "STRUCTKIT_CACHE": str(session_cache), "STRUCTKIT_STABILITY": "shipped"})
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def mirror_server():
    """A real HTTP server on 127.0.0.1 serving the mirror under RCSB/AlphaFold/UniProt-like paths."""
    from mirror_server import MirrorServer

    server = MirrorServer(DATA)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _mirror_fetcher():
    import tempfile

    from structkit.io.fetch import Fetcher

    global _FETCHER
    if _FETCHER is None:
        _FETCHER = Fetcher(cache_dir=tempfile.mkdtemp(prefix="structkit-test-"), mirror=DATA,
                           offline=True)
    return _FETCHER


_FETCHER = None


def in_mirror(catalog_entry) -> bool:
    """Whether the mirror holds a catalog entry: tests derive expectations from what is there
    (the mirror grows), never from a list of absent files."""
    from structkit.io.fetch import NotAvailableOffline

    f = _mirror_fetcher()
    try:
        if catalog_entry.is_alphafold:
            f.alphafold(catalog_entry.id[3:])
        else:
            f.pdb(catalog_entry.id, assembly=catalog_entry.assembly)
    except NotAvailableOffline:
        return False
    return True


def missing_from_mirror(ids) -> set[str]:
    """The catalog IDs among ``ids`` that the mirror does not hold."""
    from structkit.catalog import catalog

    return {i for i in ids if not in_mirror(catalog().structure(i))}


def entry(pdb_id: str, assembly: int | None = None) -> Path:
    """Path of a PDB entry obtained through the fetcher's mirror setting (never a copy)."""
    return Path(_mirror_fetcher().pdb(pdb_id, assembly=assembly).path)


def af(accession: str) -> Path:
    return Path(_mirror_fetcher().alphafold(accession).path)


def uniprot_file(accession: str, fmt: str) -> Path:
    return Path(_mirror_fetcher().uniprot(accession, fmt).path)


@pytest.fixture()
def p53_mirror(tmp_path, data_dir) -> Path:
    """A temporary mirror holding only the p53 files (symlinks to the real ones)."""
    from structkit.catalog import catalog

    m = tmp_path / "p53-mirror"
    for sub in ("pdb", "uniprot", "msa", "alphafold"):
        (m / sub).mkdir(parents=True)
    ids = {e.id.lower() for e in catalog().structures_for("P04637") if not e.is_alphafold}
    for f in (data_dir / "pdb").iterdir():
        if f.name.split(".")[0] in ids:
            (m / "pdb" / f.name).symlink_to(f)
    for f in (data_dir / "uniprot").glob("P04637*"):
        (m / "uniprot" / f.name).symlink_to(f)
    (m / "msa" / "P04637.a2m").symlink_to(data_dir / "msa" / "P04637.a2m")
    for f in (data_dir / "alphafold").glob("*P04637*"):
        (m / "alphafold" / f.name).symlink_to(f)
    return m
