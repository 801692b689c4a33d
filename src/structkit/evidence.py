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

import pandas as pd

from .catalog import catalog
from .fetch import NotAvailableOffline, default_fetcher
from .files import sha256_file
from .variants import Variant, VariantBatch, VariantError, parse_variant, parse_variants

if TYPE_CHECKING:
    from .fetch import Fetcher

__all__ = ["CIVIC_RELEASE", "HOTSPOTS_FILE", "Hotspots", "hotspots", "civic_items",
           "known_evidence", "evidence_text", "EVIDENCE_COLUMNS", "NO_ITEM"]

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


def hotspots(fetcher: Fetcher | None = None) -> Hotspots:
    """The Cancer Hotspots v2 residue table of the session's cache or mirror (read once)."""
    fetcher = fetcher or default_fetcher()
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
    for g, res, pos, alleles, count in zip(df.Hugo_Symbol, df.Residue, df.Amino_Acid_Position,
                                           df.Variant_Amino_Acid, df.Tumor_Count, strict=True):
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
    fetcher = fetcher or default_fetcher()
    memo = fetcher.cache("evidence")
    if "civic" not in memo:
        r = fetcher.dataset("evidence", CIVIC_FILE, CIVIC_HEADER)
        df = pd.read_csv(r.path, sep="\t", dtype=str, keep_default_na=False)
        df = df[df.evidence_status == "accepted"].reset_index(drop=True)
        split = df.molecular_profile.str.split(" ", n=1, expand=True)
        df["profile_gene"], df["profile_name"] = split[0], split[1].fillna("")
        df.attrs.update({"path": str(r.path), "sha256": sha256_file(r.path)})
        memo["civic"] = df
    return memo["civic"]


def _profile_changes(gene: str, name: str, fetcher) -> list:
    """The protein changes a single-variant profile names ([] for broader profiles)."""
    if " " in name.strip() or _EXPRESSION.search(name):
        return []
    name = re.sub(r"(DUP|DEL|INS|DELINS)", lambda m: m.group(1).lower(), name)
    m = re.fullmatch(r"([A-Z])(\d+)([A-Z])((?:/[A-Z])+)", name)  # S310F/Y
    names = [f"{m.group(1)}{m.group(2)}{a}" for a in (m.group(3) + m.group(4)).split("/")] if m else [name]
    out = []
    for n in names:
        try:
            out.append(parse_variant(f"{gene}:p.{n}", fetcher=fetcher))
        except (VariantError, KeyError):
            return []
    return out


def _broader_applies(name: str, v, fetcher) -> str:
    """'' if the broader profile ``name`` does not cover variant ``v``, else the match text."""
    if _EXPRESSION.search(name) or not (_BROAD_WORDS.search(name) or re.fullmatch(
            r"[A-Z]\d+(INS|ins)", name)):
        return ""
    low = name.lower()
    if re.fullmatch(r"[a-z]\d+ins", low):  # P780INS: an unnamed insertion at that residue
        pos = int(re.sub(r"\D", "", low))
        ok = v.kind in _INS_KINDS and v.position <= pos <= (v.end or v.position) + 1
        return f"broader profile: {name} (insertions at {pos})" if ok else ""
    if "truncating" in low:
        ok = v.kind in ("nonsense", "frameshift", "start_lost")
        return f"broader profile: {name}" if ok else ""
    dom = re.search(r"(.+?) domain mutation", low)
    if dom:  # 'Kinase Domain Mutation': the catalog region of that name holds the position
        key = re.sub("[^a-z]", "", dom.group(1))
        regs = [r for r in catalog().target(v.accession).regions
                if key in re.sub("[^a-z]", "", r["name"].lower())]
        ok = any(r["start"] <= v.position <= r["end"] for r in regs)
        where = regs[0]["name"] if regs else ""
        return f"broader profile: {name} (position in the {where} region)" if ok else ""
    if "insertion" in low or "duplication" in low:
        ok = v.kind in _INS_KINDS
        note = " (exon not checked)" if "exon" in low else ""
        return f"broader profile: {name}{note}" if ok else ""
    if "deletion" in low:
        return f"broader profile: {name}" if v.kind in ("inframe_deletion", "delins") else ""
    return f"broader profile: {name}"


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
    fetcher = fetcher or default_fetcher()
    if isinstance(variants, Variant):
        vs = [variants]
    elif isinstance(variants, VariantBatch):
        vs = list(variants.variants)
    else:
        items_in = variants if isinstance(variants, (str, Path)) else list(variants)
        vs = (items_in if isinstance(items_in, list) and all(isinstance(v, Variant) for v in items_in)
              else list(parse_variants(items_in, fetcher=fetcher).variants))
    items = civic_items(fetcher)
    named_at, broad_at = _civic_index(items, fetcher)
    rows = []
    for v in dict.fromkeys(vs):
        base = {"gene": v.gene, "variant": v.hgvs, "civic_release": CIVIC_RELEASE}
        hits = [("variant", i) for i in named_at.get((v.gene, v), ())]
        if broader:
            for i in broad_at.get(v.gene, ()):
                match = _broader_applies(items.profile_name.iat[i], v, fetcher)
                if match:
                    hits.append((match, i))
        hits.sort(key=lambda x: (x[0] != "variant", int(items.evidence_id.iat[x[1]])))
        for match, i in hits:
            r = items.iloc[i]
            rows.append({**base, "match": match, "molecular_profile": r.molecular_profile,
                         "evidence_type": r.evidence_type, "evidence_direction": r.evidence_direction,
                         "significance": r.significance, "therapies": r.therapies,
                         "disease": r.disease, "evidence_level": r.evidence_level,
                         "rating": r.rating, "eid": r.evidence_id, "pmid": r.citation_id,
                         "citation": r.citation, "evidence_url": r.evidence_civic_url})
        if not hits:
            rows.append({**base, "match": NO_ITEM})
    out = pd.DataFrame(rows, columns=EVIDENCE_COLUMNS).fillna("")
    out.attrs.update({"civic_release": CIVIC_RELEASE, "civic_file": items.attrs.get("path", ""),
                      "civic_sha256": items.attrs.get("sha256", "")})
    return out


def _civic_index(items: pd.DataFrame, fetcher) -> tuple[dict, dict]:
    """({(gene, Variant): item rows naming it}, {gene: rows of other profiles}), once per session."""
    memo = fetcher.cache("evidence")
    if "civic_index" not in memo:
        changes = _civic_changes(items, fetcher)
        named: dict = {}
        broad: dict = {}
        for i, g in enumerate(items.profile_gene):
            if i in changes:
                for v in changes[i]:
                    named.setdefault((g, v), []).append(i)
            else:
                broad.setdefault(g, []).append(i)
        memo["civic_index"] = (named, broad)
    return memo["civic_index"]


def _civic_changes(items: pd.DataFrame, fetcher) -> dict[int, list]:
    """Row -> the changes its single-variant profile names, for genes of the catalog."""
    memo = fetcher.cache("evidence")
    if "civic_changes" not in memo:
        genes = {t.gene for t in catalog().targets}
        by_name: dict[tuple[str, str], list] = {}
        out = {}
        for i, (g, n) in enumerate(zip(items.profile_gene, items.profile_name, strict=True)):
            if g in genes:
                if (g, n) not in by_name:
                    by_name[g, n] = _profile_changes(g, n, fetcher)
                if by_name[g, n]:
                    out[i] = by_name[g, n]
        memo["civic_changes"] = out
    return memo["civic_changes"]


def _short_significance(sig: str, direction: str) -> str:
    s = {"Sensitivity/Response": "sensitivity", "Resistance": "resistance",
         "Reduced Sensitivity": "reduced sensitivity"}.get(sig, sig.lower())
    return f"{s}, does not support" if direction == "Does Not Support" else s


def evidence_text(ev: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Per (gene, variant): 'CIViC: lapatinib resistance (D, EID3006); ...' from the
    variant-specific items, with the number of broader-profile items; ``NO_ITEM`` if none."""
    out: dict[tuple[str, str], str] = {}
    for (g, v), grp in ev.groupby(["gene", "variant"], sort=False):
        own = grp[grp.match == "variant"]
        broad = grp[grp.match.str.startswith("broader")]
        parts = []
        for r in own.itertuples(index=False):
            what = (r.therapies.replace(",", " + ").lower() + " " if r.therapies else "")
            what += _short_significance(r.significance, r.evidence_direction)
            parts.append(f"{what} ({r.evidence_level}, EID{r.eid})")
        text = ("CIViC: " + "; ".join(dict.fromkeys(parts))) if parts else NO_ITEM
        if len(broad):
            profiles = ", ".join(dict.fromkeys(broad.molecular_profile))
            text += f"; {len(broad)} item(s) of broader profiles ({profiles})"
        out[g, v] = text
    return out
