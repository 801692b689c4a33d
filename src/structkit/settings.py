"""Names of the settings a session carries besides files and cut-offs, and their checks. A light
module (standard library only) below ``fetch``, ``measure``, ``stability`` and ``table``."""

from __future__ import annotations

__all__ = ["DSSP_METHOD_NAMES", "STABILITY_MODES", "check_dssp_method", "check_stability_mode"]

DSSP_METHOD_NAMES = ("structkit", "mkdssp", "pydssp")  # structkit.measure.secondary_structure
STABILITY_MODES = ("auto", "shipped", "off")  # structkit.table.impact_table


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
