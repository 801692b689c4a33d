"""Write the mkdssp reference assignments that tests/test_dssp.py compares structkit.analysis.dssp with
when mkdssp is not installed: ``tests/data/dssp_mkdssp.tsv.gz`` (per protein residue of model 1
of every catalog structure in the mirror: PDB ID, chain, author number, insertion code, the
8-state letter) and ``tests/data/dssp_mkdssp.json`` (mkdssp version, the SHA-256 of each
structure file). Only the secondary-structure letters are kept (no coordinates).

    python scripts/dssp_references.py --mirror ../shared/data
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", default=str(ROOT.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    os.environ.update({"STRUCTKIT_MIRROR": str(Path(args.mirror).resolve()), "STRUCTKIT_OFFLINE": "1",
                       "STRUCTKIT_CACHE": tempfile.mkdtemp(prefix="structkit-dssp-")})
    from structkit.analysis.measure import _minimal_pdb, _parse_dssp
    from structkit.catalog import catalog
    from structkit.io.fetch import NotAvailableOffline
    from structkit.io.files import atomic_write, sha256_file
    from structkit.io.resolve import load

    version = subprocess.run(["mkdssp", "--version"], capture_output=True, text=True,
                             check=True).stdout.split("\n")[0].strip()
    rows, files = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for entry in catalog().structures:
            try:
                st = load(entry.id)
            except NotAvailableOffline:
                print(f"{entry.id}: not available offline", file=sys.stderr)
                continue
            idx = [i for i in range(len(st.res_num))
                   if st.res_kind[i] == "protein" and st.res_model[i] == 1]
            inp, out = Path(tmp) / "in.pdb", Path(tmp) / "out.dssp"
            text, keys = _minimal_pdb(st, idx)
            inp.write_text(text)
            subprocess.run(["mkdssp", "--output-format", "dssp", str(inp), str(out)], check=True,
                           capture_output=True)
            ss = _parse_dssp(keys, out.read_text())
            files[st.id] = {"file": Path(st.path).name, "sha256": sha256_file(st.path),
                            "residues": len(idx)}
            rows.append(pd.DataFrame({"pdb_id": st.id, "chain": st.res_chain[idx],
                                      "author_num": st.res_num[idx], "icode": st.res_icode[idx],
                                      "ss": ss}))
    OUT.mkdir(parents=True, exist_ok=True)
    table = pd.concat(rows, ignore_index=True)
    with atomic_write(OUT / "dssp_mkdssp.tsv.gz") as tmp:
        Path(tmp).write_bytes(gzip.compress(table.to_csv(sep="\t", index=False).encode(), mtime=0))
    with atomic_write(OUT / "dssp_mkdssp.json") as tmp:
        Path(tmp).write_text(json.dumps({"mkdssp": version, "structures": files}, indent=1) + "\n")
    print(f"wrote {len(table)} residues of {len(files)} structures ({version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
