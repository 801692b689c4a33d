"""structkit: structural bioinformatics of HER2 (ERBB2) and p53 (TP53) variants.

Positions are UniProt numbering unless a name says ``author``. The main entry points::

    import structkit as sk
    st = sk.load("1N8Z")                          # fetch (cache/mirror/network) and load once
    sk.residue_for(st, "HER2", 579)               # -> chain C, author 557, PRO, mapped by DBREF
    table = sk.impact_table(["ERBB2:p.S310F", "TP53:p.R248Q"])
    sk.summarize(table)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

# ``catalog`` is both a function and the subpackage that defines it. Imported here, the name
# is bound to the function once and for all; left lazy, the first import of the subpackage by
# any other module would rebind ``structkit.catalog`` to the subpackage (Python sets a package
# attribute when it first imports a submodule). The subpackage imports only ``ids`` and the
# standard library (YAML is read on first use).
from .catalog import catalog, load_catalog

# public name -> submodule: loaded on first use, so that ``import structkit`` (and the command
# line's --help) does not load pandas, scipy, gemmi, requests or matplotlib before they are needed
_LAZY = {
    "cohort_tables": "cohort",
    "Fetcher": "fetch", "FetchError": "fetch", "NoSuchEntry": "fetch",
    "NotAvailableOffline": "fetch", "normalize_accession": "ids", "normalize_pdb_id": "ids",
    "impact_table": "impact", "summarize": "impact", "write_table": "impact",
    "secondary_structure": "measure", "Alignment": "msa", "read_alignment": "msa",
    "ChainNumbering": "numbering", "PositionLookup": "numbering", "family_map": "numbering",
    "number_structure": "numbering", "StructureAnalysis": "analysis", "analyze": "analysis",
    "Structure": "structure", "StructureFormatError": "structure", "load": "resolve",
    "read_structure": "structure", "therapy_matrix": "therapy", "UniProtRecord": "uniprot",
    "read_uniprot": "uniprot", "uniprot_record": "uniprot", "ReferenceMismatch": "variants",
    "UnknownGene": "variants", "Variant": "variants", "VariantBatch": "variants",
    "VariantError": "variants", "parse_variant": "variants", "parse_variants": "variants",
    "report": "dossier", "Session": "session", "target_anatomy": "anatomy",
    "known_evidence": "evidence", "hotspots": "evidence", "drug_table": "therapy",
    "kinase_state": "conformation", "construct_changes": "conformation",
    "stability_table": "stability", "Settings": "settings",
}

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .analysis import StructureAnalysis, analyze  # noqa: F401
    from .cohort import cohort_tables  # noqa: F401
    from .fetch import Fetcher, FetchError, NoSuchEntry, NotAvailableOffline  # noqa: F401
    from .impact import impact_table, summarize, write_table  # noqa: F401
    from .numbering import PositionLookup, number_structure  # noqa: F401
    from .resolve import load  # noqa: F401
    from .structure import Structure  # noqa: F401
    from .therapy import therapy_matrix  # noqa: F401
    from .variants import Variant, VariantBatch, parse_variants  # noqa: F401


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'structkit' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def residue_for(structure: Structure | str, gene_or_accession: str, position: int,
                fetcher: Fetcher | None = None) -> list[PositionLookup]:
    """Where UniProt ``position`` of a gene lies in each of the structure's chains of that protein.

    Returns one ``PositionLookup`` per chain: status (mapped / unobserved / not covered),
    author number and insertion code, residue name, mapping method, and whether the residue
    matches UniProt.
    """
    from .catalog import catalog
    from .numbering import number_structure
    from .resolve import load
    from .structure import Structure
    from .uniprot import uniprot_record

    st = structure if isinstance(structure, Structure) else load(structure, fetcher=fetcher)
    acc = catalog().target(gene_or_accession).accession
    seq = uniprot_record(acc, fetcher).sequence
    entry = catalog().find(st.id)
    same = entry is not None and entry.target == acc
    chains = (list(entry.target_chains) or None) if same else None
    return [n.lookup(position) for n in number_structure(st, acc, seq, chains).values()]


__all__ = [
    "__version__", "catalog", "load_catalog", "Fetcher", "FetchError", "NoSuchEntry",
    "NotAvailableOffline", "normalize_accession", "normalize_pdb_id", "impact_table", "summarize",
    "write_table", "ChainNumbering", "PositionLookup", "family_map", "number_structure",
    "StructureAnalysis", "analyze", "Structure", "StructureFormatError", "load", "read_structure",
    "UniProtRecord", "read_uniprot", "uniprot_record", "ReferenceMismatch", "Variant",
    "VariantBatch", "VariantError", "parse_variant", "parse_variants", "residue_for",
    "secondary_structure", "Alignment", "read_alignment", "therapy_matrix", "cohort_tables",
    "UnknownGene", "report", "Session", "target_anatomy", "known_evidence", "hotspots",
    "drug_table", "kinase_state", "construct_changes", "stability_table", "Settings",
]
