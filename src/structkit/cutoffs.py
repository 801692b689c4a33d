"""Distance and burial thresholds shared by sites, damage, impact and the command line.

A light module (no third-party imports) so that ``structkit --help`` can show the defaults
without loading the science stack.
"""

DEFAULT_CUTOFF = 4.0  # A, heavy atom to partner heavy atom: a contact / site membership
DEFAULT_METAL_CUTOFF = 3.0  # A, residue heavy atom to metal ion: coordination
COVALENT_CUTOFF = 2.1  # A, ligand heavy atom to residue heavy atom: a covalent bond
BURIED_RSA = 0.09  # Missense3D: buried if relative solvent accessibility < 9 % (the damage
# features and the table's ``buried`` column)
PLDDT_CONFIDENT = 70.0  # an AlphaFold residue is trusted from this pLDDT (burial, stability)
CORE_RSA = 0.25  # the verdict's "buried in N/M chains" (agreement, mechanism): RSA < 25 %, the
# common core/surface split (e.g. Levy 2010), wider than Missense3D's strict 9 %


def resolve_cutoffs(fetcher, cutoff, metal_cutoff) -> tuple[float, float]:
    """The cut-offs of a call: those given, else the session's (a ``Session(cutoff=7)``
    passed as ``fetcher=`` sets them), else the defaults; each checked by ``check_cutoff``."""
    c = cutoff if cutoff is not None else getattr(fetcher, "cutoff", DEFAULT_CUTOFF)
    m = metal_cutoff if metal_cutoff is not None else getattr(fetcher, "metal_cutoff",
                                                               DEFAULT_METAL_CUTOFF)
    return check_cutoff(c, "cutoff"), check_cutoff(m, "metal_cutoff")


def check_cutoff(value, name: str = "cutoff") -> float:
    """``value`` as a positive finite distance in A, or ``ValueError`` naming the parameter
    (``True`` is not a distance, though Python counts it as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a distance in A, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a distance in A, got {value!r}") from None
    if not (0 < v < float("inf")):  # (also refuses nan)
        raise ValueError(f"{name} must be a positive, finite distance in A, got {value!r}")
    return v
