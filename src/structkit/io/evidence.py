"""Known evidence, kept apart from what the structures show: CIViC and Cancer Hotspots.

- **CIViC** (Griffith et al. 2017 Nat Genet 49:170; CC0), the monthly release
  ``CIVIC_RELEASE`` read from ``evidence/`` of the cache or mirror: ``known_evidence(variants)``
  gives one row per variant x accepted evidence item. A molecular profile that names one
  protein change (``ERBB2 L755S``; ``S310F/Y`` is S310F and S310Y) matches a variant with the
  same change (both read by ``parse_variant``, so ``p.Leu755Ser`` matches too): ``match =
  'variant'``. Broader mutation profiles of the gene (``Mutation``, ``Activating Mutation``,
  ``Kinase Domain Mutation`` for variants inside the catalog's kinase region, ``Exon 20
  Insertion`` for in-frame insertions and duplications, unnamed insertions such as ``P780INS``
  for insertions at that residue) are listed with ``match = 'broader profile: ...'``, never as
  the variant's own. Expression profiles (amplification, overexpression) are left out. The
  verdict never reads this layer.
- **Cancer Hotspots v2** residue table (Chang et al. 2018 Cancer Discov 8:174) from
  ``variants/``: tumours with a mutation at a residue (``hotspot_tumours``) and with this
  allele (``hotspot_allele_tumours``). A residue that is not a hotspot counts 0; when the file
  is not available the counts are missing (never a silent 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..catalog import catalog
from ..keywords import accepts_session
from .derived import cached_frame, entry_key
from .fetch import FetchError, NotAvailableOffline
from .files import sha256_file
from .store import session_of
from .variants import Variant, VariantBatch, VariantError, parse_variant, parse_variants

if TYPE_CHECKING:
    from .fetch import Fetcher

__all__ = ["CIVIC_RELEASE", "HOTSPOTS_FILE", "Hotspots", "hotspots", "civic_items",
           "known_evidence", "evidence_summary", "civic_provenance", "EVIDENCE_COLUMNS", "NO_ITEM"]

CIVIC_RELEASE = "2024-08-01"
CIVIC_FILE = "civic_01-Aug-2024-ClinicalEvidenceSummaries.tsv"
CIVIC_HEADER = "molecular_profile\tmolecular_profile_id\tdisease"
HOTSPOTS_FILE = "cancerhotspots_v2_multi_type_residue.txt"
HOTSPOTS_HEADER = "Hugo_Symbol\tResidue\tReference_Amino_Acid"
HOTSPOTS_RELEASE = "Cancer Hotspots v2 (Chang et al. 2018 Cancer Discov 8:174)"
NO_ITEM = f"no CIViC item (release {CIVIC_RELEASE})"
EVIDENCE_COLUMNS = [
    "gene", "variant", "match", "molecular_profile", "evidence_type", "evidence_direction",
    "significance", "therapies", "disease", "evidence_level", "rating", "eid", "pmid",
    "citation", "evidence_url", "civic_release"]
_BROAD_WORDS = re.compile(r"\b(mutation|insertion|deletion|duplication)\b", re.I)
_EXPRESSION = re.compile(r"amplification|overexpression|expression|serum|loss|fusion|copy", re.I)
_INS_KINDS = {"inframe_insertion", "duplication", "delins"}


# ------------------------------------------------------------------------- Cancer Hotspots


@dataclass
class Hotspots:
    """Cancer Hotspots v2 residue counts. ``residues[(gene, position)] = (tumours, {alt: n})``;
    ``indels[gene]`` lists (start, end, {allele name: n}) of the in-frame rows."""

    residues: dict = field(default_factory=dict)
    indels: dict = field(default_factory=dict)
    path: str = ""
    sha256: str = ""
    error: str = ""  # why the file is missing: counts are then None
    _arrays: dict = field(default_factory=dict, repr=False)  # (gene, alphabet) -> arrays

    @property
    def available(self) -> bool:
        return not self.error

    def counts(self, gene: str, position: int, alt: str | None, kind: str,
               short: str = "") -> tuple[int | None, int | None]:
        """(tumours at the residue, tumours with this allele); (None, None) if the file is
        missing; 0 where the residue or allele is not in the table."""
        if not self.available:
            return None, None
        if kind in _INS_KINDS or kind == "inframe_deletion":
            res, allele = 0, 0
            for start, end, alleles in self.indels.get(gene, ()):
                if start <= position <= end:
                    res += sum(alleles.values())
                    allele += next((n for a, n in alleles.items() if a.lower() == short.lower()), 0)
            return res, allele
        n, alleles = self.residues.get((gene, int(position)), (0, {}))
        return n, alleles.get(alt or "", 0)

    @property
    def provenance(self) -> str:
        """The release, file and SHA-256, or why the counts are missing."""
        return (f"{HOTSPOTS_RELEASE}; {self.path} sha256:{self.sha256}" if self.available
                else self.error)

    def counts_array(self, gene: str, variants: list[Variant], positions: np.ndarray,
                     alt_idx: np.ndarray, alphabet: str) -> tuple[np.ndarray, np.ndarray]:
        """``counts`` of one gene's variants as two int64 arrays (-1 where the file is missing);
        ``alt_idx`` is each substitution's alt as an index into ``alphabet`` (-1 for other
        changes, which take the per-variant path)."""
        n = len(variants)
        if not self.available:
            return np.full(n, -1, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        res_at, allele_at = self._gene_arrays(gene, alphabet)
        pos = np.clip(positions, 0, len(res_at) - 1)
        res = np.where(positions < len(res_at), res_at[pos], 0)
        allele = np.where((alt_idx >= 0) & (positions < len(res_at)),
                          allele_at[pos, np.maximum(alt_idx, 0)], 0)
        for i in np.flatnonzero(alt_idx < 0).tolist():  # not a substitution: the slow path
            v = variants[i]
            res[i], allele[i] = self.counts(gene, v.position, v.alt, v.kind, v.short)
        return res.astype(np.int64), allele.astype(np.int64)

    def _gene_arrays(self, gene: str, alphabet: str) -> tuple[np.ndarray, np.ndarray]:
        """Per position: tumours at the residue, and per alt (``alphabet`` order) with it."""
        if (gene, alphabet) not in self._arrays:
            top = max((p for g, p in self.residues if g == gene), default=0) + 1
            res = np.zeros(top, dtype=np.int64)
            allele = np.zeros((top, len(alphabet)), dtype=np.int64)
            for (g, p), (n, alleles) in self.residues.items():
                if g == gene:
                    res[p] = n
                    for a, k in alleles.items():
                        if len(a) == 1 and a in alphabet:
                            allele[p, alphabet.index(a)] = k
            self._arrays[gene, alphabet] = (res, allele)
        return self._arrays[gene, alphabet]


@accepts_session
def hotspots(fetcher: Fetcher | None = None) -> Hotspots:
    """The Cancer Hotspots v2 residue table of the session's cache or mirror (read once)."""
    fetcher = session_of(fetcher)
    memo = fetcher.cache("evidence")
    if "hotspots" not in memo:
        memo["hotspots"] = _read_hotspots(fetcher)
    return memo["hotspots"]


def _read_hotspots(fetcher) -> Hotspots:
    try:
        r = fetcher.dataset("variants", HOTSPOTS_FILE, HOTSPOTS_HEADER)
    except NotAvailableOffline as exc:
        return Hotspots(error=str(exc))
    df = pd.read_csv(r.path, sep="\t", dtype=str, keep_default_na=False)
    out = Hotspots(path=str(r.path), sha256=sha256_file(r.path))
    cols = ("Hugo_Symbol", "Residue", "Amino_Acid_Position", "Variant_Amino_Acid", "Tumor_Count")
    # lists, not the Series: iterating pandas' Arrow-backed strings costs a microsecond a cell
    for g, res, pos, alleles, count in zip(*(df[c].tolist() for c in cols), strict=True):
        counts = {}
        for part in alleles.split("|"):
            a, _, n = part.rpartition(":")
            if a and n.isdigit():
                counts[a] = int(n)
        if "-" in pos:  # an in-frame indel row: '772-775'
            lo, _, hi = pos.partition("-")
            out.indels.setdefault(g, []).append((int(lo), int(hi), counts))
        elif pos.isdigit() and not res.startswith("X"):  # 'X126': splice-site counts, not a residue
            ref = res[0] if res else ""
            counts.pop(ref, None)  # 'S:1' at S310: a synonymous or silent count, not an allele
            out.residues[(g, int(pos))] = (int(count), counts)
    return out


# -------------------------------------------------------------------------------- CIViC


def civic_items(fetcher: Fetcher | None = None) -> pd.DataFrame:
    """Accepted CIViC evidence items of the release, with the profile's gene and name
    (``profile_gene``, ``profile_name``); read once per session. ``NotAvailableOffline`` if
    the release file is in neither cache nor mirror."""
    fetcher = session_of(fetcher)
    memo = fetcher.cache("evidence")
    if "civic" not in memo:
        r = fetcher.dataset("evidence", CIVIC_FILE, CIVIC_HEADER)
        sha = sha256_file(r.path)
        df = cached_frame(fetcher.cache_dir, "civic", entry_key("civic", sha),
                          lambda: _read_civic(r.path), columns=CIVIC_COLUMNS)
        df.attrs.update({"path": str(r.path), "sha256": sha})
        memo["civic"] = df
    return memo["civic"]


CIVIC_COLUMNS = ["molecular_profile", "evidence_status", "profile_gene", "profile_name", "_eid",
                 "_short"]


def _read_civic(path) -> pd.DataFrame:
    """The accepted items of the release file (about 60 ms; kept as derived data by
    ``civic_items``, which adds the provenance attrs)."""
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    df = df[df.evidence_status == "accepted"].reset_index(drop=True)
    split = df.molecular_profile.str.split(" ", n=1, expand=True)
    df["profile_gene"], df["profile_name"] = split[0], split[1].fillna("")
    df["_eid"] = pd.to_numeric(df.evidence_id, errors="coerce").fillna(-1).astype(np.int64)
    df["_short"] = [_item_text(*r) for r in zip(*(df[c].tolist() for c in (
        "therapies", "significance", "evidence_direction", "evidence_level", "evidence_id")),
        strict=True)]
    return df


def _profile_changes(gene: str, name: str, fetcher) -> list:
    """The protein changes a single-variant profile names ([] for broader profiles). Checked
    against UniProt when the record is at hand; a change CIViC names with another reference
    residue is left out (it cannot be this protein's change)."""
    if " " in name.strip() or _EXPRESSION.search(name):
        return []
    name = re.sub(r"(DUP|DEL|INS|DELINS)", lambda m: m.group(1).lower(), name)
    m = re.fullmatch(r"([A-Z])(\d+)([A-Z])((?:/[A-Z])+)", name)  # S310F/Y
    names = [f"{m.group(1)}{m.group(2)}{a}" for a in (m.group(3) + m.group(4)).split("/")] if m else [name]
    out = []
    for n in names:
        try:
            try:
                out.append(parse_variant(f"{gene}:p.{n}", fetcher=fetcher))
            except FetchError:  # no UniProt record offline: the change as CIViC writes it
                out.append(parse_variant(f"{gene}:p.{n}", validate=False, fetcher=fetcher))
        except (VariantError, KeyError):
            return []
    return out


def _broad_rule(gene: str, name: str, regions, symbols: set, fetcher) -> tuple | None:
    """How a broader profile covers variants, read once per name: (alternatives, match text);
    an alternative is ('any' | 'truncating' | 'insertion' | 'deletion' | 'region' | 'insertion
    at' | 'named', parameter). ``A OR B`` profiles cover what either covers (alternatives of
    another gene, among the release's gene ``symbols``, are dropped); ``A AND B`` profiles need
    several changes at once and cover no single variant (None), nor do expression profiles."""
    if " AND " in name:
        return None
    alts = []
    for alt in name.split(" OR "):
        first, _, rest = alt.strip().partition(" ")
        if rest and first in symbols:  # 'EGFR Exon 19 Deletion', 'ERBB3 Mutation'
            if first != gene:
                continue
            alt = rest
        rule = _alt_rule(gene, alt.strip(), regions, fetcher)
        if rule is not None:
            alts.append(rule)
    if not alts:
        return None
    where = next((f" (position in the {a[1][2]} region)" for a in alts if a[0] == "region"), "")
    where = where or next((f" (insertions at {a[1]})" for a in alts if a[0] == "insertion at"), "")
    note = " (exon not checked)" if "exon" in name.lower() else ""
    return tuple(alts), f"broader profile: {name}{where}{note}"


def _alt_rule(gene: str, name: str, regions, fetcher) -> tuple | None:
    low = name.lower()
    if _EXPRESSION.search(name):
        return None
    if re.fullmatch(r"[a-z]\d+ins", low):  # P780INS: an unnamed insertion at that residue
        return ("insertion at", int(re.sub(r"\D", "", low)))
    named = _profile_changes(gene, name, fetcher)
    if named:
        return ("named", frozenset(named))
    if not _BROAD_WORDS.search(name):
        return None
    if "truncating" in low:
        return ("truncating", None)
    dom = re.search(r"(.+?) domain mutation", low)
    if dom:  # 'Kinase Domain Mutation': the catalog region of that name holds the position
        key = re.sub("[^a-z]", "", dom.group(1))
        regs = [r for r in regions if key in re.sub("[^a-z]", "", r["name"].lower())]
        return ("region", (int(regs[0]["start"]), int(regs[0]["end"]), regs[0]["name"])) \
            if regs else None
    if "insertion" in low or "duplication" in low:
        return ("insertion", None)
    if "deletion" in low:
        return ("deletion", None)
    return ("any", None)


def _covers(rule: tuple, v: Variant) -> bool:
    return any(_alt_covers(kind, arg, v) for kind, arg in rule[0])


def _alt_covers(kind: str, arg, v: Variant) -> bool:
    if kind == "any":
        return True
    if kind == "named":
        return v in arg
    if kind == "truncating":
        return v.kind in ("nonsense", "frameshift", "start_lost")
    if kind == "insertion":
        return v.kind in _INS_KINDS
    if kind == "deletion":
        return v.kind in ("inframe_deletion", "delins")
    if kind == "region":
        return arg[0] <= v.position <= arg[1]
    return v.kind in _INS_KINDS and v.position <= arg <= (v.end or v.position) + 1


def _as_list(variants, fetcher) -> list[Variant]:
    if isinstance(variants, Variant):
        return [variants]
    if isinstance(variants, VariantBatch):
        return list(variants.variants)
    items = variants if isinstance(variants, (str, Path)) else list(variants)
    if isinstance(items, list) and all(isinstance(v, Variant) for v in items):
        return items
    return list(parse_variants(items, fetcher=fetcher).variants)


def _matches(vs: list[Variant], fetcher, broader: bool) -> list[tuple[list[int], list]]:
    """Per variant: (rows of the items that name it, [(rule, rows)] of the broader profiles
    that cover it); rows in EID order."""
    items = civic_items(fetcher)
    named_at, broad_at = _civic_index(items, fetcher)
    out = []
    for v in vs:
        rules = ([(rule, rows) for rule, rows in broad_at.get(v.gene, ()) if _covers(rule, v)]
                 if broader else [])
        out.append((named_at.get((v.gene, v), []), rules))
    return out


@accepts_session
def known_evidence(variants, fetcher: Fetcher | None = None, *, broader: bool = True) -> pd.DataFrame:
    """One row per variant x CIViC evidence item that names it (``match='variant'``) or, with
    ``broader=True``, a broader mutation profile of its gene (``match='broader profile: ...'``).
    A variant without any item gets one row with ``match`` = ``NO_ITEM``.

    Examples
    --------
    >>> e = known_evidence(["ERBB2:p.T798M"])
    >>> e[e.match == "variant"][["variant", "therapies", "significance", "eid"]]
       variant  therapies significance   eid
    0  p.T798M  Lapatinib   Resistance  3006
    """
    fetcher = session_of(fetcher)
    vs = list(dict.fromkeys(_as_list(variants, fetcher)))
    items = civic_items(fetcher)
    genes, names, match, rows = [], [], [], []
    eid = items["_eid"].to_numpy()
    for v, (own, rules) in zip(vs, _matches(vs, fetcher, broader), strict=True):
        hits = [("variant", i) for i in own] + sorted(
            ((rule[1], i) for rule, rows in rules for i in rows), key=lambda x: eid[x[1]])
        for m, i in hits or [(NO_ITEM, -1)]:
            genes.append(v.gene)
            names.append(v.hgvs)
            match.append(m)
            rows.append(i)
    rows_a = np.asarray(rows, dtype=np.int64)
    src = {"molecular_profile": "molecular_profile", "evidence_type": "evidence_type",
           "evidence_direction": "evidence_direction", "significance": "significance",
           "therapies": "therapies", "disease": "disease", "evidence_level": "evidence_level",
           "rating": "rating", "eid": "evidence_id", "pmid": "citation_id", "citation": "citation",
           "evidence_url": "evidence_civic_url"}
    out = pd.DataFrame({"gene": genes, "variant": names, "match": match})
    for col, c in src.items():
        out[col] = np.where(rows_a >= 0, items[c].to_numpy(dtype=object)[np.maximum(rows_a, 0)], "")
    out["civic_release"] = CIVIC_RELEASE
    out = out[EVIDENCE_COLUMNS]
    out.attrs.update({"civic": civic_provenance(fetcher)})
    return out


def civic_provenance(fetcher: Fetcher | None = None) -> str:
    """'CIViC 2024-08-01; <file> sha256:<hash>', or why the release is missing."""
    try:
        items = civic_items(fetcher)
    except NotAvailableOffline as exc:
        return str(exc)
    return f"CIViC {CIVIC_RELEASE}; {items.attrs['path']} sha256:{items.attrs['sha256']}"


def evidence_summary(variants, fetcher: Fetcher | None = None) -> list[str]:
    """Per variant (in order), one line: 'CIViC: lapatinib resistance (D, EID3006); ...' from
    the items that name it, with the number of broader-profile items; ``NO_ITEM`` if none."""
    fetcher = session_of(fetcher)
    vs = _as_list(variants, fetcher)
    items = civic_items(fetcher)
    short = items["_short"].to_numpy()
    profile = items.molecular_profile.to_numpy()
    out = []
    for own, rules in _matches(vs, fetcher, broader=True):
        text = ("CIViC: " + "; ".join(dict.fromkeys(short[i] for i in own))) if own else NO_ITEM
        if rules:
            n = sum(len(rows) for _, rows in rules)
            names = ", ".join(dict.fromkeys(profile[rows[0]] for _, rows in rules))
            text += f"; {n} item(s) of broader profiles ({names})"
        out.append(text)
    return out


def _civic_index(items: pd.DataFrame, fetcher) -> tuple[dict, dict]:
    """({(gene, Variant): rows naming it}, {gene: [(rule, rows)] of broader profiles}), once per
    session."""
    memo = fetcher.cache("evidence")
    if "civic_index" not in memo:
        changes = _civic_changes(items, fetcher)
        targets = {t.gene: t for t in catalog().targets}
        named: dict = {}
        broad: dict[str, dict[str, list[int]]] = {}
        genes, names = items.profile_gene.tolist(), items.profile_name.tolist()
        for i, (g, n) in enumerate(zip(genes, names, strict=True)):
            if i in changes:
                for v in changes[i]:
                    named.setdefault((g, v), []).append(i)
            elif g in targets:
                broad.setdefault(g, {}).setdefault(n, []).append(i)
        eid = items["_eid"].to_numpy()
        symbols = set(genes)
        for rows in named.values():
            rows.sort(key=eid.__getitem__)
        rules = {g: [(r, sorted(rows, key=eid.__getitem__)) for n, rows in by.items()
                     if (r := _broad_rule(g, n, targets[g].regions, symbols, fetcher)) is not None]
                 for g, by in broad.items()}
        memo["civic_index"] = (named, rules)
    return memo["civic_index"]


def _civic_changes(items: pd.DataFrame, fetcher) -> dict[int, list]:
    """Row -> the changes its single-variant profile names, for genes of the catalog."""
    memo = fetcher.cache("evidence")
    if "civic_changes" not in memo:
        genes = {t.gene for t in catalog().targets}
        by_name: dict[tuple[str, str], list] = {}
        out = {}
        for i, (g, n) in enumerate(zip(items.profile_gene.tolist(), items.profile_name.tolist(),
                                       strict=True)):
            if g in genes:
                if (g, n) not in by_name:
                    by_name[g, n] = _profile_changes(g, n, fetcher)
                if by_name[g, n]:
                    out[i] = by_name[g, n]
        memo["civic_changes"] = out
    return memo["civic_changes"]


def _item_text(therapies: str, sig: str, direction: str, level: str, eid: str) -> str:
    """'lapatinib resistance (D, EID3006)': one item in the summary's words."""
    s = {"Sensitivity/Response": "sensitivity", "Resistance": "resistance",
         "Reduced Sensitivity": "reduced sensitivity"}.get(sig, sig.lower())
    if direction == "Does Not Support":
        s += ", does not support"
    what = (therapies.replace(",", " + ").lower() + " " if therapies else "") + s
    return f"{what} ({level}, EID{eid})"
