"""A Session: one set of settings (where files come from, cut-offs, the DSSP method) and
everything computed under them, passed explicitly instead of through environment variables.

    >>> import structkit as sk
    >>> s = sk.Session(mirror="../shared/data", offline=True, cutoff=7.0)   # doctest: +SKIP

A Session has a frozen ``Settings`` (``s.settings``), a ``Fetcher`` for its files
(``s.fetcher``: cache, mirror, network) and a bounded store of what it computed (loaded
structures, UniProt records, analyses, ...), so two sessions with different mirrors or
cut-offs work side by side in one process (``structkit.io.store.SessionState`` is that core;
this class adds the methods below). The public functions take it as ``session=``
(``fetcher=``, the older name, still works for one release, with a ``DeprecationWarning``; a
plain ``Fetcher`` given there gets a session of its own). Module-level functions without one
use the default session (``structkit.io.store.default_session()``, configured from
``$STRUCTKIT_CACHE``, ``$STRUCTKIT_MIRROR``, ``$STRUCTKIT_OFFLINE``, ``$STRUCTKIT_DSSP``,
``$STRUCTKIT_STABILITY`` when it is made).
"""

from __future__ import annotations

from .io.store import SessionState

__all__ = ["Session"]


class Session(SessionState):
    """Settings and results of one analysis context (see the module docstring).

    Parameters
    ----------
    cache_dir, mirror, offline, endpoints, ...
        Those of ``Fetcher``: where files are kept and looked for (default: from
        ``$STRUCTKIT_CACHE``, ``$STRUCTKIT_MIRROR``, ``$STRUCTKIT_OFFLINE``).
    cutoff : float
        Contact cut-off between heavy atoms in A (default 4.0), for site membership.
    metal_cutoff : float
        Metal coordination cut-off in A (default 3.0).
    dssp, stability : str, optional
        The secondary-structure method (``'structkit'``, ``'mkdssp'``, ``'pydssp'``; part of
        every analysis key) and the stability mode (``'auto'``, ``'shipped'``, ``'off'``);
        None reads ``$STRUCTKIT_DSSP`` / ``$STRUCTKIT_STABILITY`` once, when the session is
        made.
    fetcher : Fetcher, optional
        Fetch through this fetcher (then leave out the file settings).

    Examples
    --------
    p53 R249 lies 6.3 A from the DNA in 1TSR: no contact at the default 4 A, a contact at 7 A.
    Two sessions keep their own results side by side:

    >>> wide = Session(cutoff=7.0)
    >>> t = wide.impact_table(["TP53:p.R249S"], structures=["1TSR"])
    >>> t[t.site == "DNA interface"][["variant", "min_dist_A", "in_site", "cutoff_A"]]
       variant  min_dist_A  in_site  cutoff_A
    0  p.R249S        6.31     True       7.0
    >>> t = Session().impact_table(["TP53:p.R249S"], structures=["1TSR"])
    >>> bool(t[t.site == "DNA interface"].in_site.item())
    False
    >>> wide.settings.cutoff, wide.fetcher.offline == wide.settings.offline
    (7.0, True)
    """

    @classmethod
    def from_settings(cls, settings) -> Session:
        """A new session with these ``Settings`` (its own store: nothing computed is shared)."""
        kw = settings.as_dict()
        if kw["endpoints"] is None:
            del kw["endpoints"]
        return cls(**kw)

    def _cuts(self, kw: dict) -> dict:
        kw.setdefault("cutoff", self.cutoff)
        kw.setdefault("metal_cutoff", self.metal_cutoff)
        return kw

    def load(self, source, **kw):
        """``structkit.load`` with this session's files."""
        from .io.resolve import load

        return load(source, fetcher=self, **kw)

    def uniprot_record(self, accession: str):
        """``structkit.uniprot_record`` with this session's files."""
        from .io.uniprot import uniprot_record

        return uniprot_record(accession, self)

    def parse_variants(self, items, **kw):
        """``structkit.parse_variants`` checking references against this session's records."""
        from .io.variants import parse_variants

        return parse_variants(items, fetcher=self, **kw)

    def analyze(self, source, accession: str | None = None, **kw):
        """``structkit.analyze`` with this session's files and cut-offs."""
        from .analysis.structure_analysis import analyze

        return analyze(source, accession, fetcher=self, **self._cuts(kw))

    def impact_table(self, variants, structures=None, **kw):
        """``structkit.impact_table`` with this session's files and cut-offs."""
        from .analysis.table import impact_table

        return impact_table(variants, structures, fetcher=self, **self._cuts(kw))

    def summarize(self, table, **kw):
        """``structkit.summarize`` (the verdict reads this session's alignments)."""
        from .judge.summary import summarize

        return summarize(table, fetcher=self, **kw)

    def therapy_matrix(self, variants, structures=None, **kw):
        """``structkit.therapy_matrix`` with this session's files and cut-offs."""
        from .judge.therapy import therapy_matrix

        return therapy_matrix(variants, structures, fetcher=self, **self._cuts(kw))

    def view_variants(self, structure, variants=(), **kw):
        """``structkit.outputs.view.view_variants`` with this session's files and records."""
        from .outputs.view import view_variants

        return view_variants(structure, variants, fetcher=self, **kw)

    def report(self, variants, out, **kw):
        """``structkit.report`` with this session's files and cut-offs."""
        from .outputs.report import report

        return report(variants, out, fetcher=self, **self._cuts(kw))
