"""Load PDB and mmCIF files (plain or gzipped) into one array-based representation.

Atoms are held as flat numpy arrays (one per annotation, biotite-style) for every model;
hydrogens are dropped and, where a residue has alternate locations, the first conformer
(gemmi's rule, normally the highest-occupancy one) is kept and the count is recorded in
``Structure.notes``. Parsing is done by gemmi; header records gemmi does not expose
(DBREF/SEQADV, ``_struct_ref_seq``/``_struct_ref_seq_dif``) are read here.

Legacy PDB files whose columns 73-80 carry the entry ID and a line number (pre-2007 files such
as 1TSR) are read: those columns are ignored when they hold no valid element/charge, and
elements are then inferred from atom names.

Size: the two formats' readers (PDB records with their sanitiser and header records, mmCIF
categories) and the one array representation they fill; the cache of parsed files is the tail.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .derived import cached, entry_key

if TYPE_CHECKING:
    import gemmi

__all__ = [
    "Structure",
    "ChainRef",
    "SeqDif",
    "StructureFormatError",
    "read_structure",
    "ADDITIVES",
]

# Crystallisation additives and buffers that are never binding partners unless asked for.
ADDITIVES = frozenset(
    "SO4 GOL EDO PO4 PEG PG4 PGE 1PE P6G ACT ACY DMS MPD MES EPE TRS CIT FMT BME IMD NO3 "
    "IPA EOH MOH SCN AZI BU3 TAR MLI SIN FLC PE4 2PE 12P 15P CXS HEZ NH4 UNX UNL".split()
)
_ION_ELEMENTS = frozenset(
    "ZN MG CA NA K CL BR I IOD MN FE CO NI CU CD HG SR BA CS RB LI F YB SM GD PT AU AG PB".split()
)


_LEGACY_NUCLEOTIDES = frozenset({"A", "C", "G", "T", "U", "DA", "DC", "DG", "DT", "DU"})


class StructureFormatError(ValueError):
    """A structure file could not be read; the message names the file, the line and the problem."""


@dataclass(frozen=True)
class ChainRef:
    """A reference-database segment of a chain (PDB DBREF / mmCIF ``_struct_ref_seq``).

    ``auth_begin``/``auth_end`` are author residue numbers (with insertion codes), ``db_begin``/
    ``db_end`` positions in the database sequence (UniProt numbering for ``UNP``/``SWS``).
    """

    chain: str
    database: str
    accession: str
    auth_begin: int
    auth_begin_icode: str
    auth_end: int
    auth_end_icode: str
    db_begin: int
    db_end: int


@dataclass(frozen=True)
class SeqDif:
    """A difference between the construct and the reference (SEQADV / ``_struct_ref_seq_dif``)."""

    chain: str
    res_name: str
    auth_seq: int | None
    icode: str
    accession: str
    db_res_name: str
    db_seq: int | None
    details: str


@dataclass
class Structure:
    """One loaded entry: atom arrays for all models plus entry metadata.

    Atom arrays (length n_atoms): ``coord`` (n, 3) in Angstrom, ``model`` (1-based), ``chain``
    (author chain ID), ``res_seq`` (author residue number), ``icode`` (insertion code, '' if
    none), ``res_name``, ``atom_name``, ``element``, ``b_factor``, ``occupancy``, ``kind``
    (protein, dna, rna, water, ion, glycan, additive, ligand) and ``res_index`` (index into the
    residue arrays). Residue arrays (length n_residues): ``res_model``, ``res_chain``,
    ``res_num``, ``res_icode``, ``res_resname``, ``res_kind``, ``res_start``/``res_stop``
    (atom slice).
    """

    id: str
    path: str
    title: str
    method: str | None
    resolution: float | None
    n_models: int
    is_assembly: bool
    is_alphafold: bool
    coord: np.ndarray
    model: np.ndarray
    chain: np.ndarray
    res_seq: np.ndarray
    icode: np.ndarray
    res_name: np.ndarray
    atom_name: np.ndarray
    element: np.ndarray
    b_factor: np.ndarray
    occupancy: np.ndarray
    kind: np.ndarray
    res_index: np.ndarray
    res_model: np.ndarray
    res_chain: np.ndarray
    res_num: np.ndarray
    res_icode: np.ndarray
    res_resname: np.ndarray
    res_kind: np.ndarray
    res_start: np.ndarray
    res_stop: np.ndarray
    seqres: dict[str, list[str]] = field(default_factory=dict)
    refs: list[ChainRef] = field(default_factory=list)
    seqdifs: list[SeqDif] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    citation: str = ""  # the primary citation the file carries (JRNL, _citation 'primary')
    user_file: bool = False  # read from a path the user gave (not fetched by ID): analysed by content

    @property
    def n_atoms(self) -> int:
        return len(self.coord)

    def chains(self, model: int = 1, kind: str | None = None) -> list[str]:
        """Author chain IDs in ``model`` (in file order), optionally only those with ``kind`` residues."""
        sel = self.res_model == model
        if kind is not None:
            sel &= self.res_kind == kind
        seen: dict[str, None] = {}
        for c in self.res_chain[sel]:
            seen.setdefault(str(c), None)
        return list(seen)

    def residues_of(self, chain: str, model: int = 1, kind: str = "protein") -> np.ndarray:
        """Residue indices of ``chain`` in ``model`` whose kind is ``kind`` (file order)."""
        return np.flatnonzero((self.res_chain == chain) & (self.res_model == model)
                              & (self.res_kind == kind))

    def atoms_of(self, res_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(atom indices of the residues ``res_idx`` in order, position in ``res_idx`` of each)."""
        res_idx = np.asarray(res_idx, dtype=np.int64)
        starts, counts = self.res_start[res_idx], self.res_stop[res_idx] - self.res_start[res_idx]
        owner = np.repeat(np.arange(len(res_idx)), counts)
        offset = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
        return np.repeat(starts, counts) + offset, owner

    def sequence(self, chain: str, model: int = 1) -> str:
        """One-letter sequence of the observed protein residues of a chain (modified -> parent)."""
        return "".join(one_letter(str(n)) for n in self.res_resname[self.residues_of(chain, model)])

    def refs_for(self, chain: str) -> list[ChainRef]:
        return [r for r in self.refs if r.chain == chain]

    @property
    def bfactor_label(self) -> str:
        """``'pLDDT'`` for AlphaFold models (B-factor column holds pLDDT), else ``'B-factor'``."""
        return "pLDDT" if self.is_alphafold else "B-factor"

    def __repr__(self) -> str:
        return (f"<Structure {self.id} {self.method or ''} "
                f"{'' if self.resolution is None else f'{self.resolution:.2f} A '}"
                f"{self.n_models} model(s), {len(self.res_num)} residues, {self.n_atoms} atoms>")


_STANDARD_ONE_LETTER = dict(zip(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL".split(),
    "ARNDCQEGHILKMFPSTWYV", strict=True))  # IUPAC-IUB 1983; what gemmi's table gives them


def one_letter(res_name: str) -> str:
    """One-letter code of an amino-acid residue name; modified residues give their parent
    (gemmi's residue table; the 20 standard names without loading gemmi)."""
    code = _STANDARD_ONE_LETTER.get(res_name)
    if code is not None:
        return code
    import gemmi  # parsing, and non-standard names (MSE -> M, TPO -> T)

    info = gemmi.find_tabulated_residue(res_name)
    if info is None or not info.is_amino_acid():
        return "X"
    code = info.one_letter_code.upper()
    return code if code.isalpha() and code != " " else "X"


# ------------------------------------------------------------------------------ reading text

_VALID_CHARGE = re.compile(r"(  |[0-9][+-]|[+-][0-9])\Z")
_VALID_ELEMENT = re.compile(r"( [A-Za-z]|[A-Za-z]{2}|  )\Z")


MAX_STRUCTURE_BYTES = 1 << 30  # 1 GiB of text, inflated: the largest PDB entries are ~0.5 GiB


def _read_text(path: Path) -> str:
    from .integrity import IntegrityError, gunzip_if_needed

    raw = path.read_bytes()
    try:
        raw = gunzip_if_needed(raw, str(path), MAX_STRUCTURE_BYTES)
    except IntegrityError as exc:
        raise StructureFormatError(str(exc)) from None
    return raw.decode("latin-1")


def _sanitize_pdb(text: str, notes: list[str], path: Path) -> str:
    """Blank columns 73-80 of coordinate records where they hold no valid element/charge.

    Raises ``StructureFormatError`` naming the first coordinate record whose columns 31-54
    are not three numbers.
    """
    lines = text.splitlines()
    fixed = 0
    for i, line in enumerate(lines):
        if line.startswith(("ATOM  ", "HETATM")):
            try:
                float(line[30:38]), float(line[38:46]), float(line[46:54])
            except ValueError:
                raise StructureFormatError(
                    f"{path}: line {i + 1}: {line[:6].strip()} record has coordinates "
                    f"{line[30:54]!r} in columns 31-54; expected three numbers (8.3f each)") from None
            if len(line) > 72:
                tail = line[76:80].ljust(4)
                if not (_VALID_ELEMENT.match(tail[:2]) and _VALID_CHARGE.match(tail[2:4])):
                    lines[i] = line[:72]
                    fixed += 1
    if not fixed:
        return text
    notes.append(f"{fixed} coordinate records carry legacy text in columns 73-80 "
                 "(entry ID / line number); ignored, elements taken from atom names")
    return "\n".join(lines) + "\n"


def _pdb_header_records(text: str, path: Path) -> tuple[list[ChainRef], list[SeqDif], dict]:
    refs: list[ChainRef] = []
    difs: list[SeqDif] = []
    info: dict = {"title": [], "id": None, "method": None}
    jrnl: dict[str, list[str]] = {}
    pending_dbref1: dict[str, tuple] = {}

    def num(s: str, lineno: int, what: str) -> int:
        try:
            return int(s)
        except ValueError:
            raise StructureFormatError(
                f"{path}: line {lineno}: {what} {s!r} is not an integer") from None

    for n, line in enumerate(text.splitlines(), start=1):
        rec = line[:6]
        if rec == "HEADER":
            code = line[62:66].strip()
            info["id"] = code or None
        elif rec == "TITLE ":
            info["title"].append(line[10:72].rstrip() if len(line) > 72 else line[10:].rstrip())
        elif rec == "EXPDTA":
            info["method"] = (line[10:72] if len(line) > 72 else line[10:]).strip() or None
        elif rec == "JRNL  ":
            jrnl.setdefault(line[12:16].strip(), []).append(line[19:79].strip())
        elif rec == "DBREF ":
            refs.append(ChainRef(
                chain=line[12].strip(), database=line[26:32].strip(),
                accession=line[33:41].strip(),
                auth_begin=num(line[14:18], n, "DBREF seqBegin"), auth_begin_icode=line[18].strip(),
                auth_end=num(line[20:24], n, "DBREF seqEnd"), auth_end_icode=line[24].strip(),
                db_begin=num(line[55:60], n, "DBREF dbseqBegin"),
                db_end=num(line[62:67], n, "DBREF dbseqEnd")))
        elif rec == "DBREF1":
            pending_dbref1[line[12]] = (num(line[14:18], n, "DBREF1 seqBegin"), line[18].strip(),
                                        num(line[20:24], n, "DBREF1 seqEnd"), line[24].strip(),
                                        line[26:32].strip())
        elif rec == "DBREF2":
            ch = line[12]
            if ch not in pending_dbref1:
                raise StructureFormatError(f"{path}: line {n}: DBREF2 for chain {ch} without DBREF1")
            b, bi, e, ei, db = pending_dbref1.pop(ch)
            refs.append(ChainRef(ch.strip(), db, line[18:40].strip(), b, bi, e, ei,
                                 num(line[45:55], n, "DBREF2 seqBegin"),
                                 num(line[57:67], n, "DBREF2 seqEnd")))
        elif rec == "SEQADV":
            seq = line[18:22].strip()
            dbs = line[43:48].strip()
            difs.append(SeqDif(
                chain=line[16].strip(), res_name=line[12:15].strip(),
                auth_seq=int(seq) if seq.lstrip("-").isdigit() else None, icode=line[22].strip(),
                accession=line[29:38].strip(), db_res_name=line[39:42].strip(),
                db_seq=int(dbs) if dbs.lstrip("-").isdigit() else None,
                details=line[49:70].strip()))
    info["citation"] = _jrnl_citation(jrnl)
    return refs, difs, info


def _jrnl_citation(fields: dict[str, list[str]]) -> str:
    """'authors. title. reference. doi:...' from the PDB JRNL records ('' without them)."""
    if not fields:
        return ""
    auth = re.sub(r",(?=\S)", ", ", "".join(fields.get("AUTH", [])))
    title = re.sub(r"\s+", " ", " ".join(fields.get("TITL", []))).strip()
    ref = re.sub(r"\s+", " ", " ".join(fields.get("REF", []))).strip()
    doi = " ".join(fields.get("DOI", [])).strip()
    out = ". ".join(x for x in (auth, title, ref) if x)
    return out + (f". doi:{doi}" if doi else "")


def _cif_citation(block: gemmi.cif.Block) -> str:
    """'title. journal. year. doi' of the mmCIF ``_citation`` row with id 'primary' ('' if none)."""
    import gemmi

    t = block.find("_citation.", ["id", "title", "journal_abbrev", "year", "pdbx_database_id_DOI"])
    for row in t:
        if row[0] == "primary":
            parts = [gemmi.cif.as_string(row[i]) for i in range(1, 5)]
            return ". ".join(x for x in parts if x and x not in ("?", "."))
    return ""


def _cif_header_records(block: gemmi.cif.Block) -> tuple[list[ChainRef], list[SeqDif], dict]:
    import gemmi

    def table(cat: str, cols: list[str]) -> list[dict]:
        t = block.find_mmcif_category(cat)
        if not t:
            return []
        tags = [tg[len(cat):] for tg in t.tags]
        idx = {c: tags.index(c) for c in cols if c in tags}
        return [{c: (row[idx[c]] if c in idx else None) for c in cols} for row in t]

    def clean(v: str | None) -> str:
        return "" if v in (None, "?", ".") else gemmi.cif.as_string(v)

    def to_int(v: str | None) -> int | None:
        s = clean(v)
        return int(s) if s.lstrip("-").isdigit() else None

    dbs = {clean(r["id"]): clean(r["db_name"]) for r in table("_struct_ref.", ["id", "db_name"])}
    refs = []
    for r in table("_struct_ref_seq.", ["ref_id", "pdbx_strand_id", "pdbx_db_accession",
                                        "pdbx_auth_seq_align_beg", "pdbx_seq_align_beg_ins_code",
                                        "pdbx_auth_seq_align_end", "pdbx_seq_align_end_ins_code",
                                        "db_align_beg", "db_align_end"]):
        ab, ae = to_int(r["pdbx_auth_seq_align_beg"]), to_int(r["pdbx_auth_seq_align_end"])
        db_b, db_e = to_int(r["db_align_beg"]), to_int(r["db_align_end"])
        if None in (ab, ae, db_b, db_e):
            continue
        refs.append(ChainRef(clean(r["pdbx_strand_id"]), dbs.get(clean(r["ref_id"]), ""),
                             clean(r["pdbx_db_accession"]), ab, clean(r["pdbx_seq_align_beg_ins_code"]),
                             ae, clean(r["pdbx_seq_align_end_ins_code"]), db_b, db_e))
    difs = []
    for r in table("_struct_ref_seq_dif.", ["pdbx_pdb_strand_id", "mon_id", "pdbx_auth_seq_num",
                                            "pdbx_pdb_ins_code", "pdbx_seq_db_accession_code",
                                            "db_mon_id", "pdbx_seq_db_seq_num", "details"]):
        difs.append(SeqDif(clean(r["pdbx_pdb_strand_id"]), clean(r["mon_id"]),
                           to_int(r["pdbx_auth_seq_num"]), clean(r["pdbx_pdb_ins_code"]),
                           clean(r["pdbx_seq_db_accession_code"]), clean(r["db_mon_id"]),
                           to_int(r["pdbx_seq_db_seq_num"]), clean(r["details"]).upper()))
    title = clean(block.find_value("_struct.title"))
    method = clean(block.find_value("_exptl.method"))
    return refs, difs, {"title": [title] if title else [], "id": block.name,
                        "method": method or None, "citation": _cif_citation(block)}


# ------------------------------------------------------------------------------------ loader


def _residue_kind(res: gemmi.Residue, polymer_chain_types: dict, chain: str) -> str:
    import gemmi

    name = res.name
    info = gemmi.find_tabulated_residue(name)
    if res.is_water():
        return "water"
    if info is not None and info.is_amino_acid() and res.entity_type == gemmi.EntityType.Polymer:
        return "protein"
    if (info is not None and info.is_nucleic_acid()) or name in _LEGACY_NUCLEOTIDES:
        # legacy files name DNA residues A/C/G/T: DNA is the nucleotide without a 2'-oxygen
        return "rna" if any(a.name in ("O2'", "O2*") for a in res) else "dna"
    heavy = [a for a in res if a.element != gemmi.Element("H")]
    if len(heavy) == 1 and (heavy[0].element.name.upper() in _ION_ELEMENTS or name in _ION_ELEMENTS):
        return "ion"
    if name in ADDITIVES or (info is not None and info.kind == gemmi.ResidueKind.BUF):
        return "additive"
    if info is not None and info.kind in (gemmi.ResidueKind.PYR, gemmi.ResidueKind.KET):
        return "glycan"
    if info is not None and info.is_amino_acid():
        return "protein" if polymer_chain_types.get(chain) == "protein" else "ligand"
    return "ligand"


def _parse(p: Path, text: str, notes: list[str]):
    """(gemmi structure, reference records, SEQADV records, header info) of a file's text,
    PDB or mmCIF by its content; ``StructureFormatError`` naming the file otherwise."""
    import gemmi

    stripped = text.lstrip()
    is_cif = stripped.startswith("data_") or stripped.startswith("#")
    try:
        if is_cif:
            doc = gemmi.cif.read_string(text)
            block = doc.sole_block()
            refs, difs, info = _cif_header_records(block)
            return gemmi.make_structure_from_block(block), refs, difs, info
        if not re.search(r"^(ATOM  |HETATM)", text, re.MULTILINE):
            raise StructureFormatError(
                f"{p}: no ATOM or HETATM records and no mmCIF data_ line; expected a PDB or "
                "mmCIF coordinate file")
        clean = _sanitize_pdb(text, notes, p)
        refs, difs, info = _pdb_header_records(clean, p)
        return gemmi.read_pdb_string(clean), refs, difs, info
    except StructureFormatError:
        raise
    except (RuntimeError, ValueError) as exc:
        raise StructureFormatError(f"{p}: {exc}") from exc


def _polymers(st) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Chain -> polymer type (protein or nucleic) from the entities (for modified residues and
    odd ligands), and chain -> SEQRES residue names, of model 1."""
    import gemmi

    ptypes: dict[str, str] = {}
    seqres: dict[str, list[str]] = {}
    for ch in st[0]:
        poly = ch.get_polymer()
        if len(poly):
            ent = st.get_entity_of(poly)
            kind = "protein" if poly.check_polymer_type() in (
                gemmi.PolymerType.PeptideL, gemmi.PolymerType.PeptideD) else "nucleic"
            ptypes[ch.name] = kind
            if ent is not None and ent.full_sequence:
                seqres[ch.name] = [gemmi.Entity.first_mon(s) for s in ent.full_sequence]
    return ptypes, seqres


def _columns(st, ptypes: dict[str, str]) -> tuple[dict[str, list], dict[str, list]]:
    """Atom columns and residue columns of every model, in file order (empty residues left
    out)."""
    cols: dict[str, list] = {k: [] for k in (
        "coord", "model", "chain", "res_seq", "icode", "res_name", "atom_name", "element",
        "b", "occ", "kind", "res_index")}
    rcols: dict[str, list] = {k: [] for k in (
        "model", "chain", "num", "icode", "name", "kind", "start", "stop")}
    ri = 0
    for mi, model in enumerate(st, start=1):
        for ch in model:
            for res in ch:
                if len(res) == 0:
                    continue
                kind = _residue_kind(res, ptypes, ch.name)
                start = len(cols["coord"])
                ic = res.seqid.icode.strip()
                for a in res:
                    cols["coord"].append(a.pos.tolist())
                    cols["atom_name"].append(a.name)
                    cols["element"].append(a.element.name.upper())
                    cols["b"].append(a.b_iso)
                    cols["occ"].append(a.occ)
                n = len(res)
                cols["model"] += [mi] * n
                cols["chain"] += [ch.name] * n
                cols["res_seq"] += [res.seqid.num] * n
                cols["icode"] += [ic] * n
                cols["res_name"] += [res.name] * n
                cols["kind"] += [kind] * n
                cols["res_index"] += [ri] * n
                rcols["model"].append(mi)
                rcols["chain"].append(ch.name)
                rcols["num"].append(res.seqid.num)
                rcols["icode"].append(ic)
                rcols["name"].append(res.name)
                rcols["kind"].append(kind)
                rcols["start"].append(start)
                rcols["stop"].append(start + n)
                ri += 1
    return cols, rcols


def read_structure(path: str | os.PathLike, entry_id: str | None = None,
                   is_alphafold: bool | None = None) -> Structure:
    """Read a PDB (``.pdb``, ``.ent``, ``.pdbN`` assembly) or mmCIF file, plain or gzipped.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Its format is read from the content, not the suffix.
    entry_id : str, optional
        The ID to give the structure (default: the file's own ID, else its name).
    is_alphafold : bool, optional
        Whether B-factors are pLDDT (default: detected from the file).

    Returns
    -------
    Structure
        Atoms of every model; hydrogens dropped, first alternate location kept.

    Raises
    ------
    StructureFormatError
        Naming the file (and the line, for PDB coordinate records) when it cannot be understood.

    Examples
    --------
    1TSR in the mirror is a legacy PDB file cut to p53 chain B and its DNA (chains E, F):

    >>> from structkit.io.store import default_session
    >>> st = read_structure(default_session().pdb("1TSR").path)
    >>> st.id, st.resolution, st.chains(kind="protein"), st.chains(kind="dna")
    ('1TSR', 2.2, ['B'], ['E', 'F'])
    >>> i = st.residues_of("B")[st.res_num[st.residues_of("B")] == 248]
    >>> st.res_resname[i].tolist()
    ['ARG']
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"structure file {p} does not exist")
    notes: list[str] = []
    st, refs, difs, info = _parse(p, _read_text(p), notes)
    if len(st) == 0 or st[0].count_atom_sites() == 0:
        raise StructureFormatError(f"{p}: no atoms found; expected ATOM/HETATM or _atom_site records")
    _clean(st, notes)
    name = _entry_name(p, entry_id, info)
    if is_alphafold is None:
        is_alphafold = p.name.upper().startswith("AF-") or "ALPHAFOLD" in " ".join(info["title"]).upper()
    assembly = bool(re.search(r"\.pdb\d+(\.gz)?$|assembly\d", p.name, re.IGNORECASE))
    ptypes, seqres = _polymers(st)
    cols, rcols = _columns(st, ptypes)
    if len(st) > 1:
        notes.append(f"{len(st)} models" + (" (assembly file: models are symmetry copies)"
                                             if assembly else ""))
    return Structure(
        id=name, path=str(p), title=" ".join(t.strip() for t in info["title"]).strip(),
        method=info.get("method"), resolution=st.resolution or None, n_models=len(st),
        is_assembly=assembly, is_alphafold=bool(is_alphafold), citation=info.get("citation", ""),
        seqres=seqres, refs=refs, seqdifs=difs, notes=notes, **_arrays(p, cols, rcols))


def _clean(st, notes: list[str]) -> None:
    """Entities set up; the first conformer kept where atoms have alternate locations (said in
    ``notes``); hydrogens dropped."""
    st.setup_entities()
    n_alt = sum(1 for m in st for ch in m for r in ch if any(a.has_altloc() for a in r))
    if n_alt:
        st.remove_alternative_conformations()
        notes.append(f"{n_alt} residue(s) with alternate locations: kept the first conformer")
    st.remove_hydrogens()


def _entry_name(p: Path, entry_id: str | None, info: dict) -> str:
    """``entry_id``, else the file's own ID, else from the file name (``AF-<accession>`` for an
    AlphaFold model; RCSB assembly files carry XXXX in HEADER)."""
    name = (entry_id or info.get("id") or "").upper()
    if not name or name == "XXXX":
        stem = p.name.split(".")[0]
        m = re.match(r"AF-([A-Z0-9]+)-F\d+", stem, re.IGNORECASE)
        name = f"AF-{m.group(1).upper()}" if m else stem.split("-assembly")[0].upper()
    return name


def _arrays(p: Path, cols: dict, rcols: dict) -> dict:
    """The Structure's per-atom and per-residue arrays from the collected columns; refuses
    non-finite coordinates."""
    xyz = np.asarray(cols["coord"], dtype=np.float64).reshape(-1, 3)
    if not np.isfinite(xyz).all():
        bad = int((~np.isfinite(xyz).all(axis=1)).sum())
        raise StructureFormatError(f"{p}: {bad} atoms have non-finite coordinates (nan/inf)")
    return dict(
        coord=xyz,
        model=np.asarray(cols["model"], dtype=np.int32),
        chain=np.asarray(cols["chain"], dtype=str),  # mmCIF chain names may be long
        res_seq=np.asarray(cols["res_seq"], dtype=np.int32),
        icode=np.asarray(cols["icode"], dtype="U1"),
        res_name=np.asarray(cols["res_name"], dtype="U5"),
        atom_name=np.asarray(cols["atom_name"], dtype="U4"),
        element=np.asarray(cols["element"], dtype="U2"),
        b_factor=np.asarray(cols["b"], dtype=np.float32),
        occupancy=np.asarray(cols["occ"], dtype=np.float32),
        kind=np.asarray(cols["kind"], dtype="U8"),
        res_index=np.asarray(cols["res_index"], dtype=np.int32),
        res_model=np.asarray(rcols["model"], dtype=np.int32),
        res_chain=np.asarray(rcols["chain"], dtype=str),
        res_num=np.asarray(rcols["num"], dtype=np.int32),
        res_icode=np.asarray(rcols["icode"], dtype="U1"),
        res_resname=np.asarray(rcols["name"], dtype="U5"),
        res_kind=np.asarray(rcols["kind"], dtype="U8"),
        res_start=np.asarray(rcols["start"], dtype=np.int64),
        res_stop=np.asarray(rcols["stop"], dtype=np.int64),
    )


_ATOM_ARRAYS = ("coord", "model", "chain", "res_seq", "icode", "res_name", "atom_name", "element",
                "b_factor", "occupancy", "kind", "res_index")
_RES_ARRAYS = ("res_model", "res_chain", "res_num", "res_icode", "res_resname", "res_kind",
               "res_start", "res_stop")


def read_structure_cached(path: str | os.PathLike, entry_id: str | None = None,
                          cache_dir: str | os.PathLike | None = None) -> Structure:
    """``read_structure`` with the parsed arrays kept under ``<cache_dir>/derived/structures/``,
    keyed by the file's SHA-256, its path, ``entry_id`` and the structkit version
    (``structkit.io.derived``): a fresh process reads a parsed file in milliseconds instead of
    parsing it again. An entry that does not read back whole, or whose arrays disagree in
    length, is rebuilt. The result equals ``read_structure``'s, array for array."""
    from .files import sha256_file

    p = Path(path)
    if cache_dir is None or not p.is_file():
        return read_structure(p, entry_id)
    key = entry_key("structure", sha256_file(p), str(p), entry_id or "")

    def compute() -> dict:
        st = read_structure(p, entry_id)
        meta = {f: getattr(st, f) for f in ("id", "path", "title", "method", "resolution",
                                             "n_models", "is_assembly", "is_alphafold",
                                             "seqres", "notes", "citation")}
        meta["refs"] = [asdict(r) for r in st.refs]
        meta["seqdifs"] = [asdict(d) for d in st.seqdifs]
        return {**{f: getattr(st, f) for f in _ATOM_ARRAYS + _RES_ARRAYS}, "meta": meta}

    def fits(d: dict) -> bool:
        n, r = len(d["coord"]), len(d["res_num"])
        return (d["coord"].shape == (n, 3) and all(len(d[f]) == n for f in _ATOM_ARRAYS)
                and all(len(d[f]) == r for f in _RES_ARRAYS) and np.isfinite(d["coord"]).all()
                and (r == 0 or (int(d["res_stop"][-1]) == n and int(d["res_index"].max()) < r)))

    d = cached(cache_dir, "structures", key, compute, fits)
    meta = d["meta"]
    return Structure(**{f: meta[f] for f in ("id", "path", "title", "method", "resolution",
                                               "n_models", "is_assembly", "is_alphafold",
                                               "seqres", "notes", "citation")},
                     refs=[ChainRef(**r) for r in meta["refs"]],
                     seqdifs=[SeqDif(**x) for x in meta["seqdifs"]],
                     **{f: d[f] for f in _ATOM_ARRAYS + _RES_ARRAYS})

