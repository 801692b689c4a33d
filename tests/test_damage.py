"""Damage features on real residues: each flag fires where it should and not where it should not."""

from __future__ import annotations

import pytest

from structkit.analysis import analyze
from structkit.analysis.damage import (
    AA20,
    FEATURES,
    INTERFACE_FEATURES,
    interface_damage,
    substitution_damage,
    substitution_flags,
)


def feats(sid: str, chain: str, change: str) -> dict[str, str]:
    ref, pos, alt = change[0], int(change[1:-1]), change[-1]
    a = analyze(sid)
    cd = a.chains[chain]
    k = cd.pos_to_k[pos]
    assert k >= 0 and cd.aa[k] == ref, f"{sid} {chain} {pos} is {cd.aa[k]}, not {ref}"
    ri = cd.numbering.residue_indices[k]
    out = substitution_damage(cd.env, k, ref, alt, cd.rsa[k], cd.sasa[k], cd.ss[k], cd.ss_method)
    for s in cd.sites:
        out += interface_damage(a.structure, s, k, ri, ref, alt)
    return dict(out)


# (feature, fires at, does not fire at): p53 on 2OCJ chain A / 1TSR chain B, HER2 on 1N8Z / 1S78,
# EGFR on 3POZ / 2JIV. Burial, bonds and angles are computed from those files.
CASES = [
    ("buried/exposed switch", ("2OCJ", "A", "Y220C"), ("2OCJ", "A", "R248Q")),
    ("disulfide breakage", ("1N8Z", "C", "C26S"), ("2OCJ", "A", "C176S")),
    ("buried Pro introduced", ("2OCJ", "A", "V143P"), ("2OCJ", "A", "R248P")),
    ("buried Gly replaced", ("2OCJ", "A", "G245S"), ("2OCJ", "A", "G244S")),
    ("buried hydrophilic introduced", ("2OCJ", "A", "V143E"), ("2OCJ", "A", "V143A")),
    ("buried charge introduced", ("2OCJ", "A", "V143K"), ("2OCJ", "A", "V143A")),
    ("charge switch", ("2OCJ", "A", "R175E"), ("2OCJ", "A", "R175H")),
    ("buried charge replaced", ("2OCJ", "A", "R175H"), ("2OCJ", "A", "R248Q")),
    ("buried H-bond breakage", ("2OCJ", "A", "R175H"), ("2OCJ", "A", "V143A")),
    ("buried salt bridge breakage", ("2OCJ", "A", "R175H"), ("2OCJ", "A", "R175K")),
    ("cavity altered", ("2OCJ", "A", "Y220C"), ("2OCJ", "A", "F134L")),
    ("clash", ("2OCJ", "A", "C176F"), ("2OCJ", "A", "V143A")),
    ("disallowed phi/psi", ("2OCJ", "A", "G244A"), ("2OCJ", "A", "G266A")),
    ("cis-Pro replaced", ("1N8Z", "C", "P594A"), ("1N8Z", "C", "P593A")),
    ("secondary structure altered", ("2OCJ", "A", "V143P"), ("2OCJ", "A", "R248P")),
    ("interface H-bond broken", ("1TSR", "B", "R273H"), ("1TSR", "B", "V143A")),
    ("interface salt bridge broken", ("1TSR", "B", "R273H"), ("1TSR", "B", "R273K")),
    ("interface charge switch", ("1TSR", "B", "R273E"), ("1TSR", "B", "R273H")),
    ("zinc ligand lost", ("2OCJ", "A", "C176F"), ("2OCJ", "A", "C176H")),
    ("DNA contact lost", ("1TSR", "B", "R248Q"), ("1TSR", "B", "R248K")),
    ("antibody contact lost", ("1S78", "A", "S310F"), ("1S78", "A", "S310T")),
    ("ligand contact lost", ("2JIV", "A", "C797S"), ("3POZ", "A", "T790M")),
    ("ligand contact altered", ("3POZ", "A", "T790M"), ("3POZ", "A", "L861R")),
    ("covalent anchor lost", ("2JIV", "A", "C797S"), ("3POZ", "A", "C797S")),
    ("interface hydrophobic bulk introduced", ("1S78", "A", "S310F"), ("1S78", "A", "S310T")),
    # R249's guanidinium H-bonds the carbonyls of 245/246 (L3); Lys keeps the cation (GROUP)
    ("side-chain-backbone H-bond lost", ("1TSR", "B", "R249S"), ("1TSR", "B", "R249K")),
    # R175 packs on the zinc ligand C238 (second shell); Lys is the same chemistry
    ("metal second shell", ("1TSR", "B", "R175H"), ("1TSR", "B", "R175K")),
]


def test_every_feature_has_a_case():
    assert {c[0] for c in CASES} == set(FEATURES) | set(INTERFACE_FEATURES)


@pytest.mark.parametrize("feature,fires,quiet", CASES, ids=[c[0] for c in CASES])
def test_feature(feature, fires, quiet):
    hit = feats(*fires)
    assert feature in hit, f"{feature} should fire for {fires}: got {sorted(hit)}"
    assert hit[feature], "every flag carries its evidence"
    assert feature not in feats(*quiet), f"{feature} should not fire for {quiet}"


def test_classic_p53_cases():
    for change in ("C176F", "H179R", "C242S"):  # zinc ligands
        assert "zinc ligand lost" in feats("2OCJ", "A", change), change
    for change in ("R273H", "R273C"):  # DNA-interface bonds broken, exposed
        f = feats("1TSR", "B", change)
        assert "interface salt bridge broken" in f and "buried charge replaced" not in f
    a = analyze("2OCJ").chains["A"]
    for p in (220, 143, 134):  # buried, hydrophobic-to-smaller
        assert a.rsa[a.pos_to_k[p]] < 0.09
    assert "buried Gly replaced" in feats("2OCJ", "A", "G245S")


def test_evidence_names_the_bond():
    f = feats("1TSR", "B", "R273H")
    assert "NH2-O1P T E12" in f["interface salt bridge broken"]  # Arg273 to a DNA phosphate
    f = feats("2JIV", "A", "C797S")
    assert f["covalent anchor lost"].startswith("CYS 797 SG - HKI")


def test_rendered_columns():
    """The table's text: features in FEATURES order, evidence 'feature: why' joined by ' | ',
    'none' for a substitution that flags nothing and for alt == ref."""
    import numpy as np

    cd = analyze("2OCJ").chains["A"]
    k = np.array([cd.pos_to_k[175]])
    names, evidence = substitution_flags(cd.env, k, cd.aa[k], cd.rsa[k], cd.sasa[k], cd.ss[k],
                                         cd.ss_method).render()
    listed = names[0, AA20.index("H")].split("; ")
    assert set(listed) == set(feats("2OCJ", "A", "R175H")) - set(INTERFACE_FEATURES)
    assert listed == [f for f in FEATURES if f in listed]
    assert [e.split(": ", 1)[0] for e in evidence[0, AA20.index("H")].split(" | ")] == listed
    assert names[0, AA20.index("R")] == "none" and evidence[0, AA20.index("R")] == ""


def test_damage_in_the_impact_table_keeps_disagreement():
    from structkit.outputs.impact import impact_table, summarize

    t = impact_table(["TP53:p.R248Q", "TP53:p.G245S"], structures=["1TSR", "2OCJ", "3KMD"])
    s = summarize(t).set_index("variant")
    assert "buried Gly replaced" in s.loc["p.G245S", "damage"]
    assert "interface salt bridge broken (" in s.loc["p.R248Q", "damage"]  # some chains, not all
    assert t[(t.variant == "p.G245S")].context.astype(str).str.startswith("buried").any()


@pytest.mark.parametrize("sid,chain,change", [
    ("2OCJ", "A", "T125S"), ("2OCJ", "A", "S215T"), ("2OCJ", "A", "S240T"), ("2OCJ", "A", "T155S"),
    ("1TSR", "B", "R273K"), ("2OCJ", "A", "T253S")])
def test_same_chemistry_swaps_keep_their_hbonds(sid, chain, change):
    """A hydroxyl, carboxylate or cation swapped for one of the same chemistry keeps the bond:
    the atom-name rule used to flag these (issue 10)."""
    f = feats(sid, chain, change)
    assert "buried H-bond breakage" not in f and "interface H-bond broken" not in f, f


def test_same_residues_do_break_hbonds_with_other_chemistry():
    assert "buried H-bond breakage" in feats("2OCJ", "A", "T125A")
    assert "interface H-bond broken" in feats("1TSR", "B", "R273H")
