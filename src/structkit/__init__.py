"""structkit: structural bioinformatics of HER2 (ERBB2) and p53 (TP53) variants.

Positions are UniProt numbering unless a name says ``author``. The main entry points::

    import structkit as sk
    st = sk.load("1N8Z")                          # fetch (cache/mirror/network) and load once
    sk.residue_for(st, "HER2", 579)               # -> chain C, author 557, PRO, mapped by DBREF
    table = sk.impact_table(["ERBB2:p.S310F", "TP53:p.R248Q"])
    sk.summarize(table)
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

# ``catalog`` is both a function and the subpackage that defines it. Imported here, the name
# is bound to the function once and for all; left lazy, the first import of the subpackage by
# any other module would rebind ``structkit.catalog`` to the subpackage (Python sets a package
# attribute when it first imports a submodule). The subpackage imports only ``ids`` and the
# standard library (YAML is read on first use).
from .catalog import catalog, load_catalog

# public name -> module: loaded on first use, so that ``import structkit`` (and the command
# line's --help) does not load pandas, scipy, gemmi, requests or matplotlib before they are needed
_LAZY = {
    "Fetcher": "io.fetch", "FetchError": "io.fetch", "NoSuchEntry": "io.fetch",
    "NotAvailableOffline": "io.fetch", "normalize_accession": "io.ids",
    "normalize_pdb_id": "io.ids", "Alignment": "io.msa", "read_alignment": "io.msa",
    "Structure": "io.structure", "StructureFormatError": "io.structure",
    "read_structure": "io.structure", "load": "io.resolve", "UniProtRecord": "io.uniprot",
    "read_uniprot": "io.uniprot", "uniprot_record": "io.uniprot",
    "ReferenceMismatch": "io.variants", "UnknownGene": "io.variants", "Variant": "io.variants",
    "VariantBatch": "io.variants", "VariantError": "io.variants", "parse_variant": "io.variants",
    "parse_variants": "io.variants", "known_evidence": "io.evidence", "hotspots": "io.evidence",
    "secondary_structure": "analysis.measure", "ChainNumbering": "analysis.numbering",
    "PositionLookup": "analysis.numbering", "family_map": "analysis.numbering",
    "number_structure": "analysis.numbering", "StructureAnalysis": "analysis.structure_analysis",
    "analyze": "analysis.structure_analysis", "target_anatomy": "analysis.anatomy",
    "kinase_state": "analysis.conformation", "construct_changes": "analysis.conformation",
    "stability_table": "analysis.stability", "therapy_matrix": "judge.therapy",
    "drug_table": "judge.therapy", "impact_table": "outputs.impact",
    "summarize": "outputs.impact", "write_table": "outputs.impact",
    "cohort_tables": "outputs.cohort", "report": "outputs.report", "Session": "session",
    "Settings": "settings",
}

# Where the modules of the one-folder layout (before 0.x) now live: ``import structkit.fetch``,
# ``from structkit.view import show`` and ``structkit.dossier`` keep working and give the same
# module object as the new path (so a monkeypatch through either name is seen by both).
_MOVED = {
    "ids": "io.ids", "files": "io.files", "integrity": "io.integrity",
    "transport": "io.transport", "fetch": "io.fetch", "derived": "io.derived",
    "structure": "io.structure", "resolve": "io.resolve", "uniprot": "io.uniprot",
    "msa": "io.msa", "variants": "io.variants", "inputs": "io.inputs", "evidence": "io.evidence",
    "numbering": "analysis.numbering", "neighbours": "analysis.neighbours",
    "sites": "analysis.sites", "measure": "analysis.measure", "dssp": "analysis.dssp",
    "anatomy": "analysis.anatomy", "conformation": "analysis.conformation",
    "damage": "analysis.damage", "stability": "analysis.stability", "mpnn": "analysis.mpnn",
    "rows": "analysis.rows", "columns": "analysis.columns", "placement": "analysis.placement",
    "table": "analysis.table", "verdict": "judge.verdict", "summary": "judge.summary",
    "therapy": "judge.therapy", "grouping": "judge.grouping", "tables": "outputs.writers",
    "impact": "outputs.impact", "cohort": "outputs.cohort", "plots": "outputs.plots",
    "view": "outputs.view", "browser": "outputs.browser", "dossier": "outputs.report",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``structkit.<old name>`` (``_MOVED``) as the module at its new path."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, old = fullname.partition(".")
        if head == __name__ and old in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def __init__(self) -> None:
        self._specs: dict[str, object] = {}  # old name -> the module's own spec

    def create_module(self, spec):
        module = import_module(f".{_MOVED[spec.name.partition('.')[2]]}", __name__)
        self._specs[spec.name] = module.__spec__  # the import system sets __spec__ on it next
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = self._specs.pop(module.__spec__.name)  # the new path's spec back


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .analysis.numbering import PositionLookup, number_structure  # noqa: F401
    from .analysis.structure_analysis import StructureAnalysis, analyze  # noqa: F401
    from .io.fetch import Fetcher, FetchError, NoSuchEntry, NotAvailableOffline  # noqa: F401
    from .io.resolve import load  # noqa: F401
    from .io.structure import Structure  # noqa: F401
    from .io.variants import Variant, VariantBatch, parse_variants  # noqa: F401
    from .judge.therapy import therapy_matrix  # noqa: F401
    from .outputs.cohort import cohort_tables  # noqa: F401
    from .outputs.impact import impact_table, summarize, write_table  # noqa: F401


def __getattr__(name: str):
    if name in _MOVED:  # structkit.fetch, structkit.view, ... (the old module paths)
        return import_module(f".{name}", __name__)
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
    from .analysis.numbering import number_structure
    from .catalog import catalog
    from .io.resolve import load
    from .io.structure import Structure
    from .io.uniprot import uniprot_record

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
