"""The impact table's rows of one variant group on one structure: the analysis (or the status
that says why there is none), the variants placed on each target chain by the one placement
rule (``numbering.place_in_chain``, through the family alignment for a stand-in), why a residue
differs or is absent, the per-residue values of each chain (``rows.chain_rows``), the stability
columns, and a row block per site. ``table._compute`` calls ``_structure_rows`` once per
(distinct variant group, structure)."""

from __future__ import annotations

import sys

import numpy as np

from ..catalog import CatalogStructure
from ..io.fetch import FetchError, NotAvailableOffline
from ..io.structure import Structure, StructureFormatError
from ..io.uniprot import uniprot_record
from ..io.variants import Variant
from ..statuses import NOT_COVERED, PLACEMENT_STATUSES
from .columns import Codebook, _Bool, _Const
from .numbering import NotInStructure, family_positions, place_in_chain
from .rows import chain_rows
from .stability import chain_log_probs, stability_matrix
from .structure_analysis import analyze

__all__: list[str] = []


def _analysis_or_status(entry, accession: str, cutoff: float, metal_cutoff: float, fetcher):
    """(the structure's analysis, None), or (None, (status, detail)) when there is none: not
    available offline, fetch failed, the protein is not in it, the file cannot be read (said,
    not hidden)."""
    try:
        return analyze(entry, accession, cutoff=cutoff, metal_cutoff=metal_cutoff,
                       fetcher=fetcher), None
    except NotAvailableOffline as exc:
        return None, ("not available offline", str(exc))
    except FetchError as exc:
        return None, ("fetch failed", str(exc))
    except NotInStructure as exc:  # the structure does not hold the protein
        return None, (NOT_COVERED, str(exc))
    except StructureFormatError as exc:
        return None, ("fetch failed", f"unreadable structure: {exc}")


def _detail_codes(group, va, a, st, cd, res, book, how: str, spos, s_ures, ok_pos, file_aa,
                  expected, kk, differs, have, unobserved) -> np.ndarray:
    """The ``detail`` codes of one chain's rows: why the residue differs from the reference
    (SEQADV, construct or family), the in-frame indel note, or why it is absent."""
    num, pos, n = cd.numbering, va["position"], len(group)
    detail: dict[int, str] = {}
    for i in np.flatnonzero(differs):
        detail[i] = "; ".join(_mismatch_notes(i, group[i], va, a, st, num, spos, s_ures,
                                              file_aa, expected, res.ri[kk[i]], how))
    for i in np.flatnonzero(va["_inframe"] & ok_pos).tolist():
        note = _inframe_note(group[i], cd, int(spos[i]), int(spos[i] + va["_end"][i] - pos[i]),
                             a.uniprot_seq)
        detail[i] = note + ("; " + detail[i] if i in detail else "")
    detail_codes = book.sparse("detail", n, detail)
    miss = np.flatnonzero(~have)
    if len(miss):
        detail_codes[miss] = res.absent_details(how, group[0].gene, pos[miss], spos[miss],
                                                ok_pos[miss], unobserved[miss], a.accession,
                                                num.construct)
    return detail_codes


def _structure_rows(group: list[Variant], va: dict, entry, how: str, cutoff: float,
                    metal_cutoff: float, fetcher, base: dict, book: Codebook,
                    damage: bool = True, stability: str = "shipped") -> list[dict]:
    n = len(group)
    sid = entry.id if isinstance(entry, (CatalogStructure, Structure)) else str(entry)
    if how.startswith("other:"):
        return [book.block(n, {**base, "pdb_id": sid, "status": NOT_COVERED, "via": "direct",
                           "detail": f"{sid} holds {how[6:]}, not {group[0].accession}"}, va)]
    acc_struct = group[0].accession if how == "direct" else how
    a, why = _analysis_or_status(entry, acc_struct, cutoff, metal_cutoff, fetcher)
    if a is None:
        status, detail = why
        return [book.block(n, {**base, "pdb_id": sid, "status": status, "detail": detail,
                               "via": how}, va)]
    st = a.structure
    pos = va["position"]
    useq = a.uniprot_seq
    if how == "direct":
        spos = pos
        via = "direct"
    else:
        spos = family_positions(uniprot_record(group[0].accession, fetcher).sequence, useq, pos,
                                memo=fetcher.cache("family"), cache_dir=fetcher.cache_dir)
        via = f"family alignment {group[0].accession}->{a.accession}"
    ok_pos = (spos >= 1) & (spos <= len(useq))
    upos = np.where(ok_pos, spos - 1, len(useq))  # index into the UniProt sequence, or past it
    useq_arr = np.array(list(useq) + [""], dtype=object)
    s_ures = useq_arr[upos]
    const = {**base, "pdb_id": st.id, "structure": a.entry.shows or st.title,
             "method": st.method, "resolution_A": st.resolution, "via": via,
             "structure_accession": a.accession, "bfactor_kind": st.bfactor_label,
             "source_file": st.path}
    filler = book.block(n, const, {})  # every column's constant or empty value, shared by the blocks
    ref_arr = va["_ref"]
    expected = ref_arr if how == "direct" else s_ures
    expected_text = va["_ref_text"] if how == "direct" else s_ures.astype(str)
    alt_idx, missense = va["_alt_idx"], va["_missense"]
    shared = {k: v for k, v in va.items() if not k.startswith("_")}
    shared["structure_position"] = np.where(ok_pos, spos, -1)
    shared["structure_uniprot_res"] = book["structure_uniprot_res"].codes(s_ures.tolist())
    blocks = []
    for ch, cd in a.chains.items():
        num = cd.numbering
        res = chain_rows(cd, st, book)
        placed = place_in_chain(spos, num, cd.pos_to_k, len(useq), res.aa, expected_text)
        k, have, unobserved = placed.k, placed.present, placed.unobserved
        kk = np.where(have, k, res.n)  # the sentinel row holds the 'absent' values
        file_aa = res.aa[kk]
        differs = placed.status == 1
        family_diff = have & (s_ures != ref_arr) if how != "direct" else differs & False
        detail_codes = _detail_codes(group, va, a, st, cd, res, book, how, spos, s_ures, ok_pos,
                                     file_aa, expected, kk, differs | family_diff, have,
                                     unobserved)
        status = placed.status
        chain_cols = {
            **shared,
            "model": np.ones(n, dtype=np.int64), "chain": book.const("chain", ch, n),
            "author_num": res.author_num[kk], "icode": res.icode[kk], "res_name": res.res_name[kk],
            "numbering_method": book.const("numbering_method", num.method, n),
            "status": book.fixed("status", PLACEMENT_STATUSES)[status], "detail": detail_codes,
            "sasa_A2": res.sasa[kk], "rsa": res.rsa[kk],
            "buried": _Bool(res.buried[kk], ~have), "ss": res.ss[kk],
            "ss_method": book.const("ss_method", cd.ss_method, n),
            "bfactor": res.bfactor[kk],
        }
        assess = have & missense & (alt_idx >= 0) if damage else np.zeros(n, dtype=bool)
        alt_safe = np.where(assess, alt_idx, 0)
        if assess.any():
            chain_cols["context"] = np.where(assess, res.context(kk[assess])[kk, alt_safe], 1)
        else:
            chain_cols["context"] = _Const(1, n)
        scorable = have & ~differs & missense & (alt_idx >= 0) & (how == "direct")
        chain_cols.update(_stability_cols(cd, st, scorable, kk, alt_idx, stability, fetcher, book))
        blocks += _site_blocks(cd, res, st, {**filler, **chain_cols}, va, have, kk, file_aa,
                               assess, alt_safe)
    return blocks


def _site_blocks(cd, res, st: Structure, cols: dict, va: dict, have, kk, file_aa, assess,
                 alt_safe) -> list[dict]:
    """One row block per site of a chain (one with an empty site when it has none): the
    chain's columns, the site's distances and the damage features of the assessed rows."""
    n = len(have)
    out = []
    for site in cd.sites or [None]:
        block = dict(cols)
        if site is None:
            block["site"] = _Const(1, n)  # '': the structure has no site here
        else:
            block.update(_site_cols(res.site(site, st.id), va, have, kk, file_aa, n))
        dn = de = _Const(1, n)  # '' where not assessed
        if assess.any():
            dn, de = np.ones(n, dtype=np.int32), np.ones(n, dtype=np.int32)
            names, evidence = res.damage(site, kk[assess], st)
            dn[assess] = names[kk[assess], alt_safe[assess]]
            de[assess] = evidence[kk[assess], alt_safe[assess]]
        block["damage"], block["damage_evidence"] = dn, de
        out.append(block)
    return out


def _stability_cols(cd, st: Structure, scorable: np.ndarray, kk: np.ndarray, alt_idx: np.ndarray,
                    mode: str, fetcher, book: Codebook) -> dict:
    """``stability_score`` (nats) and ``stability_model`` of a chain's rows: the score where the
    residue is the reference and the change a missense one on the protein itself, else NaN."""
    n = len(kk)
    if mode == "off" or not scorable.any():
        return {"stability_score": np.full(n, np.nan), "stability_model": _Const(1, n)}
    memo_key = ("stability", mode)
    got = cd.tables.get(memo_key)
    if got is None:
        lp, how = chain_log_probs(st, cd.numbering.residue_indices, fetcher,
                                  compute=mode == "auto", progress=sys.stderr.isatty())
        mat = (stability_matrix(lp, np.asarray(cd.aa).astype(str)) if lp is not None
               else np.full((len(cd.aa), 20), np.nan))
        got = cd.tables[memo_key] = (np.vstack([mat, np.full((1, 20), np.nan)]).round(3), how)
    mat, how = got
    score = np.where(scorable, mat[kk, np.where(scorable, alt_idx, 0)], np.nan)
    codes = np.where(scorable, book["stability_model"].code(how), 1).astype(np.int32)
    return {"stability_score": score, "stability_model": codes}


def _inframe_note(v: Variant, cd, first: int, last: int, useq: str) -> str:
    """The residues an in-frame change affects (structure's UniProt numbering) and the site
    residues among them in this chain."""
    what = {"inframe_deletion": "deletes", "duplication": "duplicates", "delins": "replaces",
            "inframe_insertion": "inserts between"}[v.kind]
    span = f"{useq[first - 1]}{first}" + (f"-{useq[last - 1]}{last}" if last != first else "")
    if v.kind == "inframe_insertion":
        span = f"{useq[first - 1]}{first} and {useq[last - 1]}{last}"
    note = f"in-frame: {what} {span} ({last - first + 1} aa)" if v.kind != "inframe_insertion" \
        else f"in-frame: {what} {span}"
    hits = []
    for site in cd.sites:
        ks = cd.pos_to_k[first:last + 1]
        ks = ks[ks >= 0]
        inside = [int(k) for k in ks if site.in_site[k]]
        if inside:
            res = "/".join(f"{useq[int(cd.numbering.uniprot_pos[k]) - 1]}"
                           f"{int(cd.numbering.uniprot_pos[k])}" for k in inside)
            hits.append(f"{res} in {site.name}")
    return note + ("; site residues affected: " + ", ".join(hits) if hits else
                   "; no site residue in the range")


def _mismatch_notes(i, v, va, a, st, num, spos, s_ures, file_aa, expected, ri: int,
                    how) -> list[str]:
    """Why row ``i`` differs: the family member's residue, or the file's (structure residue ``ri``)."""
    notes = []
    ref, alt = va["_ref"], va["_alt"]
    if how != "direct" and s_ures[i] != ref[i]:
        notes.append(f"{a.accession} has {s_ures[i]}{spos[i]} where {v.gene} has "
                     f"{ref[i]}{va['position'][i]}")
    if file_aa[i] != expected[i]:
        seqadv = num.lookup(int(spos[i])).difference
        resname = st.res_resname[ri]
        if alt[i] and file_aa[i] == alt[i]:
            carries = "the variant" if how == "direct" else (
                f"the analogous variant p.{s_ures[i]}{spos[i]}{alt[i]}")
            notes.append(f"file has {resname} ({file_aa[i]}), not {expected[i]}: the structure "
                         f"carries {carries}; {seqadv}")
        else:
            notes.append(f"file has {resname} ({file_aa[i]}), expected {expected[i]}; {seqadv}")
    return notes


def _site_cols(sc: dict, va, have, kk, file_aa, n) -> dict:
    within = sc["within"][kk]
    cov_rows = within & sc["has_cov"][kk]
    if cov_rows.any():  # a missense change of a covalently bonded residue removes the anchor
        i = np.flatnonzero(cov_rows)
        cov_rows[i] = va["_missense"][i] & (va["_alt"][i] != file_aa[i]) & (va["_alt"][i] != "")
    return {
        "site": _Const(sc["site"], n),
        "site_kind": _Const(sc["site_kind"], n),
        "partner": _Const(sc["partner"], n),
        "min_dist_A": sc["min_dist_A"][kk],
        "sidechain_dist_A": sc["sidechain_dist_A"][kk],
        "ca_dist_A": sc["ca_dist_A"][kk],
        "n_contacts": sc["n_contacts"][kk],
        "nearest_partner_atom": sc["nearest_partner_atom"][kk],
        "in_site": _Bool(within, ~have),
        "covalent_bond": sc["covalent_bond"][kk],
        "effect": np.where(cov_rows, sc["effect_cov"][kk], sc["effect_in"][kk]),
        "cutoff_A": np.full(n, sc["cutoff_A"]),
    }
