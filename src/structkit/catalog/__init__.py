"""The curated catalog: targets (genes, accessions, aliases) and structures with their partners.

Read from ``catalog.yaml`` shipped with the package; ``load_catalog(path)`` reads another file
of the same shape, so adding a target or a structure is a data change, not a code change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

from ..io.ids import normalize_accession, normalize_pdb_id

__all__ = ["Catalog", "Target", "Partner", "CatalogStructure", "Drug", "load_catalog", "catalog",
           "DRUG_STATUSES", "MODALITIES"]

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


DRUG_STATUSES = ("approved", "investigational", "research compound")
MODALITIES = ("reversible ATP-site TKI", "covalent TKI", "monoclonal antibody",
              "antibody-drug conjugate", "bispecific antibody")


@dataclass(frozen=True)
class Drug:
    """One therapy of the variant x therapy matrix (the catalog's ``drugs``)."""

    name: str
    status: str  # approved | investigational | research compound
    modality: str
    targets: tuple[str, ...]  # genes
    binds: tuple[str, ...]  # anatomy elements holding the drug's site
    synonyms: tuple[str, ...] = ()
    approval: str = ""
    cysteine: tuple[tuple[str, int], ...] = ()  # (gene, UniProt position) of the bonded Cys
    antibody: str = ""
    payload: str = ""
    structure_of: str = ""  # the partner drug whose complexes stand for this one
    proxy_for: str = ""
    note: str = ""
    civic: tuple[str, ...] = ()

    @property
    def covalent(self) -> bool:
        return self.modality == "covalent TKI"

    @property
    def is_antibody(self) -> bool:
        return "antibod" in self.modality

    def cys(self, gene: str) -> int | None:
        """The bonded Cys of a covalent drug in ``gene`` (UniProt numbering), or None."""
        return dict(self.cysteine).get(gene)

    @property
    def partner_name(self) -> str:
        """The catalog partner (``drug`` of a structure's partner) that shows this drug."""
        return self.structure_of or self.name


@dataclass
class Catalog:
    targets: list[Target]
    structures: list[CatalogStructure]
    seed_panel: list[dict] = field(default_factory=list)
    drugs: list[Drug] = field(default_factory=list)

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

    def drug(self, name: str) -> Drug:
        """A drug by name or synonym (case-insensitive); ``KeyError`` names the choices."""
        key = name.strip().lower()
        for d in self.drugs:
            if key == d.name.lower() or key in (x.lower() for x in d.synonyms):
                return d
        raise KeyError(f"unknown drug {name!r}; the catalog knows "
                       + ", ".join(d.name for d in self.drugs))

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

    # libyaml's C parser when PyYAML has it (the shipped catalog in 7 ms instead of 60 ms);
    # the same safe loader either way
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
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
    genes = {t.gene for t in targets}
    partner_drugs = {p.drug for s in structures for p in s.partners if p.drug}
    drugs = [_drug(d, f"{where}: drug {i + 1} ({d.get('name')})", genes, partner_drugs)
             for i, d in enumerate(raw.get("drugs") or [])]
    return Catalog(targets, structures, list(raw.get("seed_panel") or []), drugs)


def _drug(d: dict, where: str, genes: set, partner_drugs: set) -> Drug:
    if not d.get("name"):
        raise ValueError(f"{where}: a drug needs a name")
    if d.get("status") not in DRUG_STATUSES:
        raise ValueError(f"{where}: status {d.get('status')!r}, expected one of {DRUG_STATUSES}")
    if d.get("modality") not in MODALITIES:
        raise ValueError(f"{where}: modality {d.get('modality')!r}, expected one of {MODALITIES}")
    targets = tuple(str(g) for g in d.get("targets") or ())
    if not targets or not set(targets) <= genes:
        raise ValueError(f"{where}: targets {list(targets)} must be genes of the catalog ({sorted(genes)})")
    cys = tuple((str(g), int(p)) for g, p in (d.get("cysteine") or {}).items())
    if (d["modality"] == "covalent TKI") != bool(cys):
        raise ValueError(f"{where}: a covalent TKI, and only one, names its cysteine per gene")
    so = str(d.get("structure_of") or "")
    if so and so not in partner_drugs:
        raise ValueError(f"{where}: structure_of {so!r} is no partner drug of a catalog structure")
    return Drug(name=str(d["name"]), status=d["status"], modality=d["modality"], targets=targets,
                binds=tuple(d.get("binds") or ()), synonyms=tuple(str(x) for x in d.get("synonyms") or ()),
                approval=str(d.get("approval") or ""), cysteine=cys, antibody=str(d.get("antibody") or ""),
                payload=str(d.get("payload") or ""), structure_of=so,
                proxy_for=str(d.get("proxy_for") or ""), note=str(d.get("note") or ""),
                civic=tuple(str(x) for x in d.get("civic") or ()))


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
