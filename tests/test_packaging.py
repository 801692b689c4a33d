"""Packaging: pyproject and environment.yml agree; the console script and public API exist."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml
from conftest import REPO


def _name(spec: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    want = dict(_name(s) for s in py["dependencies"] + py["optional-dependencies"]["dev"]
                + py["optional-dependencies"]["ml"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda_only = {"dssp"}  # mkdssp: a program, not a Python package
    conda_names = {"pytorch": "torch"}  # conda-forge's name of the PyPI package
    got = {conda_names.get(k, k): v for k, v in (
        _name(s) for s in env["dependencies"] if isinstance(s, str)
        and not s.startswith(("python", "pip")))}
    assert set(got) - set(want) == conda_only
    assert {k: v for k, v in got.items() if k not in conda_only} == want


def test_console_script_help_teaches():
    out = subprocess.run([sys.executable, "-m", "structkit.cli", "impact", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for word in ("UniProt numbering", "--cutoff", "seed panel", "ERBB2:p.S310F", "--input"):
        assert word in out


def test_public_api():
    import structkit

    for name in structkit.__all__:
        assert hasattr(structkit, name), name


def test_import_and_help_load_no_science_stack():
    """``import structkit`` and the parser behind ``structkit --help`` load no pandas, scipy,
    gemmi, requests or matplotlib (they load on first use); timing is for benchmarks."""
    import subprocess
    import sys

    code = ("import sys, structkit; from structkit.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('pandas', 'scipy', 'gemmi', 'requests', 'matplotlib', 'numpy') "
            "if m in sys.modules]; print(','.join(heavy)); "
            "structkit.impact_table; print('pandas' in sys.modules); "
            "import structkit.analysis.structure_analysis, structkit.judge.summary, "
            "structkit.outputs.report; "
            "print(','.join(m for m in ('requests', 'urllib3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.split("\n")
    assert lines[0] == "" and lines[1] == "True", out.stdout
    assert lines[2] == "", out.stdout  # the HTTP client loads when the network is first used


def test_public_names_stay_what_they_are_after_submodules_load():
    """Each public name is the same object however the package was entered: ``catalog`` (a
    function in a subpackage of the same name) stays the function after another module has
    imported the subpackage, which is how it broke in a notebook (``sk.load`` then
    ``sk.catalog()`` -> 'module' object is not callable)."""
    import subprocess
    import sys

    code = ("import pkgutil, importlib, importlib.util, structkit as sk\n"
            "first = {n: getattr(sk, n) for n in sk.__all__}\n"
            "for m in pkgutil.walk_packages(sk.__path__, 'structkit.'):\n"
            "    if not m.name.endswith('.mpnn') or importlib.util.find_spec('torch'):\n"
            "        importlib.import_module(m.name)  # (mpnn needs the optional torch)\n"
            "moved = [n for n in sk.__all__ if getattr(sk, n) is not first[n]]\n"
            "print(','.join(moved), sk.catalog().target('HER2').gene)")
    code_late = ("import structkit as sk, structkit.analysis.table\n"
                 "print(sk.catalog().target('HER2').accession)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ERBB2"], out.stdout
    out = subprocess.run([sys.executable, "-c", code_late], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "P04626"


def _imports() -> dict[str, set[str]]:
    """structkit's module graph: module -> the structkit modules it imports (relative imports,
    also inside functions; ``from . import x`` counts as importing ``x``)."""
    import ast

    root = REPO / "src"
    names = {".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
             for p in (root / "structkit").rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for p in (root / "structkit").rglob("*.py"):
        name = ".".join(p.relative_to(root).with_suffix("").parts)
        package = name.removesuffix(".__init__") if p.name == "__init__.py" else name.rpartition(".")[0]
        name = name.removesuffix(".__init__")
        edges[name] = set()
        for n in ast.walk(ast.parse(p.read_text())):
            if not (isinstance(n, ast.ImportFrom) and n.level >= 1):
                continue
            base = package.split(".")[:len(package.split(".")) - (n.level - 1)]
            target = ".".join([*base, *([n.module] if n.module else [])])
            for a in n.names:  # a submodule named in the import list is imported
                edges[name].add(f"{target}.{a.name}" if f"{target}.{a.name}" in names else target)
    return edges


def test_no_import_cycles_between_modules():
    """No two modules import each other, directly or around a loop, counting the imports made
    inside functions too (issue 26: cycles hidden by in-function imports). A package's own
    ``__init__`` serving its modules' names is not a cycle of those modules."""
    edges = _imports()
    seen: list[tuple[str, ...]] = []

    def walk(start: str, node: str, path: tuple[str, ...]) -> None:
        for d in sorted(edges.get(node, ())):
            if d == start:
                seen.append(path)
            elif d not in path and d in edges and not start.startswith(d + "."):
                walk(start, d, (*path, d))

    for m in sorted(edges):
        walk(m, m, (m,))
    assert not seen, f"import cycles: {seen[:5]}"


# The house's floors (DESIGN.md, README "Layout"): a module imports only its own floor and those
# below. Top-level modules other than the command line and the session are the light base.
FLOORS = {"io": 1, "catalog": 1, "analysis": 2, "judge": 3, "outputs": 4}
TOP = {"structkit", "structkit.session", "structkit.cli", "structkit.cli_args", "structkit.cli_io"}


def _floor(module: str) -> int:
    if module in TOP:
        return 5
    parts = module.split(".")
    return FLOORS.get(parts[1], 0) if len(parts) > 1 else 5


def test_a_lower_floor_never_imports_a_higher_one():
    """io < analysis < judge < outputs < the session and the command line, with the light base
    (settings, cut-offs, statuses, keywords) under all; counted on every relative import, also
    inside functions. It fails, for one, if ``judge.therapy`` takes ``impact_table`` from
    ``outputs.impact`` instead of ``analysis.table``."""
    up = sorted(f"{m} -> {d}" for m, ds in _imports().items() for d in ds
                if _floor(d) > _floor(m))
    assert not up, up
    assert _floor("structkit.analysis.table") == 2 and _floor("structkit.settings") == 0


def test_old_module_paths_are_the_moved_modules():
    """``structkit.fetch``, ``structkit.view``, ``structkit.dossier`` ... (the one-folder layout)
    are the modules at their new paths, the same objects, so code and notebooks written
    against the old paths keep working and a patch through either name is seen by both."""
    import importlib
    import importlib.util

    import structkit

    for old, new in structkit._MOVED.items():
        if old == "mpnn" and importlib.util.find_spec("torch") is None:
            continue  # ProteinMPNN needs the optional torch (structkit[ml])
        assert (REPO / "src" / "structkit" / (new.replace(".", "/") + ".py")).is_file(), new
        mod = importlib.import_module(f"structkit.{old}")
        assert mod is importlib.import_module(f"structkit.{new}"), old
        assert mod.__spec__.name == f"structkit.{new}" and mod.__name__ == f"structkit.{new}"
    assert not (REPO / "src" / "structkit" / "fetch.py").exists()
    from structkit.outputs.view import view_variants

    exec("from structkit.view import view_variants as old", ns := {})  # the notebooks' import
    assert ns["old"] is view_variants and structkit.dossier.report is structkit.report


def test_a_module_past_500_lines_says_why_in_its_docstring():
    """The house rule (issue 26): no module passes ~500 lines without a reason in its
    docstring (a 'Size:' paragraph); a module that grows past it must say why or be split."""
    import ast

    long = []
    for p in sorted((REPO / "src" / "structkit").rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        if text.count("\n") > 520:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Size:" not in doc:
                long.append(f"{p.name}: {text.count(chr(10))} lines")
    assert not long, long


def test_the_program_exits_with_mains_status(tmp_path):
    """``structkit`` (pyproject's console script, ``cli:run``) exits with ``main()``'s status:
    0 for an answer, 2 for a usage error (no variants in the input file)."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["structkit"] == "structkit.cli:run"
    empty = tmp_path / "none.txt"
    empty.write_text("# no variants\n")
    ok = subprocess.run([sys.executable, "-m", "structkit.cli", "impact", "TP53:p.R248Q"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "p.R248Q" in ok.stdout, ok.stderr[-500:]
    bad = subprocess.run([sys.executable, "-m", "structkit.cli", "impact", "--input", str(empty)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no variants" in bad.stderr
