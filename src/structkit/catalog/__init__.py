"""The curated catalog: targets (genes, accessions, aliases) and structures with their partners.

Read from ``catalog.yaml`` shipped with the package; ``load_catalog(path)`` reads another file
of the same shape, so adding a target or a structure is a data change, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

from ..ids import normalize_accession, normalize_pdb_id

__all__ = ["Catalog", "Target", "Partner", "CatalogStructure", "load_catalog", "catalog"]

PARTNER_KINDS = ("antibody", "ligand", "dna", "metal")


@dataclass(frozen=True)
class Target:
    gene: str
    accession: str
    aliases: tuple[str, ...] = ()
    name: str = ""
    family_reference: str | None = None
    regions: tuple[dict, ...] = ()
    msa: dict | None = None  # {name, query, kind: homologs|family}: the alignment under msa/
    role: dict | None = None  # {kind: oncogene | tumour suppressor, class, questions, citation}
    anatomy: dict | None = None  # {kinase_domain, elements: [{name, start, end, ref, family}]}

    @property
    def role_kind(self) -> str:
        """'oncogene', 'tumour suppressor' or '' (no role in the catalog)."""
        return str((self.role or {}).get("kind", ""))


@dataclass(frozen=True)
class Partner:
    """A binding partner of the target in one structure."""

    kind: str  # antibody | ligand | dna | metal
    name: str
    drug: str | None = None
    chains: tuple[str, ...] = ()  # antibody heavy+light, DNA chains
    heavy: str | None = None
    light: str | None = None
    binds: str | None = None  # the target chain an antibody binds
    comp_ids: tuple[str, ...] = ()  # ligand chemical component IDs (empty: any non-additive)
    element: str | None = None  # metal element symbol


@dataclass(frozen=True)
class CatalogStructure:
    id: str  # PDB ID or AF-<accession>
    target: str  # UniProt accession
    target_chains: tuple[str, ...]
    partners: tuple[Partner, ...] = ()
    shows: str = ""
    assembly: int | None = None
    family_reference: bool = False
    notes: str = ""

    @property
    def is_alphafold(self) -> bool:
        return self.id.startswith("AF-")


@dataclass
class Catalog:
    targets: list[Target]
    structures: list[CatalogStructure]
    seed_panel: list[dict] = field(default_factory=list)
    # drug -> therapies built on it that share its binding site (antibody-drug conjugates)
    shares_site: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def _by_name(self) -> dict[str, Target]:
        """Every gene, accession and alias (upper case) -> its target; the first target wins."""
        out: dict[str, Target] = {}
        for t in self.targets:
            for name in (t.gene, t.accession, *t.aliases):
                out.setdefault(name.upper(), t)
        return out

    def target(self, name: str) -> Target:
        """Target by gene, alias or accession (case-insensitive); ``KeyError`` names the choices."""
        t = self._by_name.get(name.strip().upper())
        if t is not None:
            return t
        known = ", ".join(f"{t.gene} ({t.accession})" for t in self.targets)
        raise KeyError(f"unknown gene or accession {name!r}; the catalog knows {known}")

    def structure(self, sid: str) -> CatalogStructure:
        """The catalog entry with this ID; ``KeyError`` if there is none."""
        entry = self.find(sid)
        if entry is None:
            raise KeyError(f"{sid!r} is not in the catalog")
        return entry

    def find(self, sid: str) -> CatalogStructure | None:
        """The catalog entry with this ID, or None."""
        key = sid.strip().upper()
        return next((s for s in self.structures if s.id.upper() == key), None)

    def structures_for(self, accession: str, include_family: bool = False) -> list[CatalogStructure]:
        """Catalog structures of a target, plus its family references when asked."""
        acc = self.target(accession).accession
        out = [s for s in self.structures if s.target == acc]
        fam = self.target(accession).family_reference
        if include_family and fam:
            out += [s for s in self.structures if s.target == fam and s.family_reference]
        return out


def _partner(d: dict, where: str) -> Partner:
    kind = d.get("kind")
    if kind not in PARTNER_KINDS:
        raise ValueError(f"{where}: partner kind {kind!r}, expected one of {PARTNER_KINDS}")
    chains = tuple(d.get("chains") or ())
    if kind == "antibody":
        if not d.get("heavy") or not d.get("light"):
            raise ValueError(f"{where}: antibody partner needs heavy and light chain IDs")
        chains = (d["heavy"], d["light"])
    return Partner(kind=kind, name=d.get("name", kind), drug=d.get("drug"), chains=chains,
                   heavy=d.get("heavy"), light=d.get("light"), binds=d.get("binds"),
                   comp_ids=tuple(str(c) for c in d.get("comp_ids") or ()),
                   element=d.get("element"))


ROLE_KINDS = ("oncogene", "tumour suppressor")


def _role(role: dict | None, where: str) -> dict | None:
    if role is None:
        return None
    if role.get("kind") not in ROLE_KINDS:
        raise ValueError(f"{where}: role kind {role.get('kind')!r}, expected one of {ROLE_KINDS}")
    return dict(role)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalog YAML file (default: the one shipped with structkit)."""
    if path is None:
        text = resources.files(__name__).joinpath("catalog.yaml").read_text(encoding="utf-8")
        where = "structkit/catalog/catalog.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    import yaml  # here, not at module level: `import structkit` stays light

    raw = yaml.safe_load(text)
    targets = [Target(gene=t["gene"], accession=normalize_accession(t["accession"]),
                      aliases=tuple(t.get("aliases") or ()), name=t.get("name", ""),
                      family_reference=t.get("family_reference"),
                      regions=tuple(t.get("regions") or ()), msa=t.get("msa"),
                      role=_role(t.get("role"), f"{where}: target {t.get('gene')}"),
                      anatomy=t.get("anatomy"))
               for t in raw.get("targets", [])]
    known = {t.accession for t in targets}
    structures = []
    for i, s in enumerate(raw.get("structures", [])):
        sid = str(s["id"])
        here = f"{where}: structure {i + 1} ({sid})"
        if sid.upper().startswith("AF-"):
            sid = "AF-" + normalize_accession(sid[3:])
        else:
            sid = normalize_pdb_id(sid)
        acc = normalize_accession(s["target"])
        if acc not in known:
            raise ValueError(f"{here}: target {acc} is not among the catalog's targets")
        structures.append(CatalogStructure(
            id=sid, target=acc, target_chains=tuple(s.get("target_chains") or ()),
            partners=tuple(_partner(p, here) for p in s.get("partners") or ()),
            shows=s.get("shows", ""), assembly=s.get("assembly"),
            family_reference=bool(s.get("family_reference")), notes=s.get("notes", "") or ""))
    return Catalog(targets, structures, list(raw.get("seed_panel") or []),
                   {str(k): list(v) for k, v in (raw.get("shares_site") or {}).items()})


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The built-in catalog (``catalog.yaml`` shipped with structkit, read once per process; it
    is read-only data, the same for every session).

    Examples
    --------
    >>> cat = catalog()
    >>> t = cat.target("HER2")
    >>> t.gene, t.accession, t.family_reference
    ('ERBB2', 'P04626', 'P00533')
    >>> [s.id for s in cat.structures_for("P04637")]
    ['1TSR', '1TUP', '3KMD', '2OCJ', '3KZ8', 'AF-P04637']
    >>> cat.structure("3KZ8").assembly
    1
    """
    return load_catalog()
