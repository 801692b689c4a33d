"""structkit: structural bioinformatics of HER2 (ERBB2) and p53 (TP53) variants.

Positions are UniProt numbering unless a name says ``author``. The main entry points::

    import structkit as sk
    st = sk.load("1N8Z")                          # fetch (cache/mirror/network) and load once
    sk.residue_for(st, "HER2", 579)               # -> chain C, author 557, PRO, mapped by DBREF
    table = sk.impact_table(["ERBB2:p.S310F", "TP53:p.R248Q"])
    sk.summarize(table)
"""

__version__ = "0.1.0"

from .catalog import catalog, load_catalog  # noqa: E402
from .cohort import cohort_tables  # noqa: E402
from .fetch import Fetcher, FetchError, NoSuchEntry, NotAvailableOffline  # noqa: E402
from .ids import normalize_accession, normalize_pdb_id  # noqa: E402
from .impact import impact_table, summarize, write_table  # noqa: E402
from .measure import secondary_structure  # noqa: E402
from .msa import Alignment, read_alignment  # noqa: E402
from .numbering import ChainNumbering, PositionLookup, family_map, number_structure  # noqa: E402
from .sites import StructureAnalysis, analyze  # noqa: E402
from .structure import Structure, StructureFormatError, load, read_structure  # noqa: E402
from .therapy import therapy_matrix  # noqa: E402
from .uniprot import UniProtRecord, read_uniprot, uniprot_record  # noqa: E402
from .variants import (  # noqa: E402
    ReferenceMismatch,
    UnknownGene,
    Variant,
    VariantBatch,
    VariantError,
    parse_variant,
    parse_variants,
)


def residue_for(structure: Structure | str, gene_or_accession: str, position: int,
                fetcher: Fetcher | None = None) -> list[PositionLookup]:
    """Where UniProt ``position`` of a gene lies in each of the structure's chains of that protein.

    Returns one ``PositionLookup`` per chain: status (mapped / unobserved / not covered),
    author number and insertion code, residue name, mapping method, and whether the residue
    matches UniProt.
    """
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
    "UnknownGene",
]
