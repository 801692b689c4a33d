"""The per-variant verdict: one calibrated impact score, an effect class and a mechanism, with
the evidence, answering the question of the gene's role (the catalog's ``role``).

**Tumour suppressor** (TP53): ``impact_score`` (0..1) is the probability that a missense change
is damaging (loss of function), from a logistic regression over a few features of structure,
evolution and the substitution itself. ``>= 0.5`` reads "loss of function", ``< NEUTRAL``
"likely neutral", between them "uncertain" (``effect_class``). The weights were fitted on the
development set shipped with the mirror (yeast transactivation of TP53 mutants at **even**
codons, Kato et al. 2003; label non-functional = median of the 8 promoters < 20 % of wild type)
by ``benchmarks/validity.py --write-model``, which also reports the out-of-sample AUC
(cross-validation grouped by codon). The fitted numbers, their provenance and the CV AUC are in
``verdict_model.json`` beside this module. No feature names a variant, and no variant is
treated by name.

**Oncogene** (ERBB2): ``impact_score`` is the probability that the change is activating or
resistance-conferring, under an even prior between the CIViC-named ERBB2 drivers and all other
substitutions (balanced class weights), from ``ONCOGENE_FEATURES``: recurrence at the residue
(``hot``: log1p of the Cancer Hotspots tumour count), anatomy (``reg``: a regulatory kinase or
receptor element, ``pocket``: the ATP pocket, ``epi``: an antibody epitope; ``structkit.analysis.anatomy``),
Pfam family conservation and log-odds (``fcons``, ``flo``), burial, BLOSUM62 and volume change.
Fitted by ``benchmarks/her2_validity.py --write-model`` (``oncogene_model.json``, with its
cross-validated AUC). ``effect_class``: ``catalytically dead`` (beta3 Lys, alphaC Glu, HRD Asp,
DFG Asp), ``resistance candidate`` (a lost covalent anchor; or >= 0.5 at the gatekeeper or in
the ATP pocket), ``activating`` (>= 0.5 elsewhere), ``uncertain`` (below 0.5 but recurrent or
in a regulatory element, or between ``NEUTRAL`` and 0.5), ``likely neutral``. The mechanism
names the anatomical element (``ONCOGENE_ELEMENTS``, the gatekeeper, the ATP pocket, an
epitope with its ECD domain); it never reads "tolerated" or "surface". CIViC never enters.

Features (one value per variant, pooled over the structures of the impact table):

==========  ===========================================================================
``lo``      log-odds ``log f(alt) / f(wt)`` of the homolog alignment (``structkit.io.msa``)
``cons``    conservation of the column, ``1 - H / log 20``
``bur``     burial ``1 - RSA``: median RSA over the experimental chains (chain alone, Tien
            et al. 2013 scale); else the AlphaFold model's where pLDDT >= 70; else exposed
``plddt``   AlphaFold pLDDT / 100 (order); 0.9 if absent but an experimental chain covers
            the residue, else 0.5
``has_exp`` 1 if any experimental chain has the residue (a family stand-in counts, and gives
            the burial, when no structure of the protein itself has it)
``dna``     ``exp(-d / 3 A)``, d = median distance to DNA over the chains that have DNA
``zn``      ``exp(-d / 3 A)``, d = median distance to zinc over the chains that have zinc
``blosum``  BLOSUM62 score of wt -> alt
``dv``      |volume change| / 100 A^3 (Zamyatnin 1972)
``dh``      hydrophobicity change (Kyte & Doolittle 1982) / 9
``topro``   alt is Pro;  ``fromgly``: wt is Gly
``bur_lo``  ``bur x lo``;  ``bur_dv``: ``bur x dv``
``stab``    ``stability_score`` (``structkit.analysis.stability``: ProteinMPNN log-ratio, nats; the
            mean over the protein's own structures, pLDDT >= 70 for a model; 0 if none)
``scbb``    fraction of the chains assessed where a side-chain H-bond to the main chain is
            lost (damage ``side-chain-backbone H-bond lost``); computed and reported, not in
            the models (no signal on the development set)
``shell``   fraction of the chains with a metal where the residue is in its second shell
            (damage ``metal second shell``)
``strain``  fraction of the chains assessed with ``disallowed phi/psi`` (Gly with phi > 0
            replaced; Pro where phi is outside -90..-40)
==========  ===========================================================================

Two models are fitted on the same data: ``evolution`` (all features) for positions that are a
match column of a homolog alignment, and ``structure`` (no evolutionary feature) for the rest:
residues outside the alignment, and every target without an ortholog alignment (HER2 offline:
its Pfam family alignment of human paralogs is reported as evidence but does not enter the
score, since the weights were learnt on ortholog conservation). The ``evolution`` column says
which applied. Features are standardised with the training means and scales.

The mechanism is read from the structures, in this order: ``outside structures`` (no chain has
the residue), ``low-confidence model only`` (only an AlphaFold model with pLDDT < 70),
``covalent anchor`` (the residue is covalently bonded to a drug), ``zinc site`` (coordinates the
zinc in most chains that have zinc), ``DNA contact`` (side chain within the cut-off of DNA in
most chains that have DNA, and the alt cannot keep the contact: not a same-chemistry swap such
as K<->R), ``drug pocket`` (within the cut-off of a ligand: HER2 structures first, EGFR
stand-ins otherwise, said which), ``antibody epitope``; else by the score: ``buried core /
destabilising`` (>= 0.5) or ``surface / tolerated`` (< 0.5). Non-missense changes are not scored:
``truncating`` (nonsense, frameshift), ``no protein change`` (synonymous), ``not scored``.

Size: the documented models of both gene roles (features, weights, provenance), the features
they read and the mechanism texts that must agree with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.anatomy import REGULATORY, anatomy
from ..analysis.damage import AA20, VOLUME, same_chemistry
from ..analysis.stability import STABILITY_STRONG, STABILITY_WEAK, per_structure
from ..catalog import catalog
from ..cutoffs import CORE_RSA, PLDDT_CONFIDENT
from ..io.msa import Alignment, cached_alignment
from ..statuses import PRESENT
from .grouping import _joined

__all__ = ["Model", "models", "fit_model", "variant_features", "table_features", "variant_keys",
           "verdict", "alignment_for", "validation_note",
           "EVOLUTION_FEATURES", "STRUCTURE_FEATURES", "ONCOGENE_FEATURES", "MECHANISMS",
           "EFFECT_CLASSES", "KYTE_DOOLITTLE"]

# ``scbb`` is computed and reported but not in the models: as a flag it has no signal on the
# development set (precision 0.18 for non-function, below the 0.21 base rate; the rule that
# dropped "Gly in a bend" from the damage features)
STRUCTURE_FEATURES = ["bur", "plddt", "has_exp", "dna", "zn", "blosum", "dv", "dh", "topro",
                      "fromgly", "bur_dv", "stab", "shell", "strain"]
EVOLUTION_FEATURES = ["lo", "cons", *STRUCTURE_FEATURES, "bur_lo"]
# oncogene model: recurrence, anatomy, family conservation, burial, substitution
ONCOGENE_FEATURES = ["hot", "reg", "pocket", "epi", "fcons", "flo", "bur", "blosum", "dv"]
EFFECT_CLASSES = ("loss of function", "loss of function (truncating)", "uncertain",
                  "likely neutral", "activating", "resistance candidate", "catalytically dead",
                  "not assessed")
MECHANISMS = ("DNA contact", "zinc site", "buried core / destabilising", "antibody epitope",
              "drug pocket", "covalent anchor", "protein interface", "buried core / uncertain",
              "buried, tolerated substitution", "surface / tolerated",
              "outside structures", "low-confidence model only", "truncating",
              "no protein change", "not scored")
DAMAGING = 0.5
NEUTRAL = 0.2  # below: 'likely neutral' (the development set's base rate of damage is 0.21)
SITE_DECAY_A = 3.0  # distance scale of the dna / zn features
MAJORITY = 0.5  # a site mechanism needs the contact in more than half the chains with the partner
# Kyte & Doolittle (1982) hydropathy
KYTE_DOOLITTLE = {"A": 1.8, "R": -4.5, "N": -3.5, "D": -3.5, "C": 2.5, "Q": -3.5, "E": -3.5,
                  "G": -0.4, "H": -3.2, "I": 4.5, "L": 3.8, "K": -3.9, "M": 1.9, "F": 2.8,
                  "P": -1.6, "S": -0.8, "T": -0.7, "W": -0.9, "Y": -1.3, "V": 4.2}


def validation_note() -> str:
    """How the scores were made and measured, for methods sections; the numbers come from the
    shipped models' provenance."""
    ms = models()
    evo, onc = ms["evolution"].meta, ms["oncogene"].meta
    return (
        "impact_score answers the question of the gene's role. Tumour suppressor (TP53): the "
        "probability of loss of function, a logistic model of structure features (burial, "
        "distances to DNA and zinc, substitution chemistry) and evolution (log-odds and "
        "conservation from the EVE homolog alignment with sequence weights), fitted on the yeast "
        f"transactivation data of Kato et al. 2003 at even codons only ({evo.get('n', 0):,} "
        f"mutants, {evo.get('n_nonfunctional', 0)} non-functional: median of 8 promoters < 20 % "
        f"of wild type); ROC AUC {evo.get('cv_auc_grouped_by_codon', float('nan')):.3f} in "
        "5-fold cross-validation grouped by codon (benchmarks/validity.py). Oncogene (ERBB2): "
        "the probability of an activating or resistance-conferring change under an even prior, "
        "from recurrence (Cancer Hotspots v2), anatomy (kinase elements, ATP pocket, epitopes), "
        "Pfam family conservation and substitution chemistry, fitted on the "
        f"{onc.get('n_positive', 0)} ERBB2 missense changes named by CIViC 2024-08-01 against "
        f"{onc.get('n', 0) - onc.get('n_positive', 0):,} other substitutions; ROC AUC "
        f"{onc.get('cv_auc_grouped_by_position', float('nan')):.3f} in 5-fold cross-validation "
        f"grouped by position ({onc.get('cv_auc_structure_only', float('nan')):.3f} without "
        "recurrence; benchmarks/her2_validity.py). Truncating, splice and synonymous changes are "
        "not scored. Known evidence (CIViC) is shown beside the score and never enters it.")


TRUNCATING = {"nonsense", "frameshift", "start_lost"}


@dataclass
class Model:
    """A fitted logistic model: standardised features, coefficients and where they came from."""

    name: str
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    meta: dict = field(default_factory=dict)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of damage per row of ``frame`` (which has the model's feature columns)."""
        x = (frame[self.features].to_numpy(dtype=float) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def to_dict(self) -> dict:
        return {"name": self.name, "features": self.features, "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(float(self.intercept), 6), "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict) -> Model:
        return cls(d["name"], list(d["features"]), np.array(d["mean"]), np.array(d["scale"]),
                   np.array(d["coef"]), float(d["intercept"]), dict(d.get("meta", {})))


def fit_model(frame: pd.DataFrame, y: np.ndarray, features: list[str], name: str,
              c: float = 0.02, meta: dict | None = None, balanced: bool = False) -> Model:
    """L2-regularised logistic regression (L-BFGS): minimises the log-loss summed over rows
    plus ``||w||^2 / (2 c)`` on standardised features (the intercept is not penalised).
    ``balanced``: each class weighs half of the rows (the fitted probability is then that of
    an even prior between the classes)."""
    from scipy.optimize import minimize

    x = frame[features].to_numpy(dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    y = np.asarray(y, dtype=float)
    wt = np.ones(len(y))
    if balanced and 0 < y.sum() < len(y):
        wt = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))

    def loss(w):
        s = z @ w[1:] + w[0]
        p = 1.0 / (1.0 + np.exp(-s))
        nll = np.sum(wt * (np.logaddexp(0.0, s) - y * s))
        g = wt * (p - y)
        grad = np.r_[g.sum(), z.T @ g + w[1:] / c]
        return nll + 0.5 * np.dot(w[1:], w[1:]) / c, grad

    res = minimize(loss, np.zeros(len(features) + 1), jac=True, method="L-BFGS-B")
    return Model(name, list(features), mean, scale, res.x[1:], float(res.x[0]), dict(meta or {}))


@lru_cache(maxsize=1)
def models() -> dict[str, Model]:
    """The shipped models: ``evolution`` and ``structure`` (``verdict_model.json``, tumour
    suppressor: loss of function) and ``oncogene`` (``oncogene_model.json``)."""
    out = {}
    for name in ("verdict_model.json", "oncogene_model.json"):
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        out.update({d["name"]: Model.from_dict(d) for d in json.loads(text)["models"]})
    return out


def alignment_for(accession: str, fetcher=None, path=None) -> tuple[Alignment | None, str, str]:
    """(alignment or None, kind 'homologs'|'family'|'', note) for a catalog target.

    ``path`` overrides the catalog's alignment (a user's own file; query = first sequence), or
    maps accessions to such files (``{"P04637": "p53.a2m"}``).
    """
    from ..io.fetch import FetchError
    from ..io.store import session_of
    from ..io.uniprot import uniprot_record

    f = session_of(fetcher)
    target = catalog().target(accession)
    if isinstance(path, dict):  # per protein: {accession: path}; others keep the catalog's
        path = path.get(target.accession)
    spec = {"name": None, "kind": "homologs"} if path else (target.msa or {})
    if not spec:
        return None, "", f"no alignment of {target.gene} homologs in the catalog"
    try:
        src = Path(path) if path else Path(f.msa(spec["name"]).path)
        seq = uniprot_record(target.accession, f).sequence
        key = (str(src.resolve()), src.stat().st_mtime_ns, seq, spec.get("query"))
        memo = f.cache("alignments")  # one parse (and one weighting) per file version
        if key not in memo:  # read once per session, weighted once per file on disk
            memo[key] = cached_alignment(key[0], seq, query=key[3], cache_dir=f.cache_dir)
        aln = memo[key]
    except (FetchError, ValueError, OSError) as exc:
        return None, "", f"no alignment: {exc}"
    kind = spec.get("kind", "homologs")
    return aln, kind, f"{kind} alignment {src} ({aln.n_sequences} sequences, Neff {aln.n_effective:.0f})"


@lru_cache(maxsize=1)
def _blosum() -> dict:
    """BLOSUM62 as ``{wt: {alt: score}}``, read from Biopython's own data file without importing
    ``Bio.Align`` (about 50 ms of a fresh process); through ``substitution_matrices.load`` when
    the file is not where Biopython keeps it."""
    import importlib.util

    spec = importlib.util.find_spec("Bio")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "Align" / "substitution_matrices" / "data" / "BLOSUM62"
        if path.is_file():
            rows = [ln.split() for ln in path.read_text().splitlines()
                    if ln.strip() and not ln.startswith("#")]
            cols = rows[0]
            return {r[0]: dict(zip(cols, map(float, r[1:]), strict=True)) for r in rows[1:]}
    from Bio.Align import substitution_matrices

    return substitution_matrices.load("BLOSUM62")


def _substitution(wt: np.ndarray, alt: np.ndarray) -> dict[str, np.ndarray]:
    ok = np.array([w in VOLUME and a in VOLUME for w, a in zip(wt, alt, strict=True)])
    b = _blosum()
    pick = [(w, a) if good else ("A", "A") for w, a, good in zip(wt, alt, ok, strict=True)]
    return {
        "blosum": np.array([b[w][a] for w, a in pick], dtype=float),
        "dv": np.array([abs(VOLUME[a] - VOLUME[w]) / 100 for w, a in pick]),
        "dh": np.array([(KYTE_DOOLITTLE[a] - KYTE_DOOLITTLE[w]) / 9 for w, a in pick]),
        "topro": np.array([a == "P" for _, a in pick], dtype=float),
        "fromgly": np.array([w == "G" for w, _ in pick], dtype=float),
        "_ok": ok,
    }


def variant_keys(table: pd.DataFrame) -> np.ndarray:
    """Per table row, the index of its (gene, variant) in order of first appearance."""
    g_codes, _ = pd.factorize(table.gene.astype(object), use_na_sentinel=False)
    v_codes, v_uniq = pd.factorize(table.variant.astype(object), use_na_sentinel=False)
    key, _ = pd.factorize(g_codes * len(v_uniq) + v_codes)
    return key


def table_features(table: pd.DataFrame, fetcher=None, msa=None) -> pd.DataFrame:
    """``variant_features`` of an impact table: one row per (gene, variant), first-seen order,
    with ``gene`` and ``variant`` first."""
    key = variant_keys(table)
    n = int(key.max()) + 1 if len(key) else 0
    feat = variant_features(table.assign(key=key), n, fetcher, msa)
    first = np.unique(key, return_index=True)[1]
    feat.insert(1, "variant", table.variant.astype(object).to_numpy()[first])
    return feat


def _burial_features(out: pd.DataFrame, direct: pd.DataFrame, family: pd.DataFrame,
                     n: int) -> np.ndarray:
    """Burial per variant: experimental chains (count, median RSA, chains in the core), the
    family stand-ins' when only they show the residue, and the AlphaFold model's pLDDT and RSA.
    Returns which variants are seen only through stand-ins."""
    is_af = direct.bfactor_kind.astype(str) == "pLDDT"
    exp = direct[~is_af]
    units = exp.drop_duplicates(["key", "pdb_id", "chain"])
    out["n_exp"] = units.groupby("key").size().reindex(range(n), fill_value=0).to_numpy()
    out["rsa_exp"] = units.groupby("key").rsa.median().reindex(range(n)).to_numpy()
    out["n_buried"] = (units.rsa < CORE_RSA).groupby(units.key).sum().reindex(
        range(n), fill_value=0).to_numpy()
    # a residue seen only through family stand-ins (HER2 on EGFR complexes): their burial
    fam_units = family.drop_duplicates(["key", "pdb_id", "chain"])
    out["n_fam"] = fam_units.groupby("key").size().reindex(range(n), fill_value=0).to_numpy()
    fam_rsa = fam_units.groupby("key").rsa.median().reindex(range(n)).to_numpy()
    only_fam = (out.n_exp.to_numpy() == 0) & (out.n_fam.to_numpy() > 0)
    out.loc[only_fam, "rsa_exp"] = fam_rsa[only_fam]
    out.loc[only_fam, "n_buried"] = (fam_units.rsa < CORE_RSA).groupby(fam_units.key).sum().reindex(
        range(n), fill_value=0).to_numpy()[only_fam]
    af = direct[is_af].drop_duplicates("key").set_index("key")
    out["plddt_af"] = af.bfactor.reindex(range(n)).to_numpy(dtype=float)
    out["rsa_af"] = af.rsa.reindex(range(n)).to_numpy(dtype=float)
    return only_fam


SITE_LABELS = (("dna", False, "dna"), ("metal", False, "zn"), ("ligand", False, "lig"),
               ("epitope", False, "ab"), ("ligand", True, "famlig"))  # (site kind, family, label)


def _site_features(out: pd.DataFrame, direct: pd.DataFrame, family: pd.DataFrame, n: int) -> None:
    """Per site kind (DNA, zinc, ligand, epitope; family ligands): chains with the site,
    chains with the residue in it or its side chain within the cut-off, the median distance
    over chains, and where (PDB ID and site). Two group-bys over all kinds at once (one per
    kind took about 0.1 s of the seed panel)."""
    parts = []
    for fam, rows in ((False, direct), (True, family)):
        kinds = rows.site_kind.astype(str).to_numpy()
        label = np.full(len(rows), "", dtype=object)
        for kind, is_fam, name in SITE_LABELS:
            if is_fam == fam:
                label[kinds == kind] = name
        parts.append(rows[["key", "pdb_id", "chain", "site", "min_dist_A"]].assign(
            label=label, sc=(rows.sidechain_dist_A <= rows.cutoff_A).fillna(False).astype(bool),
            ins=rows.in_site.fillna(False).astype(bool)))
    s = pd.concat(parts, ignore_index=True)
    s = s[s.label != ""]
    # per chain: the nearest distance over the chain's sites; in or near any of them
    per_chain = s.groupby(["label", "key", "pdb_id", "chain"], observed=True, sort=False).agg(
        d=("min_dist_A", "min"), ins=("ins", "any"), sc=("sc", "any"))
    g = per_chain.groupby(level=["label", "key"], sort=False).agg(
        n=("d", "size"), ins=("ins", "sum"), sc=("sc", "sum"), d=("d", "median"))
    near = s[s.ins].astype({"pdb_id": str, "site": str})
    for _kind, _fam, label in SITE_LABELS:
        gl = g.xs(label, level="label") if label in g.index.get_level_values(0) else g.iloc[:0]
        gl = gl.droplevel("label") if "label" in gl.index.names else gl
        out[f"{label}_n"] = gl.n.reindex(range(n), fill_value=0).to_numpy()
        out[f"{label}_in"] = gl.ins.reindex(range(n), fill_value=0).to_numpy()
        out[f"{label}_sc"] = gl.sc.reindex(range(n), fill_value=0).to_numpy()
        out[f"{label}_d"] = gl.d.reindex(range(n)).to_numpy(dtype=float)
        nl = near[near.label == label]
        out[f"{label}_where"] = _joined(nl.key, nl.pdb_id + " (" + nl.site + ")", ", ", n)


def _evolution_features(out: pd.DataFrame, wt: np.ndarray, alt: np.ndarray, fetcher, msa) -> None:
    """Log-odds and conservation of each substitution from the gene's homolog alignment (or
    ``msa``), with what was used."""
    out["lo"] = np.nan
    out["cons"] = np.nan
    out["evo_kind"] = ""
    out["evo_note"] = ""
    for acc, idx in out.groupby("accession").groups.items():
        if not isinstance(acc, str) or not acc:
            continue
        try:
            aln, kind, note = alignment_for(acc, fetcher, msa)
        except KeyError:
            continue
        out.loc[idx, "evo_note"] = note
        if aln is None:
            continue
        lo, cv = aln.scores(out.position.loc[idx].fillna(-1).to_numpy(dtype=np.int64),
                            wt[idx], alt[idx])
        out.loc[idx, "lo"], out.loc[idx, "cons"] = lo, cv
        out.loc[idx, "evo_kind"] = kind


def variant_features(rows: pd.DataFrame, n: int, fetcher=None, msa=None) -> pd.DataFrame:
    """Per-variant features and evidence from impact-table rows.

    ``rows`` has the impact table's columns plus ``key`` (0..n-1, the variant). Returns one
    row per key with the model features and the numbers the mechanism and evidence need.
    """
    first = rows.drop_duplicates("key").set_index("key").reindex(range(n))
    out = pd.DataFrame(index=range(n))
    for c in ("gene", "accession", "kind", "ref", "alt"):
        out[c] = first[c].astype(object).to_numpy()
    out["position"] = pd.to_numeric(first["position"], errors="coerce").to_numpy()
    present = rows[rows.status.isin(PRESENT)]
    is_direct = present.via.astype(str) == "direct"
    direct, family = present[is_direct], present[~is_direct]
    only_fam = _burial_features(out, direct, family, n)
    _site_features(out, direct, family, n)
    cov = present[present.covalent_bond.astype(str) != ""]
    cov = cov[cov.in_site.fillna(False).astype(bool)]
    fam = np.where(cov.via.astype(str) != "direct", " (family stand-in " + cov.structure_accession.astype(str)
                   + ")", "")
    out["covalent"] = _joined(cov.key, cov.covalent_bond.astype(str) + " in "
                              + cov.pdb_id.astype(str) + fam, ", ", n)
    # model inputs
    plddt = out.plddt_af.to_numpy(dtype=float)
    has_exp = (out.n_exp.to_numpy() > 0) | only_fam
    plddt_in = np.where(np.isnan(plddt), np.where(has_exp, 90.0, 50.0), plddt) / 100
    rsa = np.where(has_exp, out.rsa_exp, np.where(plddt >= PLDDT_CONFIDENT, out.rsa_af, 1.0))
    rsa = np.clip(np.nan_to_num(np.asarray(rsa, dtype=float), nan=1.0), 0, 1)
    out["bur"] = 1 - rsa
    out["plddt"] = plddt_in
    out["has_exp"] = has_exp.astype(float)
    out["dna"] = np.exp(-np.nan_to_num(out.dna_d.to_numpy(dtype=float), nan=np.inf) / SITE_DECAY_A)
    out["zn"] = np.exp(-np.nan_to_num(out.zn_d.to_numpy(dtype=float), nan=np.inf) / SITE_DECAY_A)
    wt = out.ref.astype(str).to_numpy()
    alt = out.alt.astype(str).to_numpy()
    sub = _substitution(wt, alt)
    for c in ("blosum", "dv", "dh", "topro", "fromgly"):
        out[c] = sub[c]
    out["scorable"] = sub["_ok"] & (out.kind.astype(str) == "missense").to_numpy()
    out["bur_dv"] = out.bur * out.dv
    _stability_features(out, direct, n)
    _evolution_features(out, wt, alt, fetcher, msa)
    out["bur_lo"] = out.bur * out.lo
    _role_features(out, first, fetcher)
    return out


def _stability_features(out: pd.DataFrame, direct: pd.DataFrame, n: int) -> None:
    """``stab``, ``scbb``, ``shell``, ``strain`` (module docstring) from the rows of the
    protein's own structures."""
    if "stability_score" in direct:
        per = per_structure(direct, direct.key.to_numpy())[0].groupby("k").s.mean()
        out["stab_raw"] = per.reindex(range(n)).to_numpy(dtype=float)
    else:
        out["stab_raw"] = np.nan
    out["stab"] = np.nan_to_num(out.stab_raw.to_numpy(dtype=float), nan=0.0)
    dmg = direct[direct.damage.astype(str) != ""]
    codes, texts = pd.factorize(dmg.damage.astype(str))  # few distinct texts: search those once
    units = dmg.drop_duplicates(["key", "pdb_id", "chain"]).groupby("key").size().reindex(
        range(n), fill_value=0).to_numpy()
    metal_units = direct[direct.site_kind.astype(str) == "metal"].drop_duplicates(
        ["key", "pdb_id", "chain"]).groupby("key").size().reindex(range(n), fill_value=0).to_numpy()
    for col, feature, denom in (("scbb", "side-chain-backbone H-bond lost", units),
                                ("shell", "metal second shell", metal_units),
                                ("strain", "disallowed phi/psi", units)):
        has = np.array([feature in t for t in texts], dtype=bool)[codes] if len(texts) else \
            np.zeros(len(dmg), dtype=bool)
        hit = dmg[has].drop_duplicates(
            ["key", "pdb_id", "chain"]).groupby("key").size().reindex(range(n), fill_value=0).to_numpy()
        out[col] = np.where(denom > 0, np.minimum(hit, denom) / np.maximum(denom, 1), 0.0)


def _role_features(out: pd.DataFrame, first: pd.DataFrame, fetcher) -> None:
    """The gene's role (catalog), anatomy and recurrence: the oncogene model's inputs."""
    cat = catalog()
    region = (first["region"].astype(object).fillna("").astype(str).to_numpy()
              if "region" in first else np.full(len(out), "", dtype=object))
    out["region"] = region
    for c, src in (("hot_n", "hotspot_tumours"), ("hot_allele_n", "hotspot_allele_tumours")):
        out[c] = (pd.to_numeric(first[src], errors="coerce").to_numpy(dtype=float)
                  if src in first else np.nan)
    roles, catalytic = [], []
    for acc, pos in zip(out.accession, out.position, strict=True):
        try:
            t = cat.target(acc) if isinstance(acc, str) and acc else None
        except KeyError:
            t = None
        roles.append(t.role_kind if t is not None else "")
        cat_res = ""
        if t is not None and t.role_kind == "oncogene" and pos == pos:
            cat_res = anatomy(t.accession, fetcher).catalytic(int(pos))
        catalytic.append(cat_res)
    out["role"] = roles
    out["catalytic"] = catalytic
    parts = pd.Series(region).str.split("; ")
    out["hot"] = np.log1p(np.nan_to_num(out.hot_n.to_numpy(dtype=float), nan=0.0))
    out["reg"] = parts.map(lambda p: any(x in REGULATORY for x in p)).to_numpy(dtype=float)
    out["pocket"] = parts.map(lambda p: "ATP pocket" in p).to_numpy(dtype=float)
    out["epi"] = parts.map(lambda p: any(x.endswith(" epitope") for x in p)).to_numpy(dtype=float)
    out["fcons"] = out.cons.fillna(0.0)
    out["flo"] = out.lo.fillna(0.0)


def verdict(feat: pd.DataFrame) -> pd.DataFrame:
    """impact_score, effect_class, mechanism, mechanism_evidence, agreement, evolution and model
    per variant, each by its gene's role (module docstring)."""
    ms = models()
    n = len(feat)
    onc = (feat.role == "oncogene").to_numpy() if "role" in feat else np.zeros(n, dtype=bool)
    use_evo = feat.scorable & feat.lo.notna() & (feat.evo_kind == "homologs") & ~onc
    score = np.full(n, np.nan)
    f = feat.assign(lo=feat.lo.fillna(0.0), cons=feat.cons.fillna(0.0),
                    bur_lo=feat.bur_lo.fillna(0.0))
    sel = use_evo.to_numpy()
    if sel.any():
        score[sel] = ms["evolution"].predict(f[sel])
    og = feat.scorable.to_numpy() & onc
    if og.any():
        score[og] = ms["oncogene"].predict(f[og])
    rest = feat.scorable.to_numpy() & ~sel & ~og
    if rest.any():
        score[rest] = ms["structure"].predict(f[rest])
    mech, evid, agree, klass = [], [], [], []
    for i, r in enumerate(feat.itertuples(index=False)):
        if onc[i]:
            m, e, a, k = _oncogene_mechanism(r, score[i])
        else:
            m, e, a = _mechanism(r, score[i])
            k = _suppressor_class(r, score[i])
        e += _stability_clause(r, bool(onc[i]))
        mech.append(m)
        evid.append(e)
        agree.append(a)
        klass.append(k)
    note = feat.evo_note.astype(str)
    family = (feat.evo_kind == "family").to_numpy()
    evo = np.select([sel, family, note != ""],
                    ["homologs: " + note, "family (paralogs), not in the score: " + note,
                     "no evidence: " + note], "no evidence")
    lo_txt = ("log-odds " + feat.lo.round(2).astype(str) + ", conservation "
              + feat.cons.round(2).astype(str) + " (")
    evo = np.where(feat.lo.notna(), lo_txt + evo + ")", evo)
    evo = np.where(og & family, "family (paralogs), in the oncogene score: " + note, evo)
    return pd.DataFrame({"impact_score": np.round(score, 3), "effect_class": klass,
                         "mechanism": mech, "mechanism_evidence": evid, "agreement": agree,
                         "evolution": evo, "model": np.select(
                             [sel, og, rest], ["evolution", "oncogene", "structure"], "")})


def _stability_clause(r, oncogene: bool) -> str:
    """'; stability +2.31 nats (reading)' for a scored missense change, else ''. For an
    oncogene a destabilising change is read by where it is: in a regulatory element its
    autoinhibitory packing may be released (activation); elsewhere the inactive/active balance
    may shift or less protein may fold. Evidence only: the score never reads it for HER2."""
    sc = getattr(r, "stab_raw", float("nan"))
    if not r.scorable or sc != sc:
        return ""
    word = ("strongly destabilising" if sc >= STABILITY_STRONG else "destabilising"
            if sc >= STABILITY_WEAK else "near neutral" if sc > -STABILITY_WEAK else "stabilising")
    if oncogene and sc >= STABILITY_WEAK:
        word += ("; in a regulatory element: may release its autoinhibitory packing" if r.reg
                 else "; may shift the inactive/active balance or lower the folded protein")
    return f"; stability {sc:+.2f} nats ({word})"


def _fmt(d: float) -> str:
    return "n/a" if d != d else f"{d:.1f} A"


def _mechanism(r, score: float) -> tuple[str, str, str]:
    kind = str(r.kind)
    if kind in TRUNCATING:
        return "truncating", f"{kind}: the score is calibrated on missense changes only", ""
    if kind == "synonymous":
        return "no protein change", "synonymous", ""
    if kind == "splice":
        return "splice site", "splice-site change: the protein effect is not predicted", ""
    if kind == "stop_lost":
        return "extension", "stop lost: C-terminal extension", ""
    if not r.scorable:
        return "not scored", f"{kind} change", ""
    n_exp, plddt = int(r.n_exp) or int(r.n_fam), r.plddt_af
    if n_exp == 0:
        if plddt == plddt and plddt >= PLDDT_CONFIDENT:
            pass  # a confident AlphaFold region: judged like a structure
        elif plddt == plddt:
            return ("low-confidence model only",
                    f"only the AlphaFold model covers it, pLDDT {plddt:.0f} < {PLDDT_CONFIDENT:.0f}", "")
        else:
            return "outside structures", "no structure in the table has this residue", ""
    rsa_txt = (f"RSA {100 * (1 - r.bur):.0f} %"
               + (f" (median of {n_exp} chains" + (", family stand-ins)" if not r.n_exp else ")")
                  if n_exp else " (AlphaFold model)"))
    wt, alt = str(r.ref), str(r.alt)
    if r.covalent:
        n_cov = r.covalent.count(" in ")
        return ("covalent anchor", f"covalent bond {r.covalent}",
                f"bonded in {n_cov} structure{'s' if n_cov > 1 else ''}")
    if r.zn_n and r.zn_in / r.zn_n > MAJORITY:
        return ("zinc site", f"{wt}{int(r.position)} coordinates the zinc (median {_fmt(r.zn_d)})",
                f"{int(r.zn_in)}/{int(r.zn_n)} chains with zinc")
    keeps = alt in AA20 and bool(same_chemistry(np.array([wt]))[0, AA20.index(alt)])
    if r.dna_n and r.dna_sc / r.dna_n > MAJORITY and not keeps:
        return ("DNA contact", f"side chain within the cut-off of DNA (median {_fmt(r.dna_d)}); "
                f"{alt} cannot keep the contact", f"{int(r.dna_sc)}/{int(r.dna_n)} chains with DNA")
    if r.lig_in:
        return ("drug pocket", f"within the cut-off of {r.lig_where} (HER2 structures)",
                f"{int(r.lig_in)}/{int(r.lig_n)} chains with a ligand")
    if r.famlig_in:
        return ("drug pocket", f"via the family alignment, within the cut-off of {r.famlig_where} "
                "(EGFR stand-ins; no HER2 structure shows it)",
                f"{int(r.famlig_in)}/{int(r.famlig_n)} EGFR chains with a ligand")
    if r.ab_in:
        return ("antibody epitope", f"within the cut-off of {r.ab_where}",
                f"{int(r.ab_in)}/{int(r.ab_n)} chains with an antibody")
    evo = f"; log-odds {r.lo:.2f}, conservation {r.cons:.2f}" if r.lo == r.lo else ""
    agree = f"buried (RSA < {100 * CORE_RSA:.0f} %) in {int(r.n_buried)}/{n_exp} chains" if n_exp else ""
    if score >= DAMAGING:
        return "buried core / destabilising", f"{rsa_txt}{evo}; score {score:.2f}", agree
    if n_exp and r.n_buried / n_exp > MAJORITY:  # never 'surface' for a buried residue
        m = "buried, tolerated substitution" if score < NEUTRAL else "buried core / uncertain"
        return m, f"{rsa_txt}{evo}; score {score:.2f}", agree
    return "surface / tolerated", f"{rsa_txt}{evo}; score {score:.2f}", agree


def _suppressor_class(r, score: float) -> str:
    """effect_class of a tumour suppressor's variant: the loss-of-function reading."""
    kind = str(r.kind)
    if kind in TRUNCATING:
        return "loss of function (truncating)"
    if score != score:
        return "not assessed"
    if score >= DAMAGING:
        return "loss of function"
    return "likely neutral" if score < NEUTRAL else "uncertain"


# the mechanisms of an oncogene's variant, read from the anatomy (structkit.analysis.anatomy), in order
ONCOGENE_ELEMENTS = ("alphaC-beta4 loop", "alphaC helix", "activation loop", "DFG motif",
                     "glycine-rich P-loop", "hinge and linker", "catalytic loop",
                     "dimerisation arm", "Transmembrane", "juxtamembrane")


def _oncogene_mechanism(r, score: float) -> tuple[str, str, str, str]:
    """(mechanism, evidence, agreement, effect_class) of an oncogene's variant (see module doc)."""
    kind = str(r.kind)
    parts = [p for p in str(r.region).split("; ") if p]
    hot = (f"; {int(r.hot_n)} tumours at this residue in Cancer Hotspots v2"
           if r.hot_n == r.hot_n and r.hot_n > 0 else "")
    where = f"region: {'; '.join(parts) or 'none'}{hot}"
    if not r.scorable:
        m, e, a = _mechanism(r, score)
        el = next((x for x in ONCOGENE_ELEMENTS if x in parts), "")
        if kind in TRUNCATING:
            return m, e, a, "not assessed (truncating)"
        return (el or m), f"{e}; {where}", a, f"not assessed ({kind})"
    n_exp = int(r.n_exp) or int(r.n_fam)
    agree = f"buried (RSA < {100 * CORE_RSA:.0f} %) in {int(r.n_buried)}/{n_exp} chains" if n_exp else ""
    rsa = f"RSA {100 * (1 - r.bur):.0f} %; " if n_exp else ""
    txt = f"{rsa}{where}; score {score:.2f}"
    resistance = "gatekeeper" in parts or "ATP pocket" in parts or bool(r.covalent)
    if r.catalytic:
        klass = "catalytically dead"
    elif r.covalent:  # the drug's anchor is lost: resistance to that covalent drug, whatever else
        klass = "resistance candidate"
    elif score >= DAMAGING:
        klass = "resistance candidate" if resistance else "activating"
    elif (r.hot_n == r.hot_n and r.hot_n > 0) or any(x in ONCOGENE_ELEMENTS for x in parts):
        klass = "uncertain"
    else:
        klass = "likely neutral" if score < NEUTRAL else "uncertain"
    if r.covalent:
        return "covalent anchor", f"covalent bond {r.covalent}; {txt}", agree, klass
    if r.catalytic:
        return f"catalytic residue ({r.catalytic})", txt, agree, klass
    if "gatekeeper" in parts:
        return "gatekeeper", txt, agree, klass
    if r.lig_in:
        return ("ATP pocket", f"within the cut-off of {r.lig_where} (HER2 structures); {txt}",
                f"{int(r.lig_in)}/{int(r.lig_n)} chains with a ligand", klass)
    el = next((x for x in ONCOGENE_ELEMENTS if x in parts), "")
    if el and el not in ("dimerisation arm", "Transmembrane", "juxtamembrane"):
        return el, txt, agree, klass
    if r.famlig_in:
        return ("ATP pocket (EGFR stand-ins)", f"via the family alignment, within the cut-off of "
                f"{r.famlig_where}; {txt}", f"{int(r.famlig_in)}/{int(r.famlig_n)} EGFR chains "
                "with a ligand", klass)
    epi = [x for x in parts if x.endswith(" epitope")]
    if epi:
        dom = next((x for x in parts if x.startswith("ECD domain")), "")
        return (" and ".join(epi) + (f" ({dom})" if dom else ""), txt,
                f"{int(r.ab_in)}/{int(r.ab_n)} chains with an antibody" if r.ab_n else "", klass)
    if el:
        return el.lower() if el == "Transmembrane" else el, txt, agree, klass
    if not n_exp and not parts:
        return "outside structures", txt, agree, klass
    last = parts[-1] if parts else "kinase"
    buried = n_exp and r.n_buried / n_exp > MAJORITY
    # no named element holds the residue: say where it is, not that it does nothing
    return f"{last}{', buried' if buried else ''}, no named element", txt, agree, klass
