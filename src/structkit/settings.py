"""The settings of a session, in one frozen object, and the names and checks of the DSSP method
and the stability mode. A light module (standard library only) below ``fetch``, ``measure``,
``stability`` and ``table``."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DSSP_METHOD_NAMES", "STABILITY_MODES", "Settings", "check_dssp_method",
           "check_stability_mode"]

DSSP_METHOD_NAMES = ("structkit", "mkdssp", "pydssp")  # structkit.analysis.measure.secondary_structure
STABILITY_MODES = ("auto", "shipped", "off")  # structkit.analysis.table.impact_table


def check_dssp_method(value) -> str:
    """``value`` as a DSSP method name (lower case), or ``ValueError`` naming the choices."""
    if not isinstance(value, str) or value.lower() not in DSSP_METHOD_NAMES:
        raise ValueError(f"dssp={value!r}: expected one of {', '.join(DSSP_METHOD_NAMES)}")
    return value.lower()


def check_stability_mode(value) -> str:
    """``value`` as a stability mode (lower case), or ``ValueError`` naming the choices."""
    if not isinstance(value, str) or value.lower() not in STABILITY_MODES:
        raise ValueError(f"stability={value!r}: expected one of {', '.join(STABILITY_MODES)}")
    return value.lower()


@dataclass(frozen=True)
class Settings:
    """Everything a session is configured with, frozen: where files come from (``cache_dir``,
    ``mirror``, ``offline``), what changes a result (``cutoff``, ``metal_cutoff`` in A,
    ``dssp``, ``stability``) and the network limits. ``Session.settings`` gives a session's;
    ``Session.from_settings`` makes a session from one (the same files and results, a store of
    its own). ``result_key`` is what every analysis of the session is keyed with.

    Examples
    --------
    >>> from structkit import Session
    >>> s = Session(cutoff=7.0, offline=True)
    >>> s.settings.cutoff, s.settings.result_key
    (7.0, (7.0, 3.0, 'structkit'))
    >>> Session.from_settings(s.settings).settings == s.settings
    True
    """

    cache_dir: str
    mirror: str | None
    offline: bool
    cutoff: float
    metal_cutoff: float
    dssp: str
    stability: str
    timeout: tuple[float, float]
    retries: int
    backoff: float
    max_retry_after: float
    max_bytes: int
    deadline: float
    max_redirects: int
    endpoints: object = None  # fetch.Endpoints (service URLs); None: the public services

    @property
    def result_key(self) -> tuple[float, float, str]:
        """(cutoff, metal_cutoff, dssp): the settings that change an analysis."""
        return (self.cutoff, self.metal_cutoff, self.dssp)

    def as_dict(self) -> dict:
        """The settings as a dictionary, field by field (``endpoints`` stays an ``Endpoints``),
        as ``Session(**...)`` takes them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
