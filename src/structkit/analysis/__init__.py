"""The second floor: what the structures show. Numbering (UniProt position -> residue, one
placement rule), sites computed from the complexes (``sites``), distances, RSA and secondary
structure (``measure``, ``dssp``), kinase anatomy and conformation, damage features, stability
(``stability``, ``mpnn``), the per-structure analysis that caches them (``structure_analysis``)
and the impact table built from them (``table``, with ``placement``, ``rows`` and the column
engine ``columns``). Built on ``structkit.io``; never imports ``judge`` or ``outputs``.

``analyze``, ``StructureAnalysis`` and ``ChainData`` are served from here, as they were when
this was one module, and loaded on first use (this package imports nothing on its own).
"""

from __future__ import annotations

_SERVED = ("analyze", "StructureAnalysis", "ChainData")


def __getattr__(name: str):
    if name in _SERVED:
        from . import structure_analysis

        return getattr(structure_analysis, name)
    raise AttributeError(f"module 'structkit.analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SERVED))
