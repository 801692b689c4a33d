"""Every curated catalog fact that the local files can check, checked; missing entries listed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import in_mirror

from structkit.catalog import catalog, load_catalog
from structkit.io.fetch import Fetcher, NotAvailableOffline
from structkit.io.resolve import load

CAT = catalog()


def fetch(entry, data_dir, tmp_path):
    f = Fetcher(cache_dir=tmp_path, mirror=data_dir, offline=True)
    if entry.is_alphafold:
        return f.alphafold(entry.id[3:])
    return f.pdb(entry.id, assembly=entry.assembly)


def test_targets_and_aliases():
    assert CAT.target("HER2").accession == CAT.target("neu").accession == "P04626"
    assert CAT.target("p53").gene == "TP53" and CAT.target("P00533").gene == "EGFR"
    assert CAT.target("ERBB2").family_reference == "P00533"
    with pytest.raises(KeyError, match="KRAS"):
        CAT.target("KRAS")


@pytest.mark.parametrize("entry", CAT.structures, ids=lambda e: e.id)
def test_curated_entry_against_its_file(entry, data_dir, tmp_path):
    if not in_mirror(entry):
        with pytest.raises(NotAvailableOffline):
            fetch(entry, data_dir, tmp_path)
        return
    fetch(entry, data_dir, tmp_path)
    st = load(entry.id)
    protein = st.chains(kind="protein")
    for ch in entry.target_chains:
        assert ch in protein, f"{entry.id}: target chain {ch} not in {protein}"
        refs = st.refs_for(ch)
        if refs:  # where the entry has reference records they name the target
            assert any(r.accession == entry.target for r in refs), (entry.id, ch)
    for p in entry.partners:
        if p.kind == "antibody":
            assert {p.heavy, p.light} <= set(protein)
            assert p.binds in entry.target_chains
        elif p.kind == "ligand":
            present = set(np.unique(st.res_name[st.kind == "ligand"]))
            assert set(p.comp_ids) & present, (entry.id, p.comp_ids, present)  # any spelling
        elif p.kind == "dna":
            assert set(p.chains) <= set(st.chains(kind="dna"))
        elif p.kind == "metal":
            assert ((st.kind == "ion") & (st.element == p.element)).any()


def test_every_partner_touches_its_target():
    from structkit.analysis import analyze

    for entry in CAT.structures:
        if not entry.partners or not in_mirror(entry):
            continue
        a = analyze(entry)
        for site in a.sites:
            assert site.in_site.any(), (entry.id, site.chain, site.name)


def test_catalog_is_data(tmp_path):
    text = (tmp_path / "c.yaml")
    text.write_text(
        "targets:\n  - {gene: KRAS, accession: P01116, aliases: [KRAS2]}\n"
        "structures:\n  - {id: 6OIM, target: P01116, target_chains: [A],"
        " partners: [{kind: ligand, name: sotorasib, comp_ids: [MOV]}]}\n")
    c = load_catalog(text)
    assert c.target("KRAS2").accession == "P01116"
    assert c.structures_for("KRAS")[0].partners[0].comp_ids == ("MOV",)
    text.write_text("targets: []\nstructures:\n  - {id: ../etc, target: P01116}\n")
    with pytest.raises(ValueError, match="PDB ID"):
        load_catalog(text)
