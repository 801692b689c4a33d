"""Regenerate the README's pictures from a fresh run (issue 25: the screenshot must show what a
fresh run draws).

    python scripts/screenshots.py [--mirror ../shared/data] [--out docs]

Writes ``docs/report_seed_panel.png``: the top of the seed-panel report (summary table and the
first figures) as headless Chromium draws it, offline on the mirror. Needs Chromium.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirror", default=str(REPO.parent / "shared" / "data"),
                    help="the data mirror (default ../shared/data)")
    ap.add_argument("--out", default=str(REPO / "docs"), help="folder of the pictures (default docs/)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1500)
    args = ap.parse_args(argv)

    import structkit as sk
    from structkit.catalog import catalog
    from structkit.io.files import atomic_write
    from structkit.outputs.browser import render

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="structkit-shots-") as tmp:
        session = sk.Session(mirror=args.mirror, offline=True, cache_dir=Path(tmp) / "cache")
        panel = [(v["gene"], v["change"]) for v in catalog().seed_panel]
        page = sk.report(panel, Path(tmp) / "seed.html", session=session, max_views=0,
                         command="python scripts/screenshots.py")
        target = out / "report_seed_panel.png"
        with atomic_write(target) as part:
            render(page, f"--screenshot={part}", window=(args.width, args.height))
            if not part.is_file() or part.stat().st_size == 0:
                print(f"screenshots: Chromium wrote no picture for {target}", file=sys.stderr)
                return 1
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
