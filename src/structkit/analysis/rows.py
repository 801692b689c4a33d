"""Per-residue column values of one analysed chain, computed once per session and looked up
by row when the impact table is built (``table._structure_rows``).

A chain's rows are the same for every variant at a residue (author number, residue name, SASA,
secondary structure, distances to each site, the 20 possible damage texts): this module turns
them into arrays of values and category codes of the session's ``Codebook`` once, kept with the
chain's analysis (``ChainData.tables``), so a table of any size is a set of array lookups.
"""

from __future__ import annotations

import numpy as np

from ..cutoffs import BURIED_RSA
from .columns import INT_NA, Codebook
from .damage import context_matrix, interface_flags, substitution_flags

__all__ = ["ChainRows", "chain_rows"]

ABSENT_TABLE_MIN = 1024  # positions per absent-detail lookup table (grown when needed)


class ChainRows:
    """Per-residue column values of one analysed chain, computed once and looked up by row.

    Arrays have one extra row (index ``n``) holding the values of an absent residue; text
    values are category codes. Damage and context codes are (residue x 20 alts) tables filled
    the first time a residue is asked for, for all 20 alts at once.
    """

    def __init__(self, cd, st, book: Codebook) -> None:
        self.book = book
        self.n = len(cd.aa)
        self.cd = cd
        ri = self.ri = cd.numbering.residue_indices  # no sentinel: only for present residues
        self.aa = np.r_[np.asarray(cd.aa).astype(str), [""]]  # text: compared in C
        nan = np.array([np.nan])
        self.author_num = np.r_[st.res_num[ri].astype(np.int64), INT_NA]  # may be negative
        self.icode = np.r_[book["icode"].codes(st.res_icode[ri].tolist()), 1].astype(np.int32)
        self.res_name = np.r_[book["res_name"].codes(st.res_resname[ri].tolist()), 1].astype(np.int32)
        self.sasa = np.r_[cd.sasa, nan].round(1)
        self.rsa = np.r_[cd.rsa, nan].round(3)
        self.buried = np.r_[cd.rsa < BURIED_RSA, False]
        self.ss = np.r_[book["ss"].codes(cd.ss.tolist()), 1].astype(np.int32)
        self.bfactor = np.r_[cd.bfactor, nan].round(2)
        self._sites: dict = {}
        self._context: np.ndarray | None = None
        self._damage: dict = {}
        self.absent: dict = {}

    def absent_details(self, how: str, gene: str, pos: np.ndarray, spos: np.ndarray,
                       inside: np.ndarray, unobserved: np.ndarray, accession: str,
                       construct: tuple[int, int]) -> np.ndarray:
        """Detail codes of rows whose residue is absent (depend on the position only)."""
        book = self.book
        table = self.absent.get((how, gene))
        top = int(pos.max()) + 1
        if table is None or len(table) < top:
            grown = np.full(max(top, ABSENT_TABLE_MIN), -1, dtype=np.int32)
            if table is not None:
                grown[:len(table)] = table
            table = self.absent[how, gene] = grown
        codes = table[pos]
        lo, hi = construct
        for j in np.flatnonzero(codes < 0).tolist():
            p, sp = int(pos[j]), int(spos[j])
            if table[p] >= 0:
                codes[j] = table[p]
                continue
            if not inside[j]:
                text = (f"no residue of {accession} aligned to {gene} {p}" if how != "direct"
                        else f"position {p} outside the sequence")
            elif unobserved[j]:
                text = f"{accession} {sp} lies in the construct ({lo}-{hi}) but has no coordinates"
            else:
                text = f"construct covers {accession} {lo}-{hi}"
            codes[j] = table[p] = book["detail"].code(text)
        return codes

    def context(self, need: np.ndarray) -> np.ndarray:
        """Context codes, residue x 20 alternative amino acids (``damage.AA20`` order), with
        the rows ``need`` filled (a few variants of a chain need a few of its hundreds of
        rows)."""
        if self._context is None:
            self._context = np.full((self.n + 1, 20), -1, dtype=np.int32)
            self._context[self.n] = 1  # an absent residue: ''
        table = self._context
        need = np.asarray(need, dtype=np.int64)
        todo = np.unique(need[table[need, 0] < 0])
        if len(todo):
            cd = self.cd
            text = context_matrix(np.asarray(cd.aa)[todo], np.asarray(cd.rsa)[todo])
            table[todo] = self.book["context"].codes(text.ravel().tolist()).reshape(-1, 20)
        return table

    def _site_key(self, site) -> int | None:
        """The site's index in the chain's site list (None: no site)."""
        if site is None:
            return None
        return next(j for j, x in enumerate(self.cd.sites) if x is site)

    def site(self, site, sid: str) -> dict:
        """Column values of ``site`` per residue (distances, contacts, effect codes)."""
        book = self.book
        key = self._site_key(site)
        if key not in self._sites:
            d = site.dist
            nan = np.array([np.nan])
            md = np.r_[d["min_dist"], nan].round(2)
            within = np.r_[site.in_site, False]
            cov = np.r_[site.covalent_text, np.array([""], dtype=object)]
            drug = site.partner.drug or site.partner.name
            in_site = f"in {site.name} ({sid} chain {site.chain})"
            anchor = [f"removes the covalent anchor of {drug} ({c}; {sid} chain {site.chain})" if c
                      else in_site for c in cov]
            self._sites[key] = {
                "site": book["site"].code(site.name),
                "site_kind": book["site_kind"].code(site.kind),
                "partner": book["partner"].code(site.partner_label),
                "min_dist_A": md, "within": within,
                "sidechain_dist_A": np.r_[d["sc_dist"], nan].round(2),
                "ca_dist_A": np.r_[d["ca_dist"], nan].round(2),
                "n_contacts": np.r_[d["n_contacts"], -1].astype(np.int64),
                "nearest_partner_atom": np.r_[book["nearest_partner_atom"].codes(
                    site.nearest_label.tolist()), 1].astype(np.int32),
                "covalent_bond": book["covalent_bond"].codes(cov.tolist()),
                "has_cov": cov != "",
                "effect_in": np.where(within, book["effect"].code(in_site), 1).astype(np.int32),
                "effect_cov": np.where(within, book["effect"].codes(anchor), 1).astype(np.int32),
                "cutoff_A": site.cutoff,
            }
        return self._sites[key]

    def damage(self, site, need: np.ndarray, st) -> tuple[np.ndarray, np.ndarray]:
        """(names, evidence) code tables with rows ``need`` filled: structural features, plus
        the site's interface features for residues within reach of the site."""
        cd, book = self.cd, self.book
        key = self._site_key(site)
        if key not in self._damage:
            near = np.zeros(self.n + 1, dtype=bool)
            if site is not None:
                near[:-1] = site.dist["min_dist"] <= site.cutoff  # every interface rule's reach
            self._damage[key] = (np.full((self.n + 1, 20), -1, dtype=np.int32),
                                 np.full((self.n + 1, 20), -1, dtype=np.int32), near)
        names, evidence, near = self._damage[key]
        missing = names[need, 0] < 0
        if not missing.any():
            return names, evidence
        todo = np.unique(need[missing])
        far, close = todo[~near[todo]], todo[near[todo]]
        if site is not None and len(far):  # out of the site's reach: the chain's structural codes
            s_names, s_evidence = self.damage(None, far, st)
            names[far], evidence[far] = s_names[far], s_evidence[far]
        if len(close) or (site is None and len(far)):
            ks = close if site is not None else far
            flags = substitution_flags(cd.env, ks, cd.aa[ks], cd.rsa[ks], cd.sasa[ks], cd.ss[ks],
                                       cd.ss_method)
            if site is not None:
                flags = flags + interface_flags(st, site, ks, self.ri[ks], cd.aa[ks])
            n_text, e_text = flags.render()
            names[ks] = book["damage"].codes(n_text.ravel().tolist()).reshape(-1, 20)
            evidence[ks] = book["damage_evidence"].codes(e_text.ravel().tolist()).reshape(-1, 20)
        return names, evidence


def chain_rows(cd, st, book: Codebook) -> ChainRows:
    """The rows of chain analysis ``cd`` (of structure ``st``) in codes of ``book``, built on
    first use and kept with the analysis (rebuilt for another session's codebook)."""
    rows = cd.tables.get("impact")
    if rows is None or rows.book is not book:
        rows = cd.tables["impact"] = ChainRows(cd, st, book)
    return rows
