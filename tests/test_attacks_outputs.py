"""Attacks, third pass (issue 27): outputs never destroy inputs, broken files and alignments are
refused by name, hostile input tables are read right. Each test reproduces one attack on real
files (the mirror, or copies made from it in a temporary directory), through the command line
in a subprocess where a signal or a resource limit is part of the attack; servers only on
127.0.0.1."""

from __future__ import annotations

import gzip
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_fetch import net_fetcher

from structkit.cli import main
from structkit.io.fetch import Fetcher, FetchError, IntegrityError, check_structure_bytes, env_flag
from structkit.io.resolve import load
from structkit.io.variants import VariantError, parse_variants

REPO = Path(__file__).resolve().parents[1]


def run_cli(args, cwd, data_dir, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "STRUCTKIT_MIRROR": str(data_dir), "STRUCTKIT_OFFLINE": "1",
           "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "structkit.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, **kw)


# ----------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("argv,message", [
    (["impact", "--input", "in.tsv", "--out", "in.tsv"], "--out in.tsv is the input given as --input"),
    (["impact", "TP53:p.R175H", "--msa", "aln.a2m", "--out", "aln.a2m"], "is the input given as --msa"),
    (["impact", "TP53:p.R175H", "--out", "t.tsv", "--summary-out", "./t.tsv"], "name the same file"),
    (["cohort", "--input", "x.samples.tsv", "--out", "x.tsv"], "--out x.samples.tsv is the input"),
    (["report", "TP53:p.R175H", "--out", "r.html", "--pdf", "r.html"], "--out and --pdf name the same file"),
    (["report", "--input", "in.tsv", "--out", "r.html", "--pdf", "in.tsv"], "is the input given as --input"),
    (["report", "TP53:p.R175H", "--out", "r.html", "--pdf", "r2.csv"], "--pdf r2.csv: expected a .pdf"),
    (["impact", "TP53:p.R175H", "--out", ""], "--out: empty file name"),
    (["plot", "therapies", "--input", "in.tsv", "--out", "heat.tsv"], "expected a .png or .svg or .pdf"),
])
def test_an_output_never_replaces_an_input(argv, message, tmp_path, monkeypatch, capsys, data_dir):
    monkeypatch.chdir(tmp_path)
    inputs = {"in.tsv": "variant\nTP53:p.R175H\n", "x.samples.tsv": "variant\tsample\nTP53:p.R175H\ts1\n",
              "aln.a2m": (data_dir / "msa" / "P04637.a2m").read_text()[:20000]}
    for name, text in inputs.items():
        (tmp_path / name).write_text(text)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing written


def _no_fsize_signal():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


def test_cohort_files_are_committed_as_a_set(tmp_path, data_dir):
    """Under a 100 kB file-size limit the LAML cohort's unplaced sheet (about 300 kB) cannot be
    written: the run fails with one line and every previous file is as it was, none new."""
    names = ["samples", "genes", "positions", "unplaced", "variants"]
    for n in names:
        (tmp_path / f"laml.{n}.tsv").write_text(f"previous {n}\n")
    r = run_cli(["cohort", "--input", str(data_dir / "variants" / "tcga_laml.maf.gz"),
                 "--out", "laml.tsv"], tmp_path, data_dir, preexec_fn=_no_fsize_signal)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "File too large" in r.stderr
    for n in names:
        assert (tmp_path / f"laml.{n}.tsv").read_text() == f"previous {n}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"laml.{n}.tsv" for n in names)


def test_sigterm_mid_write_leaves_no_temporary_and_a_later_run_cleans_stale_ones(tmp_path, data_dir):
    """A 60,000-row cohort (the LAML MAF repeated) streamed to CSV, stopped with SIGTERM once
    its temporary file exists: exit 143, no temporary and no half table left."""
    laml = gzip.decompress((data_dir / "variants" / "tcga_laml.maf.gz").read_bytes()).decode()
    head, *rows = [ln for ln in laml.splitlines() if not ln.startswith("#")]
    big = tmp_path / "big.maf"
    big.write_text("\n".join([head] + rows * 28) + "\n")
    env = {**os.environ, "STRUCTKIT_MIRROR": str(data_dir), "STRUCTKIT_OFFLINE": "1",
           "PYTHONPATH": str(REPO / "src")}
    p = subprocess.Popen([sys.executable, "-m", "structkit.cli", "impact", "--input", str(big),
                          "--out", "big.csv"], cwd=tmp_path, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list(tmp_path.glob(".big.csv.*.part.csv")) and p.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert p.poll() is None, "the run ended before its output was started"
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 128 + signal.SIGTERM and "interrupted (SIGTERM)" in err
    assert "Traceback" not in err
    assert not list(tmp_path.glob(".big.csv*")) and not (tmp_path / "big.csv").exists()
    # a temporary of a process that is gone (a finished child's pid) goes at the next write
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    stale = tmp_path / f".t.tsv.{int(done.stdout)}-0badcafe.part.tsv"
    stale.write_text("half")
    r = run_cli(["impact", "TP53:p.R175H", "--out", "t.tsv"], tmp_path, data_dir)
    assert r.returncode == 0 and not stale.exists() and (tmp_path / "t.tsv").is_file()


def test_a_broken_pipe_ends_quietly(tmp_path, data_dir):
    env = {**os.environ, "STRUCTKIT_MIRROR": str(data_dir), "STRUCTKIT_OFFLINE": "1",
           "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run(f"'{sys.executable}' -m structkit.cli sites 1N8Z | head -c 10", shell=True,
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.stdout == "# 1N8Z: HE" and r.stderr == ""


# --------------------------------------------------------------------- mmCIF integrity


@pytest.fixture(scope="module")
def cif_7pcd(data_dir) -> bytes:
    return (data_dir / "pdb" / "7pcd.cif").read_bytes()


def _atom_lines(data: bytes) -> list[int]:
    return [i for i, ln in enumerate(data.split(b"\n")) if ln.startswith((b"ATOM", b"HETATM"))]


def test_mmcif_cut_inside_or_right_after_the_atom_table_is_refused(cif_7pcd):
    check_structure_bytes(cif_7pcd, "7pcd.cif", "cif", "7PCD")  # the real file passes
    lines = cif_7pcd.split(b"\n")
    atoms = _atom_lines(cif_7pcd)
    inside = b"\n".join(lines[:atoms[1000]]) + b"\n"  # at a line boundary inside _atom_site
    after = b"\n".join(lines[:atoms[-1] + 1]) + b"\n"  # right after the last atom row
    for cut in (inside, after):
        with pytest.raises(IntegrityError, match="ends inside the _atom_site loop"):
            check_structure_bytes(cut, "cut.cif", "cif", "7PCD")


def test_mmcif_non_finite_coordinate_and_two_blocks_are_refused(cif_7pcd):
    lines = cif_7pcd.split(b"\n")
    k = _atom_lines(cif_7pcd)[10]
    fields = lines[k].split()
    x = lines[k].index(b" " + fields[10] + b" ")  # Cartn_x of the 11th atom row
    lines[k] = lines[k][:x] + b" nan" + b" " * (len(fields[10]) - 3) + lines[k][x + len(fields[10]) + 1:]
    with pytest.raises(IntegrityError, match="atom row 11 of _atom_site has a non-finite coordinate"):
        check_structure_bytes(b"\n".join(lines), "nan.cif", "cif", "7PCD")
    with pytest.raises(IntegrityError, match="2 data blocks"):
        check_structure_bytes(cif_7pcd + b"data_XTRA\n_entry.id XTRA\n#\n", "two.cif", "cif", "7PCD")


def test_a_truncated_mmcif_in_the_cache_is_replaced_from_the_mirror(tmp_path, data_dir, cif_7pcd):
    cache = tmp_path / "cache"
    (cache / "pdb").mkdir(parents=True)
    lines = cif_7pcd.split(b"\n")
    (cache / "pdb" / "7pcd.cif").write_bytes(b"\n".join(lines[:_atom_lines(cif_7pcd)[-1] + 1]) + b"\n")
    f = Fetcher(cache_dir=cache, mirror=data_dir, offline=True)
    st = load("7PCD", session=f)
    assert Path(st.path).read_bytes() == cif_7pcd
    assert st.coord[-1].tolist() == pytest.approx([9.589, 15.756, -11.142])  # the last water, HOH 1308


# ----------------------------------------------------------------------- alignments


@pytest.fixture
def alignments(tmp_path, data_dir):
    p53 = (data_dir / "msa" / "P04637.a2m").read_text()
    recs = p53.split(">")[1:4]
    name2, _, seq2 = recs[1].partition("\n")
    seq2 = seq2.replace("\n", "")
    cut = [i for i, ch in enumerate(seq2) if ch.isupper() or ch == "-"][-7]  # drop 7 match columns
    ragged = ">" + recs[0] + ">" + name2 + "\n" + seq2[:cut] + "\n"
    files = {"empty.a2m": "", "one.a2m": ">" + recs[0], "ragged.a2m": ragged}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.a2m").write_bytes(bytes(range(256)) * 8)
    fifo = tmp_path / "fifo.a2m"
    os.mkfifo(fifo)
    return tmp_path


@pytest.mark.parametrize("name,why", [
    ("missing.a2m", "cannot read the alignment"), ("empty.a2m", "empty file"),
    ("one.a2m", "one sequence only"), ("ragged.a2m", "match columns"),
    ("binary.a2m", "binary data"), ("fifo.a2m", "not a regular file"), (".", "a directory"),
    ("family", "not a stretch of the UniProt sequence"),
])
def test_a_bad_alignment_is_an_error_never_a_silent_fallback(name, why, alignments, data_dir, capsys):
    path = (str(data_dir / "msa" / "PF07714_human_tyrosine_kinases.sto") if name == "family"
            else str(alignments / name))
    assert main(["impact", "TP53:p.R175H", "--msa", path]) == 2  # a FIFO would hang a reader
    err = capsys.readouterr().err
    assert why in err and "not an alignment of the variants' proteins" in err


def test_stockholm_with_tabs_reads_as_with_spaces(tmp_path, data_dir):
    from structkit.io.msa import read_alignment
    from structkit.io.uniprot import uniprot_record

    src = data_dir / "msa" / "PF07714_human_tyrosine_kinases.sto"
    text = src.read_text()
    tabs = tmp_path / "tabs.sto"
    tabs.write_text("\n".join(ln if ln.startswith(("#", "//")) or not ln.strip()
                              else "\t".join(ln.split(None, 1)) for ln in text.splitlines()) + "\n")
    seq = uniprot_record("P04626").sequence
    a = read_alignment(src, seq, query="ERBB2_HUMAN")
    b = read_alignment(tabs, seq, query="ERBB2_HUMAN")
    assert a.n_sequences == b.n_sequences == 127
    assert (a.codes == b.codes).all() and (a.positions == b.positions).all()


# ----------------------------------------------------------------------- input tables


def test_bom_header_and_a_row_without_gene(tmp_path):
    """A UTF-8 BOM before the header: the columns are still found, the PIK3CA row stays PIK3CA
    (not in the catalog) and a row whose gene cell is empty is never given a gene."""
    p = tmp_path / "bom.tsv"
    p.write_text("Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\nPIK3CA\tp.H1047R\ts1\n"
                 "\tp.H1047R\ts2\nERBB2\tp.T798M\ts3\n", encoding="utf-8-sig")
    b = parse_variants(p)
    assert [(v.label, v.sample) for v in b] == [("ERBB2 p.T798M", "s3")]
    un = b.unplaced.set_index("row")
    assert un.loc[2, "status"] == "gene not in catalog" and un.loc[2, "gene"] == "PIK3CA"
    assert un.loc[3, "status"] == "rejected" and "never guessed" in un.loc[3, "reason"]
    assert parse_variants(p, gene="TP53").unplaced.set_index("row").loc[3, "status"] == "rejected"


def test_latin1_sample_names_stay_apart_and_the_encoding_is_said(tmp_path, capsys):
    p = tmp_path / "latin1.tsv"
    p.write_bytes("Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\nERBB2\tp.T798M\tM\u00fcller-01\n"
                  "ERBB2\tp.T798I\tM\u00f6ller-01\n".encode("latin-1"))
    b = parse_variants(p)
    assert [v.sample for v in b] == ["M\u00fcller-01", "M\u00f6ller-01"]
    assert b.notes == [f"input {p}: not UTF-8 (byte 61); read as Latin-1"]
    assert main(["evidence", "--input", str(p)]) == 0
    assert "read as Latin-1" in capsys.readouterr().err


def test_malformed_csv_is_an_error_naming_the_line(tmp_path):
    p = tmp_path / "quote.csv"
    p.write_text('gene,variant\nERBB2,"p.T798M\nERBB2,p.L755S\nTP53,p.R248Q\n')
    with pytest.raises(VariantError, match=r"line 2: unexpected end of data"):
        parse_variants(p)
    huge = tmp_path / "huge.csv"
    huge.write_text("gene,variant\nTP53,p.R248Q\nTP53," + "A" * 200_000 + "\n")  # over csv's 131,072
    b = parse_variants(huge)
    assert [v.label for v in b] == ["TP53 p.R248Q"]
    assert "too long for a protein change" in b.unplaced.reason.iloc[0]
    spaces = tmp_path / "spaces.tsv"
    spaces.write_text("variant\n" + " " * 128_000 + "R248Q" + " " * 10 + "\n")
    assert [v.label for v in parse_variants(spaces)] == ["TP53 p.R248Q"]
    hashes = tmp_path / "hash.csv"
    hashes.write_text('"#x"\n')
    assert len(parse_variants(hashes)) == 0 and len(parse_variants(hashes).unplaced) == 0


# ----------------------------------------------------------------- settings, network


@pytest.mark.parametrize("value,expected", [("TRUE ", True), (" yes", True), ("1", True),
                                            ("off", False), ("", False), ("0", False)])
def test_boolean_environment_values_are_read_strictly(value, expected, monkeypatch):
    monkeypatch.setenv("STRUCTKIT_OFFLINE", value)
    assert env_flag("STRUCTKIT_OFFLINE") is expected
    assert Fetcher(cache_dir="unused").offline is expected


def test_a_bad_boolean_value_is_an_error(monkeypatch, capsys):
    monkeypatch.setenv("STRUCTKIT_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="STRUCTKIT_OFFLINE='maybe': expected"):
        Fetcher(cache_dir="unused")
    assert main(["impact", "TP53:p.R175H"]) == 1
    assert "STRUCTKIT_OFFLINE='maybe'" in capsys.readouterr().err


def test_retry_after_beyond_the_budget_ends_the_retries_at_once(mirror_server, tmp_path):
    path = "/rcsb/download/1N8Z.pdb"
    mirror_server.fault(path, "429", retry_after=3600, times=5)
    f = net_fetcher(mirror_server, tmp_path, retries=4)
    with pytest.raises(FetchError, match="asks to wait 3600 s more; waited 0 s of at most 60 s"):
        f.pdb("1N8Z", format="pdb")
    assert mirror_server.hits[path] == 1  # asked once, not waited for


# ------------------------------------------------------------------------ structures


def test_negative_author_numbers_are_kept(tmp_path, data_dir):
    """1TSR with chain B renumbered to author = UniProt - 400 (R248 is -152): the numbers come
    back exactly, and the distances are those of the real file."""
    from structkit import impact_table

    p = _renumbered_1tsr(data_dir, tmp_path / "renumbered.pdb")
    kw = {"damage": False}
    t = impact_table(["TP53:p.R248Q", "TP53:p.R273H"], structures=[str(p)], **kw)
    real = impact_table(["TP53:p.R248Q", "TP53:p.R273H"], structures=["1TSR"], **kw)
    assert t.author_num.tolist() == [n - 400 for n in real.author_num.tolist()]
    assert sorted(t.author_num.unique().tolist()) == [-152, -127]
    assert t.min_dist_A.tolist() == real.min_dist_A.tolist()
    dest = tmp_path / "neg.csv"
    assert main(["impact", "TP53:p.R248Q", "--structures", str(p), "--out", str(dest)]) == 0
    import pandas as pd

    assert set(pd.read_csv(dest).author_num) == {-152}


def test_a_redirect_is_checked_with_the_clients_own_url_parser(mirror_server, tmp_path):
    """'http://127.0.0.2\\@127.0.0.1:PORT' reads as 127.0.0.1 to urllib.parse but as
    127.0.0.2 to the HTTP client: refused before any request, as is the same host on
    another port."""
    port = int(mirror_server.url.rsplit(":", 1)[1])
    f = net_fetcher(mirror_server, tmp_path)
    for location, message in ((f"http://127.0.0.2\\@127.0.0.1:{port}/rcsb/download/1TSR.pdb",
                               "backslash"),
                              (f"http://127.0.0.1:{port + 1}/rcsb/download/1TSR.pdb",
                               f"another host \\(127.0.0.1:{port + 1}\\)"),
                              (f"http://user@127.0.0.1:{port}/rcsb/download/1TSR.pdb", "user info")):
        mirror_server.fault("/rcsb/download/1TSR.pdb", "redirect", location=location)
        with pytest.raises(FetchError, match=message):
            f.pdb("1TSR", format="pdb")
    assert not [p for p in tmp_path.rglob("1tsr*") if p.is_file()]


def test_settings_and_api_inputs_are_validated():
    from structkit import Session, Variant, impact_table

    with pytest.raises(ValueError, match="cutoff must be a distance in A, got True"):
        Session(cutoff=True)
    with pytest.raises(ValueError, match=r"structures=\[\]: no structure"):
        impact_table(["TP53:p.R248Q"], structures=[])
    with pytest.raises(ValueError, match=r"position 1000000000 is beyond TP53 \(P04637, 393 aa\)"):
        impact_table([Variant("TP53", "P04637", "missense", 10**9, "R", "Q")])


def test_column_names_are_cells_too(tmp_path):
    import pandas as pd

    from structkit import write_table

    out = write_table(pd.DataFrame({"=HYPERLINK(1)": ["a"], "ok": ["b"]}), tmp_path / "c.csv")
    assert out.read_text().splitlines()[0] == '"\'=HYPERLINK(1)","ok"'


def test_terminal_output_escapes_control_characters(tmp_path, capsys):
    p = tmp_path / "esc.tsv"
    p.write_text("Hugo_Symbol\tHGVSp_Short\nTP53\tp.R248Q\nK\x1b]0;owned\x07RAS\tp.G12D\n")
    assert main(["evidence", "--input", str(p)]) == 0
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err and "\x07" not in captured.err
    assert "gene K\\x1b]0;owned\\x07RAS is not in the catalog" in captured.err  # shown, escaped


def test_wrong_tables_and_missing_records_are_clean_errors(tmp_path, capsys, monkeypatch):
    wrong = tmp_path / "wrong.tsv"
    wrong.write_text("a\tb\n1\t2\n")
    assert main(["plot", "therapies", "--input", str(wrong), "--out", str(tmp_path / "h.png")]) == 1
    assert "not a therapy matrix" in capsys.readouterr().err
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setenv("STRUCTKIT_MIRROR", str(empty))
    monkeypatch.setenv("STRUCTKIT_CACHE", str(tmp_path / "cache"))
    assert main(["therapies", "TP53:p.R248Q"]) == 1  # a fetch failure, as the README says
    assert "UniProt record P04637 not available offline" in capsys.readouterr().err
    assert main(["sites", "1TSR", "--accession", "../../etc/passwd"]) == 2
    assert "invalid UniProt accession" in capsys.readouterr().err


def test_report_offline_opens_no_socket(tmp_path, monkeypatch, data_dir):
    """`structkit report --offline` with an online default session in the environment: no
    step (the 3D views included) may open a socket."""
    import socket

    from structkit.outputs.view import local_3dmol

    if local_3dmol() is None:
        pytest.skip("3dmol npm package not installed (run .ci/run's set-up): no 3D view step")

    def refuse(self, address):
        raise AssertionError(f"the network was touched: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("STRUCTKIT_OFFLINE", "0")
    monkeypatch.setenv("STRUCTKIT_MIRROR", "")
    monkeypatch.setenv("STRUCTKIT_CACHE", str(tmp_path / "env-cache"))
    out = tmp_path / "r.html"
    assert main(["report", "TP53:p.R248Q", "--out", str(out), "--offline", "--mirror",
                 str(data_dir), "--cache", str(tmp_path / "cache"), "--max-views", "1"]) == 0
    assert "$3Dmol" in out.read_text()


def test_a_url_mirror_serves_every_kind_a_local_mirror_serves(mirror_server, tmp_path, data_dir):
    """Alignments, CIViC/hotspot files and AlphaFold models come from a URL mirror too, so the
    same data give the same scores whether the mirror is a directory or a server."""
    from structkit.io.evidence import CIVIC_FILE, CIVIC_HEADER

    f = Fetcher(cache_dir=tmp_path / "cache", mirror=mirror_server.url + "/mirror", offline=False,
                retries=0)
    aln = f.msa("P04637")
    assert aln.source == "mirror" and aln.path.read_bytes() == (data_dir / "msa" / "P04637.a2m").read_bytes()
    civic = f.dataset("evidence", CIVIC_FILE, CIVIC_HEADER)
    assert civic.source == "mirror"
    assert civic.path.stat().st_size == (data_dir / "evidence" / CIVIC_FILE).stat().st_size
    af = f.alphafold("P04637")
    assert af.path.read_bytes() == (data_dir / "alphafold" / "AF-P04637-F1-model.pdb").read_bytes()
    assert f.msa("P04637").source == "cache"  # kept


def test_xlsx_under_a_file_size_limit_fails_in_one_line(tmp_path, data_dir):
    (tmp_path / "t.xlsx").write_text("previous\n")
    r = run_cli(["impact", "--out", "t.xlsx"], tmp_path, data_dir, preexec_fn=_no_fsize_signal)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "structkit impact: could not write: File too large (a file-size limit or a full disk); "
        "nothing was replaced"]
    assert (tmp_path / "t.xlsx").read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_threads_sharing_a_session_take_turns():
    """8 threads, one Session, tables of different variants at once (issue 27: 2-4 calls per
    round raised IndexError in the shared codebook): every call gives the table one thread
    alone gives."""
    import threading

    import pandas as pd

    from structkit import Session

    panels = [["TP53:p.R248Q"], ["TP53:p.R248Q", "ERBB2:p.T798M"], ["TP53:p.G245S", "ERBB2:p.S310F"]]
    alone = {i: Session().summarize(Session().impact_table(p, damage=False)) for i, p in enumerate(panels)}
    s, errors, results = Session(), [], []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                k = i % len(panels)
                results.append((k, s.summarize(s.impact_table(panels[k], damage=i % 2 == 0))))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 24
    cols = ["gene", "variant", "nearest_site", "nearest_dist_A", "nearest_pdb_id"]
    for k, summary in results:
        pd.testing.assert_frame_equal(summary[cols], alone[k][cols])


def test_a_user_file_is_analysed_by_its_content_not_its_header_id(tmp_path, data_dir):
    """3KMD (four p53 chains A-D on DNA) with its HEADER saying 1TSR: the catalog's chain roles
    of 1TSR (target chain B only) must not be imported; every p53 chain of the file is placed,
    with the distances of the real 3KMD."""
    from structkit import impact_table

    lines = (data_dir / "pdb" / "3kmd.pdb").read_text().splitlines(keepends=True)
    assert lines[0].startswith("HEADER") and lines[0][62:66] == "3KMD"
    lines[0] = lines[0][:62] + "1TSR" + lines[0][66:]
    p = tmp_path / "relabelled.pdb"
    p.write_text("".join(lines))
    mine = impact_table(["TP53:p.R248Q"], structures=[load(p)], damage=False)  # as --structures does
    real = impact_table(["TP53:p.R248Q"], structures=["3KMD"], damage=False)
    assert set(mine.pdb_id) == {"1TSR (relabelled.pdb)"}  # its own identity, and its header's word
    assert sorted(set(mine.chain)) == sorted(set(real.chain)) == ["A", "B", "C", "D"]
    key = ["chain", "site"]
    assert mine.set_index(key).min_dist_A.to_dict() == real.set_index(key).min_dist_A.to_dict()


def test_headers_dripped_byte_by_byte_meet_the_overall_deadline(mirror_server, tmp_path):
    """Each header byte arrives within the 2 s read timeout, so only an overall deadline that
    covers the headers ends the request: 1 s here, not the 70 bytes x 0.3 s the server takes."""
    path = "/rcsb/download/1TSR.pdb"
    mirror_server.fault(path, "drip_headers", times=2, interval=0.3)
    f = net_fetcher(mirror_server, tmp_path, retries=1, deadline=1.0)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="no complete answer .* within the 1 s deadline"):
        f.pdb("1TSR", format="pdb")
    assert time.monotonic() - t0 < 10  # two attempts of 1 s and a back-off, not 2 x 21 s
    assert mirror_server.hits[path] == 2


def test_a_file_of_too_many_legal_rows_is_refused_not_killed(tmp_path):
    """A small gzip that expands to many legal rows: refused at the row cap with the line named,
    before memory grows with it (the cap is MAX_INPUT_ROWS, 5 million; 1,000 here)."""
    from structkit.io.variants import MAX_INPUT_ROWS, read_variant_file

    p = tmp_path / "many.tsv.gz"
    p.write_bytes(gzip.compress(b"variant\n" + b"TP53:p.R248Q\n" * 2000))
    assert len(p.read_bytes()) < 1000
    with pytest.raises(VariantError, match=r"more than 1,000 rows \(line 1002\); split the file"):
        read_variant_file(p, max_rows=1000)
    assert len(read_variant_file(p)) == 2000 < MAX_INPUT_ROWS


def test_long_mmcif_chain_names_are_kept_apart(tmp_path, data_dir):
    """3RCD with its TAK-285 chains A and C renamed KINASE_1 and KINASE_2 (mmCIF allows long
    names): two chains, not one 'KINA', each with the real chain's distance."""
    from structkit import impact_table

    text = gzip.decompress((data_dir / "pdb" / "3rcd.cif.gz").read_bytes()).decode()
    lines = text.split("\n")
    tags = [ln.strip() for ln in lines if ln.startswith("_atom_site.")]
    col = tags.index("_atom_site.auth_asym_id")
    out = []
    for ln in lines:
        if ln.startswith(("ATOM", "HETATM")):
            f = ln.split()
            f[col] = {"A": "KINASE_1", "C": "KINASE_2"}.get(f[col], f[col])
            ln = " ".join(f)
        out.append(ln)
    p = tmp_path / "long-chains.cif"
    p.write_text("\n".join(out))
    st = load(p)
    assert {"KINASE_1", "KINASE_2"} <= set(st.chains(kind="protein"))
    mine = impact_table(["ERBB2:p.T798M"], structures=[(st, "P04626")], damage=False)
    real = impact_table(["ERBB2:p.T798M"], structures=["3RCD"], damage=False)
    got = mine[mine.site.astype(str) != ""].groupby("chain", observed=True).min_dist_A.min().to_dict()
    want = real[real.site.astype(str) != ""].groupby("chain", observed=True).min_dist_A.min().to_dict()
    assert got["KINASE_1"] == want["A"] and got["KINASE_2"] == want["C"]


def _renumbered_1tsr(data_dir, path: Path) -> Path:
    """1TSR with chain B renumbered to author = UniProt - 400 (R248 is -152)."""
    out = []
    for ln in (data_dir / "pdb" / "1tsr.pdb").read_text().splitlines(keepends=True):
        if ln.startswith(("ATOM  ", "HETATM", "ANISOU", "TER   ")) and len(ln) > 26 and ln[21] == "B" \
                and ln[22:26].strip().lstrip("-").isdigit():
            ln = ln[:22] + f"{int(ln[22:26]) - 400:4d}" + ln[26:]
        out.append(ln)
    path.write_text("".join(out))
    return path


def test_two_files_with_one_header_id_keep_their_own_identity(tmp_path, data_dir):
    from structkit import impact_table, summarize

    a = tmp_path / "a.pdb"
    a.write_bytes((data_dir / "pdb" / "1tsr.pdb").read_bytes())
    b = _renumbered_1tsr(data_dir, tmp_path / "b.pdb")
    t = impact_table(["TP53:p.R248Q"], structures=[str(a), str(b), "1TSR"], damage=False)
    assert set(t.pdb_id) == {"1TSR (a.pdb)", "1TSR (b.pdb)", "1TSR"}
    nums = t.drop_duplicates("pdb_id").set_index("pdb_id").author_num.to_dict()
    assert nums == {"1TSR (a.pdb)": 248, "1TSR (b.pdb)": -152, "1TSR": 248}
    s = summarize(t, verdict=False)
    assert {"1TSR (a.pdb)", "1TSR (b.pdb)", "1TSR"} <= set(s.covered_by.item().split(", "))


def test_the_reports_view_of_a_users_file_shows_that_file(tmp_path, data_dir):
    """The card's 3D view of a user's file embeds that file (R248 as author -152), not the
    mirror's entry of the same header ID."""
    from structkit import report
    from structkit.outputs.view import local_3dmol

    if local_3dmol() is None:
        pytest.skip("3dmol npm package not installed (run .ci/run's set-up): no 3D view")
    mine = _renumbered_1tsr(data_dir, tmp_path / "mine.pdb")
    out = report(["TP53:p.R248Q"], tmp_path / "r.html", structures=[str(mine)], max_views=1)
    page = out.read_text()
    card = page.split('<section class="card">')[1]
    assert "on 1TSR (mine.pdb)" in card and "structkit_models[0]" in card
    # the one structure text the page embeds (shared by the cards) is the file's
    models = page.split("var structkit_models = [", 1)[1].split("];</script>", 1)[0]
    assert "ARG B-152" in models and "ARG B 248" not in models


def test_a_server_that_never_answers_is_said_while_waiting(mirror_server, tmp_path, capsys):
    """A server that accepts and says nothing: each timed-out attempt is said on stderr before
    the next one, and the error names the last failure."""
    path = "/rcsb/download/1TSR.pdb"
    mirror_server.fault(path, "stall", times=2, seconds=3)
    f = net_fetcher(mirror_server, tmp_path, retries=1, timeout=(1.0, 1.0))
    with pytest.raises(FetchError, match="gave up after 2 attempts; last: request timed out"):
        f.pdb("1TSR", format="pdb")
    assert "pdb 1TSR: request timed out; retrying in" in capsys.readouterr().err
