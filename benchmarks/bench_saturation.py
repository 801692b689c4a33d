"""Saturation benchmark: every substitution at every observed p53 DBD residue, against a baseline.

Run:  python benchmarks/bench_saturation.py [--mirror ../shared/data] [--baseline-variants 400]

Measures, for the p53 DNA-binding domain (UniProt 94-312 x 19 substitutions, about 4,200
variants) over every p53 structure of the catalog found in the mirror:
- cold: a fresh process doing parsing, per-structure precomputation and the table;
- warm: the same table again in a process whose structures are already analysed;
- pairs/s: variant-structure pairs per second (warm);
- peak memory (max RSS of the cold process);
and the same pairs/s for the straightforward loop a user would write (Biopython PDBParser, then
NeighborSearch around each variant residue for the DNA and zinc partners), on a subset of the
variants, in the same script so that the ratio is measured on the same machine at the same time.
Each kind runs in ``--repeats`` fresh processes, interleaved; the warm time is reported as the
median and the best of all warm runs, each against the same statistic of the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
AA = "ACDEFGHIKLMNPQRSTVWY"


def p53_variants():
    from structkit.io.uniprot import uniprot_record
    from structkit.io.variants import Variant

    seq = uniprot_record("P04637").sequence
    return [Variant("TP53", "P04637", "missense", p, seq[p - 1], a, raw="")
            for p in range(94, 313) for a in AA if a != seq[p - 1]]


def p53_structures():
    from structkit.catalog import catalog
    from structkit.io.fetch import FetchError
    from structkit.io.store import default_session

    out = []
    for s in catalog().structures_for("TP53"):
        try:
            if s.is_alphafold:
                default_session().alphafold(s.id[3:])
            else:
                default_session().pdb(s.id, assembly=s.assembly)
            out.append(s.id)
        except FetchError:
            pass
    return out


def run_ours(n_warm: int, damage: bool = True) -> dict:
    """In this process: cold once, then warm ``n_warm`` times."""
    import resource

    t0 = time.perf_counter()
    import biotite.structure  # noqa: F401  - imported lazily by structkit; timed as imports

    from structkit.outputs.impact import impact_table

    t_import = time.perf_counter() - t0
    variants = p53_variants()
    structures = p53_structures()
    t1 = time.perf_counter()
    table = impact_table(variants, structures=structures, damage=damage)
    cold = time.perf_counter() - t0
    cold_table = time.perf_counter() - t1
    import gc

    warm = []
    for _ in range(n_warm):
        gc.collect()  # time the table, not the collection of the previous run's garbage
        t = time.perf_counter()
        impact_table(variants, structures=structures, damage=damage)
        warm.append(time.perf_counter() - t)
    extra = {}
    if damage:  # the public path as a user calls it: variant strings, then the verdict
        from structkit.outputs.impact import summarize

        strings = [f"TP53:p.{v.ref}{v.position}{v.alt}" for v in variants]
        extra["warm_strings_s"] = []
        for _ in range(3):
            gc.collect()
            t = time.perf_counter()
            impact_table(strings, structures=structures)
            extra["warm_strings_s"].append(time.perf_counter() - t)
        t = time.perf_counter()
        summarize(table)
        extra["summarize_first_s"] = time.perf_counter() - t
        t = time.perf_counter()
        summarize(table)
        extra["summarize_warm_s"] = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    return {**extra, "variants": len(variants), "structures": structures, "rows": len(table),
            "pairs": len(variants) * len(structures), "cold_s": cold, "cold_table_s": cold_table,
            "import_s": t_import,
            "warm_s": warm, "peak_mib": peak}


def run_baseline(n_variants: int) -> dict:
    """The loop a user would write: Biopython parse, then NeighborSearch per variant residue."""
    import gzip
    import io

    from Bio.PDB import NeighborSearch, PDBParser

    from structkit.catalog import catalog
    from structkit.io.store import default_session

    variants = p53_variants()[:n_variants]
    structures = p53_structures()
    t0 = time.perf_counter()
    pairs = 0
    for sid in structures:
        entry = catalog().structure(sid)
        path = (default_session().alphafold(sid[3:]) if entry.is_alphafold
                else default_session().pdb(sid, assembly=entry.assembly)).path
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        model = PDBParser(QUIET=True).get_structure(sid, io.StringIO(raw.decode("latin-1")))[0]
        dna = set()
        for p in entry.partners:
            if p.kind == "dna":
                dna |= set(p.chains)
        partner_atoms = [a for a in model.get_atoms()
                         if a.get_parent().get_parent().id in dna or a.element == "ZN"]
        ns = NeighborSearch(partner_atoms) if partner_atoms else None
        for v in variants:
            pairs += 1
            for ch in entry.target_chains:
                if ch not in model or v.position not in model[ch]:
                    continue
                res = model[ch][v.position]
                if res.get_resname() == "HOH":
                    continue
                best = float("inf")
                if ns is not None:
                    for a in res:
                        for b in ns.search(a.coord, 12.0):
                            best = min(best, a - b)
    dt = time.perf_counter() - t0
    return {"pairs": pairs, "seconds": dt, "pairs_per_s": pairs / dt}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_mirror = os.environ.get("STRUCTKIT_MIRROR", str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--mirror", default=default_mirror)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-variants", type=int, default=400)
    ap.add_argument("--readme", action="store_true",
                    help="write this run's table into README.md between this script's markers")
    ap.add_argument("--inner", choices=["ours", "ours-lean", "baseline"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ["STRUCTKIT_MIRROR"] = args.mirror
    os.environ["STRUCTKIT_OFFLINE"] = "1"
    if args.inner in ("ours", "ours-lean"):
        print(json.dumps(run_ours(args.repeats, damage=args.inner == "ours")))
        return 0
    if args.inner == "baseline":
        print(json.dumps(run_baseline(args.baseline_variants)))
        return 0
    import tempfile

    def inner(kind: str, env: dict) -> dict:
        out = subprocess.run([sys.executable, __file__, "--inner", kind, "--repeats", "5",
                              "--mirror", args.mirror, "--baseline-variants",
                              str(args.baseline_variants)],
                             env=env, capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    runs: dict[str, list[dict]] = {"ours": [], "ours-lean": [], "baseline": []}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "STRUCTKIT_CACHE": cache}
        for _ in range(args.repeats):  # interleaved, so that all three see the same machine
            for kind in runs:
                runs[kind].append(inner(kind, env))
    base = [r["pairs_per_s"] for r in runs["baseline"]]
    ours = runs["ours"][0]
    from importlib.metadata import version

    print("versions: python " + sys.version.split()[0] + ", " + ", ".join(
        f"{m} {version(m)}" for m in ("numpy", "pandas", "scipy", "gemmi", "biotite", "structkit")))
    print(f"p53 saturation: {ours['variants']} variants x {len(ours['structures'])} structures "
          f"({', '.join(ours['structures'])}) = {ours['pairs']} variant-structure pairs, "
          f"{ours['rows']} table rows; {args.repeats} fresh processes each")
    print(f"baseline (Biopython PDBParser + NeighborSearch, {runs['baseline'][0]['pairs']} pairs): "
          f"median {statistics.median(base):,.0f} pairs/s, best {max(base):,.0f} pairs/s")
    table: dict[str, list[str]] = {}  # measure -> [default, distances only] for --readme
    for name, kind in (("default (damage columns)", "ours"), ("distances only (damage=False)", "ours-lean")):
        rs = runs[kind]
        _cells(table, kind, rs, ours["pairs"], base)
        warm = [w for r in rs for w in r["warm_s"]]
        med, best = statistics.median(warm), min(warm)
        pps_med, pps_best = ours["pairs"] / med, ours["pairs"] / best
        print(f"{name}:")
        print(f"  cold, parse + per-structure precompute + table: median "
              f"{statistics.median(r['cold_table_s'] for r in rs):.2f} s, "
              f"max {max(r['cold_table_s'] for r in rs):.2f} s")
        print(f"  cold, whole fresh process (incl. {statistics.median(r['import_s'] for r in rs):.2f} s "
              f"imports): median {statistics.median(r['cold_s'] for r in rs):.2f} s")
        print(f"  warm ({len(warm)} runs): median {med:.3f} s = {pps_med:,.0f} pairs/s = "
              f"{pps_med / statistics.median(base):.0f}x baseline (median vs median); best {best:.3f} s "
              f"= {pps_best / max(base):.0f}x (best vs best)")
        print(f"  peak memory (max RSS): {max(r['peak_mib'] for r in rs):.0f} MiB")
        if kind == "ours":
            ws = [w for r in rs for w in r["warm_strings_s"]]
            print(f"  warm from variant strings (public path, {len(ws)} runs): median "
                  f"{statistics.median(ws):.3f} s, best {min(ws):.3f} s")
            print(f"  summarize() with the verdict: first call in a process median "
                  f"{statistics.median(r['summarize_first_s'] for r in rs):.2f} s, then median "
                  f"{statistics.median(r['summarize_warm_s'] for r in rs):.2f} s")
    if args.readme:
        from validity import readme_output  # the README block writer of the benchmarks

        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        vers = ", ".join(f"{m} {version(m)}" for m in ("numpy", "pandas", "scipy", "gemmi",
                                                       "biotite", "structkit"))
        block = "\n".join([
            f"Run of {when} ({args.repeats} fresh processes of each kind, interleaved; "
            f"{ours['pairs']:,} variant-structure pairs, {ours['rows']:,} rows; python "
            f"{sys.version.split()[0]}, {vers}; 'cold' reads the structures' derived data "
            "from the disk cache after the first process):", "",
            "| measure | default (damage columns) | distances only (`damage=False`) |",
            "| --- | --- | --- |",
            *(f"| {m} | {' | '.join(v + [''] * (2 - len(v)))} |" for m, v in table.items())])
        return readme_output(block, args, "bench_saturation.py")
    return 0


def _cells(table: dict, kind: str, rs: list[dict], pairs: int, base: list[float]) -> None:
    """This kind's column of the README table (the same figures the script prints)."""
    warm = [w for r in rs for w in r["warm_s"]]
    med, best = statistics.median(warm), min(warm)
    put = table.setdefault
    put("cold: parse + per-structure work + table (median)", []).append(
        f"{statistics.median(r['cold_table_s'] for r in rs):.2f} s")
    put("cold: whole fresh process", []).append(
        f"{statistics.median(r['cold_s'] for r in rs):.2f} s (imports "
        f"{statistics.median(r['import_s'] for r in rs):.2f} s)")
    put("warm: pre-parsed variants, median / best", []).append(f"{med:.3f} / {best:.3f} s")
    put("warm / baseline (Biopython loop), median vs median / best vs best", []).append(
        f"{pairs / med / statistics.median(base):.0f}x / {pairs / best / max(base):.0f}x")
    put("peak memory (max RSS)", []).append(f"{max(r['peak_mib'] for r in rs):.0f} MiB")
    if kind == "ours":
        ws = [w for r in rs for w in r["warm_strings_s"]]
        put("warm from variant strings (public path), median / best", []).append(
            f"{statistics.median(ws):.3f} / {min(ws):.3f} s")
        put("`summarize()` with the verdict: first call / then (median)", []).append(
            f"{statistics.median(r['summarize_first_s'] for r in rs):.2f} / "
            f"{statistics.median(r['summarize_warm_s'] for r in rs):.2f} s")
        put("baseline: median / best pairs/s", []).append(
            f"{statistics.median(base):,.0f} / {max(base):,.0f}")


if __name__ == "__main__":
    sys.exit(main())
