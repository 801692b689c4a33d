"""What a session is below the public ``structkit.Session``: one frozen ``Settings``, a
``Fetcher`` for its files and a bounded store of what was computed from them.

Every module that computes (analyses, tables, the verdict) works on a ``SessionState``:
``session_of(x)`` gives the one to use for ``x``: ``x`` itself when it is a session, the
session of a plain ``Fetcher`` (made once and kept on that fetcher, with the default cut-offs
and the DSSP method and stability mode read from the environment then), or the default session
for None. ``structkit.Session`` (the top floor) adds the convenience methods (``impact_table``,
``report``, ...) and is what users make.

The environment (``$STRUCTKIT_CACHE``, ``$STRUCTKIT_MIRROR``, ``$STRUCTKIT_OFFLINE``,
``$STRUCTKIT_DSSP``, ``$STRUCTKIT_STABILITY``) is read when a session is made, never later:
what a session computes depends on its ``settings`` only.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from ..cutoffs import DEFAULT_CUTOFF, DEFAULT_METAL_CUTOFF, check_cutoff
from ..settings import Settings, check_dssp_method, check_stability_mode
from .fetch import DEFAULT_MAX_BYTES, Endpoints, Fetcher, FetchResult

__all__ = ["SessionState", "BoundedStore", "STORE_LIMITS", "session_of", "default_session"]

# entries kept per store (least recently used dropped first): structures and analyses hold
# arrays of whole entries (a few MB each); the disk cache (structkit.io.derived) gives them back
# in milliseconds. Other stores (records, alignments, family maps, parsed items, codebook)
# hold small records and are not bounded (``parsed`` empties itself past variants.PARSED_MAX)
STORE_LIMITS = {"structures": 64, "structures_by_id": 64, "analyses": 64, "analyses_by_id": 64,
                "stability": 64}


class BoundedStore(OrderedDict):
    """A dictionary that keeps its ``limit`` most recently used entries: reading (``[]``,
    ``get``) and writing count as use, ``in`` does not."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = int(limit)

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]


class SessionState:
    """A session's settings, fetcher and store (see the module docstring).

    Parameters
    ----------
    cache_dir, mirror, offline, endpoints, timeout, retries, backoff, max_retry_after,
    max_bytes, deadline, max_redirects
        Those of ``Fetcher``: where files are kept and looked for, and the network limits
        (``cache_dir``, ``mirror`` and ``offline`` default to ``$STRUCTKIT_CACHE``,
        ``$STRUCTKIT_MIRROR``, ``$STRUCTKIT_OFFLINE``).
    cutoff, metal_cutoff : float
        Contact and metal-coordination cut-offs in A (default 4.0 and 3.0).
    dssp : str, optional
        Secondary-structure method, ``'structkit'``, ``'mkdssp'`` or ``'pydssp'`` (default
        ``$STRUCTKIT_DSSP``, else structkit); part of every analysis key.
    stability : str, optional
        ``stability_score`` of the impact tables, ``'auto'``, ``'shipped'`` or ``'off'``
        (default ``$STRUCTKIT_STABILITY``, else auto).
    fetcher : Fetcher, optional
        Fetch through this fetcher instead of making one (its file settings are the
        session's; the file parameters above must then be left out).
    """

    def __init__(self, cache_dir=None, mirror=None, offline: bool | None = None,
                 endpoints: Endpoints | None = None, timeout: tuple[float, float] = (10.0, 60.0),
                 retries: int = 4, backoff: float = 0.5, max_retry_after: float = 60.0,
                 max_bytes: int = DEFAULT_MAX_BYTES, deadline: float = 600.0,
                 max_redirects: int = 5, dssp: str | None = None, stability: str | None = None,
                 cutoff: float = DEFAULT_CUTOFF, metal_cutoff: float = DEFAULT_METAL_CUTOFF,
                 fetcher: Fetcher | None = None) -> None:
        file_kw = {"cache_dir": cache_dir, "mirror": mirror, "offline": offline,
                   "endpoints": endpoints, "timeout": timeout, "retries": retries,
                   "backoff": backoff, "max_retry_after": max_retry_after,
                   "max_bytes": max_bytes, "deadline": deadline, "max_redirects": max_redirects}
        if fetcher is None:
            if file_kw["endpoints"] is None:
                del file_kw["endpoints"]
            fetcher = Fetcher(**file_kw)
        elif cache_dir is not None or mirror is not None or offline is not None:
            raise TypeError("give fetcher= or the file settings (cache_dir, mirror, offline), "
                            "not both")
        self.fetcher = fetcher
        f = fetcher
        self.settings = Settings(
            cache_dir=str(f.cache_dir), mirror=None if f.mirror is None else str(f.mirror),
            offline=bool(f.offline), cutoff=check_cutoff(cutoff, "cutoff"),
            metal_cutoff=check_cutoff(metal_cutoff, "metal_cutoff"),
            dssp=check_dssp_method(dssp if dssp is not None
                                   else os.environ.get("STRUCTKIT_DSSP") or "structkit"),
            stability=check_stability_mode(stability if stability is not None
                                           else os.environ.get("STRUCTKIT_STABILITY") or "auto"),
            timeout=tuple(f.timeout), retries=f.retries, backoff=f.backoff,
            max_retry_after=f.max_retry_after, max_bytes=f.max_bytes, deadline=f.deadline,
            max_redirects=f.max_redirects, endpoints=f.endpoints)
        # what this session computed from its files (loaded structures, UniProt records,
        # structure analyses, ...): kept here, not in module globals, so two sessions with
        # different mirrors or cut-offs never share results
        self.store: dict[str, dict] = {}
        # one table at a time per session: the store and the column codebook are shared by
        # every table of the session, so threads sharing it take turns (impact_table,
        # summarize, write_impact, therapy_matrix and analyze hold it; it is re-entrant)
        self.lock = threading.RLock()

    def __repr__(self) -> str:
        s = self.settings
        return (f"{type(self).__name__}(cache_dir={s.cache_dir!r}, mirror={s.mirror!r}, "
                f"offline={s.offline}, cutoff={s.cutoff:g}, metal_cutoff={s.metal_cutoff:g}, "
                f"dssp={s.dssp!r}, stability={s.stability!r})")

    # -- the settings that change results (read-only: a session's settings are frozen) -------
    cutoff = property(lambda self: self.settings.cutoff, doc="Contact cut-off in A.")
    metal_cutoff = property(lambda self: self.settings.metal_cutoff,
                            doc="Metal-coordination cut-off in A.")
    dssp = property(lambda self: self.settings.dssp, doc="Secondary-structure method.")
    stability = property(lambda self: self.settings.stability, doc="Stability mode.")

    # -- files: through the fetcher ---------------------------------------------------------
    cache_dir = property(lambda self: self.fetcher.cache_dir, doc="The fetcher's cache folder.")
    mirror = property(lambda self: self.fetcher.mirror, doc="The fetcher's mirror (or None).")
    offline = property(lambda self: self.fetcher.offline, doc="Whether the network is never used.")

    def pdb(self, pdb_id: str, format: str | None = None, assembly: int | None = None,
            gz: bool = False) -> FetchResult:
        """``Fetcher.pdb`` of this session's fetcher."""
        return self.fetcher.pdb(pdb_id, format, assembly, gz)

    def alphafold(self, accession: str, format: str | None = None) -> FetchResult:
        """``Fetcher.alphafold`` of this session's fetcher."""
        return self.fetcher.alphafold(accession, format)

    def uniprot(self, accession: str, format: str = "fasta") -> FetchResult:
        """``Fetcher.uniprot`` of this session's fetcher."""
        return self.fetcher.uniprot(accession, format)

    def msa(self, name: str) -> FetchResult:
        """``Fetcher.msa`` of this session's fetcher."""
        return self.fetcher.msa(name)

    def dataset(self, folder: str, name: str, header: str) -> FetchResult:
        """``Fetcher.dataset`` of this session's fetcher."""
        return self.fetcher.dataset(folder, name, header)

    def model_weights(self, name: str) -> FetchResult:
        """``Fetcher.model_weights`` of this session's fetcher."""
        return self.fetcher.model_weights(name)

    def search_rcsb(self, accession: str, max_results: int = 1000) -> list[dict]:
        """``Fetcher.search_rcsb`` of this session's fetcher."""
        return self.fetcher.search_rcsb(accession, max_results)

    # -- the store ----------------------------------------------------------------------------
    def cache(self, name: str) -> dict:
        """The store ``name`` of this session (created empty on first use). The stores of
        large objects (``STORE_LIMITS``: loaded structures and their analyses) keep the most
        recently used entries only; what they drop comes back from the disk cache
        (``structkit.io.derived``) in milliseconds."""
        got = self.store.get(name)
        if got is None:
            limit = STORE_LIMITS.get(name)
            got = self.store[name] = {} if limit is None else BoundedStore(limit)
        return got

    def clear(self) -> None:
        """Forget everything computed in this session (structures, analyses, records, parsed
        variants, the column codebook); files on disk stay. Tables already made keep their
        values."""
        with self.lock:
            self.store.clear()


_DEFAULTS: dict[tuple, SessionState] = {}  # the default session, one per environment setting


def default_session() -> SessionState:
    """The default session, configured from the environment ($STRUCTKIT_CACHE,
    $STRUCTKIT_MIRROR, $STRUCTKIT_OFFLINE, $STRUCTKIT_DSSP, $STRUCTKIT_STABILITY) when it is
    made; one per setting, so switching back finds its results again. Code that wants its own
    settings passes a ``Session``."""
    env = tuple(os.environ.get(f"STRUCTKIT_{k}") for k in ("CACHE", "MIRROR", "OFFLINE", "DSSP",
                                                           "STABILITY"))
    s = _DEFAULTS.get(env)
    if s is None:
        s = _DEFAULTS[env] = SessionState()
    return s


def session_of(x: SessionState | Fetcher | None) -> SessionState:
    """The session to compute with: ``x`` itself if it is one; for a plain ``Fetcher``, its
    own session (made on first use and kept on the fetcher, so its results are shared by every
    call given that fetcher); the default session for None."""
    if x is None:
        return default_session()
    if isinstance(x, SessionState):
        return x
    if isinstance(x, Fetcher):
        s = x.__dict__.get("_state")  # (``_session`` is the fetcher's HTTP session)
        return s if s is not None else x.__dict__.setdefault("_state", SessionState(fetcher=x))
    raise TypeError(f"session: expected a structkit.Session (or a Fetcher), got {type(x).__name__}")
