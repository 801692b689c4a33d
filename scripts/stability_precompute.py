"""Score every target chain of the catalog's structures of a gene with ProteinMPNN and write the
table structkit ships (``src/structkit/analysis/stability_proteinmpnn.tsv.gz`` and its provenance
``stability_proteinmpnn.json``). See ``structkit.analysis.stability`` for what the score is.

Reproducible: the provenance records the model, the SHA-256 of the weights, of each structure
file and of each chain's backbone, the decoding orders (``numpy.random.default_rng(seed)
.permutation(n)``, one per order, and the SHA-256 of the orders), the seed and the versions.

    python scripts/stability_precompute.py --mirror ../shared/data            # TP53 and ERBB2
    python scripts/stability_precompute.py --mirror ../shared/data --genes TP53 --out /tmp/x

Needs ``structkit[ml]`` (torch) and the weights (``Fetcher.model_weights``: cache, mirror,
an installed ``proteinmpnn`` package, or the authors' release). A structure that cannot be
obtained offline is listed under ``not_available`` in the provenance, not skipped silently.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--genes", default="TP53,ERBB2", help="comma-separated genes of the catalog")
    ap.add_argument("--out", default=str(ROOT / "src" / "structkit" / "analysis"),
                    help="folder for stability_proteinmpnn.tsv.gz and .json")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    os.environ.update({"STRUCTKIT_MIRROR": str(Path(args.mirror).resolve()), "STRUCTKIT_OFFLINE": "1",
                       "STRUCTKIT_CACHE": os.environ.get("STRUCTKIT_CACHE")
                       or tempfile.mkdtemp(prefix="structkit-stability-")})
    import torch

    import structkit as sk
    from structkit.analysis import analyze
    from structkit.analysis import stability as S
    from structkit.analysis.damage import AA20
    from structkit.catalog import catalog
    from structkit.io.fetch import FetchError
    from structkit.io.files import atomic_write, sha256_file
    from structkit.io.store import default_session

    if args.threads:
        torch.set_num_threads(args.threads)
    f = default_session()
    weights = f.model_weights(S.WEIGHTS_FILE)
    meta = {"model": S.MODEL, "weights_file": S.WEIGHTS_FILE, "weights_sha256": S.WEIGHTS_SHA256,
            "weights_source": weights.source, "n_orders": S.N_ORDERS, "seed": S.SEED,
            "orders": "numpy.random.default_rng(seed).permutation(n) per order (n = residues with "
                      "a complete backbone), the scored residue moved last",
            "score": "log p(wt) - log p(alt), nats, higher = more destabilising; chain alone, model 1",
            "versions": {"structkit": sk.__version__, "torch": torch.__version__,
                         "numpy": np.__version__, "python": sys.version.split()[0]},
            "made": time.strftime("%Y-%m-%d"), "chains": {}, "not_available": []}
    rows = []
    cat = catalog()
    for gene in args.genes.split(","):
        target = cat.target(gene.strip())
        for entry in cat.structures_for(target.accession):
            try:
                a = analyze(entry, target.accession, session=f)
            except FetchError as exc:
                meta["not_available"].append({"pdb_id": entry.id, "why": type(exc).__name__})
                print(f"{entry.id}: not available ({exc})", file=sys.stderr)
                continue
            st = a.structure
            for ch, cd in a.chains.items():
                ri = cd.numbering.residue_indices
                key = S.backbone_key(st, ri)
                complete = S.chain_backbone(st, ri)[0]
                m = int(complete.sum())
                rng = np.random.default_rng(S.SEED)
                orders = hashlib.sha256(b"".join(rng.permutation(m).astype(np.int64).tobytes()
                                                 for _ in range(S.N_ORDERS))).hexdigest()
                t0 = time.perf_counter()
                lp = S.score_chain(st, ri, weights.path, progress=True, label=f"{st.id} {ch}")
                secs = time.perf_counter() - t0
                meta["chains"][key] = {
                    "pdb_id": st.id, "chain": ch, "gene": target.gene, "n_residues": len(ri),
                    "n_scored": m, "file": Path(st.path).name, "file_sha256": sha256_file(st.path),
                    "orders_sha256": orders, "seconds": round(secs, 1)}
                ok = np.flatnonzero(~np.isnan(lp).all(axis=1))
                df = pd.DataFrame(lp[ok].round(4), columns=list(AA20))
                df.insert(0, "key", key[:64])
                df.insert(1, "k", ok)
                df.insert(2, "author_num", st.res_num[ri][ok])
                df.insert(3, "icode", st.res_icode[ri][ok].astype(str))
                df.insert(4, "wt", np.asarray(cd.aa).astype(str)[ok])
                rows.append(df)
                print(f"{st.id} {ch}: {m} residues in {secs:.0f} s", file=sys.stderr)
    out = Path(args.out)
    table = pd.concat(rows, ignore_index=True)
    text = table.to_csv(sep="\t", index=False, lineterminator="\n").encode()
    with atomic_write(out / S.SHIPPED) as tmp:
        Path(tmp).write_bytes(gzip.compress(text, mtime=0))
    with atomic_write(out / S.SHIPPED_META) as tmp:
        Path(tmp).write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out / S.SHIPPED} ({len(table)} residues, {len(meta['chains'])} chains)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
