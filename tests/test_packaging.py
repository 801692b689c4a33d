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
            "import structkit.analysis, structkit.summary, structkit.dossier; "
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

    code = ("import pkgutil, importlib, structkit as sk\n"
            "first = {n: getattr(sk, n) for n in sk.__all__}\n"
            "for m in pkgutil.iter_modules(sk.__path__):\n"
            "    importlib.import_module('structkit.' + m.name)\n"
            "moved = [n for n in sk.__all__ if getattr(sk, n) is not first[n]]\n"
            "print(','.join(moved), sk.catalog().target('HER2').gene)")
    code_late = ("import structkit as sk, structkit.table\n"
                 "print(sk.catalog().target('HER2').accession)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ERBB2"], out.stdout
    out = subprocess.run([sys.executable, "-c", code_late], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "P04626"


def test_no_import_cycles_between_modules():
    """No two modules import each other, directly or around a loop, counting the imports made
    inside functions too (issue 26: cycles hidden by in-function imports)."""
    import ast

    root = REPO / "src" / "structkit"
    edges = {}
    for p in root.rglob("*.py"):
        name = p.parent.name if p.name == "__init__.py" else p.stem
        tree = ast.parse(p.read_text())
        edges[name] = {n.module.split(".")[0] for n in ast.walk(tree)
                       if isinstance(n, ast.ImportFrom) and n.level >= 1 and n.module}
    seen: list[tuple[str, ...]] = []

    def walk(start: str, node: str, path: tuple[str, ...]) -> None:
        for d in sorted(edges.get(node, ())):
            if d == start:
                seen.append(path)
            elif d not in path and d in edges:
                walk(start, d, (*path, d))

    for m in sorted(edges):
        walk(m, m, (m,))
    assert not seen, f"import cycles: {seen[:5]}"


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
