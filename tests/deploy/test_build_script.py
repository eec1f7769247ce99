"""scripts/build_lambda.py, piece by piece (fast: no downloads)."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import build_lambda as bl
from tests.deploy.sam_template import REPO, build_feature_function_as_sam

pyarrow = pytest.importorskip("pyarrow")
PYARROW_DIR = Path(pyarrow.__file__).parent


def _pyarrow_lib(prefix: str) -> Path:
    """A real shared library of this venv's pyarrow (same wheel family as the package's)."""
    found = sorted(p for p in PYARROW_DIR.glob(f"{prefix}*") if bl.read_elf(p) is not None)
    if not found:
        pytest.skip(f"no {prefix}* in {PYARROW_DIR}")
    return found[0]


def test_platform_tags_cover_lambda_glibc_only() -> None:
    x86 = bl.platform_tags("x86_64")
    assert x86[0] == "manylinux_2_34_x86_64"
    assert {"manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux1_x86_64"} <= set(x86)
    assert not any(tag.startswith("manylinux_2_35") for tag in x86)
    arm = bl.platform_tags(bl.normalise_arch("arm64"))
    assert all(tag.endswith("_aarch64") for tag in arm)
    assert "manylinux2014_aarch64" in arm


def test_normalise_arch() -> None:
    assert bl.normalise_arch("arm64") == bl.normalise_arch("aarch64") == "aarch64"
    assert bl.normalise_arch("amd64") == bl.normalise_arch("x86_64") == "x86_64"
    with pytest.raises(bl.BuildError):
        bl.normalise_arch("riscv64")


def test_select_requirements(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# comment\nnumerapi==3.1.1\npandas==3.1.1  # pinned\n\n"
        "aws-lambda-powertools==3.37.0\nboto3==1.44.5\n"
    )
    assert bl.select_requirements(requirements, None) == [
        "numerapi==3.1.1",
        "pandas==3.1.1",
        "aws-lambda-powertools==3.37.0",
        "boto3==1.44.5",
    ]
    assert bl.select_requirements(requirements, ("aws_lambda_powertools",)) == [
        "aws-lambda-powertools==3.37.0"
    ]
    with pytest.raises(bl.BuildError, match="does not pin onnx"):
        bl.select_requirements(requirements, ("onnx",))


def test_real_requirements_pin_what_the_functions_need() -> None:
    worker = bl.select_requirements(REPO / "handlers" / "requirements.txt", None)
    webhook = bl.select_requirements(
        REPO / "handlers" / "requirements.txt", bl.FUNCTION_PACKAGES["webhook"]
    )
    names = {bl.canonical(line.split("==")[0]) for line in worker}
    assert {"numerapi", "pandas", "pyarrow", "numpy", "onnxruntime", "boto3"} <= names
    assert all("==" in line for line in worker)
    assert [bl.canonical(line.split("==")[0]) for line in webhook] == ["aws-lambda-powertools"]


def test_read_elf_agrees_with_readelf() -> None:
    library = _pyarrow_lib("lib.cpython-")
    info = bl.read_elf(library)
    assert info is not None
    assert info.machine == 62
    assert any(name.startswith("libarrow.so") for name in info.needed)
    assert "$ORIGIN" in info.runpath
    if shutil.which("readelf"):
        dynamic = subprocess.run(
            ["readelf", "-d", str(library)], capture_output=True, text=True, check=True
        ).stdout
        needed = [
            line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line
        ]
        assert list(info.needed) == needed


def test_read_elf_ignores_other_files(tmp_path: Path) -> None:
    text = tmp_path / "x.py"
    text.write_text("print(1)\n")
    assert bl.read_elf(text) is None


def test_check_links_finds_a_removed_library(tmp_path: Path) -> None:
    lib = _pyarrow_lib("lib.cpython-")
    info = bl.read_elf(lib)
    assert info is not None
    tree = tmp_path / "tree"
    (tree / "pyarrow").mkdir(parents=True)
    shutil.copy(lib, tree / "pyarrow" / lib.name)
    problems = bl.check_links(tree, "x86_64")
    # Nothing beside it: every non-system NEEDED library is reported.
    assert len(problems) == len([n for n in info.needed if n not in bl.SYSTEM_LIBRARIES])
    assert all("not in the package" in p for p in problems)
    # And a wrong architecture is reported too.
    assert any("ELF machine 62" in p for p in bl.check_links(tree, "aarch64"))


def test_trim_removes_only_what_the_rules_name(tmp_path: Path) -> None:
    files = {
        "pyarrow/tests/test_x.py": True,
        "pyarrow/_flight.cpython-312-x86_64-linux-gnu.so": True,
        "pyarrow/libarrow_flight.so.2600": True,
        "pyarrow/include/arrow/api.h": True,
        "pyarrow/lib.pyx": True,
        "numpy/__init__.pyi": True,
        "numpy/_core/_simd.cpython-312-x86_64-linux-gnu.so": True,
        "onnxruntime/tools/convert.py": True,
        "onnxruntime/capi/libonnxruntime.so.1.31.1": True,
        "bin/f2py": True,
        "pyarrow/parquet/__init__.py": False,
        "pyarrow/libarrow_substrait.so.2600": False,
        "pyarrow/_dataset.cpython-312-x86_64-linux-gnu.so": False,
        "numpy/testing/__init__.py": False,
        "onnxruntime/capi/onnxruntime_pybind11_state.cpython-312-x86_64-linux-gnu.so": False,
        "pandas/_testing/__init__.py": False,
    }
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
    removed = bl.trim(tmp_path)
    for name, goes in files.items():
        assert (tmp_path / name).exists() is not goes, name
    assert removed["Arrow Flight"] == 20
    assert removed["test suite"] == 10


def test_duplicate_library_copies_go_but_the_soname_stays(tmp_path: Path) -> None:
    source = _pyarrow_lib("libarrow_python.so")
    info = bl.read_elf(source)
    assert info is not None and info.soname
    stem = info.soname.split(".so")[0]
    for name in (info.soname, f"{stem}.so", f"{info.soname}.1.0"):
        shutil.copy(source, tmp_path / name)
    freed = bl.remove_duplicate_libraries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [info.soname]
    assert freed == 2 * source.stat().st_size


def test_prepare_artifacts_dir_never_clears_foreign_folders(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(bl.BuildError, match="refusing"):
        bl.prepare_artifacts_dir(foreign)
    assert (foreign / "precious.txt").exists()

    ours = tmp_path / "ours"
    (ours / "pandas").mkdir(parents=True)
    (ours / bl.MARKER).write_text("{}")
    bl.prepare_artifacts_dir(ours)
    assert list(ours.iterdir()) == []


def test_copy_source_takes_code_only(tmp_path: Path) -> None:
    source = tmp_path / "handlers"
    (source / "numerai_bot" / "__pycache__").mkdir(parents=True)
    (source / "numerai_bot" / "__init__.py").write_text("")
    (source / "numerai_bot" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"")
    (source / "worker.py").write_text("")
    (source / "Makefile").write_text("")
    (source / "requirements.txt").write_text("")
    target = tmp_path / "tree"
    target.mkdir()
    assert bl.copy_source(source, target) == ["numerai_bot", "worker.py"]
    assert not (target / "numerai_bot" / "__pycache__").exists()


def test_compile_tree_writes_unchecked_hash_pyc(tmp_path: Path) -> None:
    python = bl.find_python("3.12", None)
    if python is None:
        pytest.skip("no CPython 3.12")
    (tmp_path / "mod.py").write_text("X = 1\n")
    added = bl.compile_tree(tmp_path, python)
    pyc = tmp_path / "__pycache__" / "mod.cpython-312.pyc"
    assert added == pyc.stat().st_size
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01


def test_cli_reports_a_bad_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = bl.main(
        ["--function", "worker", "--source", str(tmp_path), "--artifacts-dir", str(tmp_path / "a")]
    )
    assert code == 1
    assert "requirements.txt not found" in capsys.readouterr().err


def test_makefile_requires_artifacts_dir() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO / "handlers"), "build-WorkerFunction"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "ARTIFACTS_DIR is not set" in result.stderr


def test_build_report_is_json() -> None:
    report = bl.BuildReport("worker", "x86_64", "3.12", False, ["a==1"])
    assert json.loads(report.to_json())["function"] == "worker"


# --- reproducible builds -------------------------------------------------------------------------


def _sam_dir_checksum(directory: Path) -> str:
    """SAM CLI's ``samcli.lib.utils.hash.dir_checksum`` (1.x), which names the uploaded zip."""
    files = []
    for dirpath, _dirnames, filenames in os.walk(directory, followlinks=True):
        files.extend(os.path.join(dirpath, name) for name in filenames)
    files.sort()
    digest = hashlib.md5(usedforsecurity=False)
    for file in files:
        digest.update(os.path.relpath(file, directory).encode("utf-8"))
        digest.update(
            hashlib.md5(Path(file).read_bytes(), usedforsecurity=False).hexdigest().encode()
        )
    return digest.hexdigest()


def _tree(root: Path, files: dict[str, bytes], mode: int = 0o644, mtime: int = 0) -> Path:
    """Write ``files`` under ``root`` in the given order, with one mode and timestamp."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
        if mtime:
            os.utime(path, (mtime, mtime))
    return root


FILES = {
    "worker.py": b"print('hi')\n",
    "pkg/__init__.py": b"",
    "pkg/sub/lib.so": b"\x7fELF...",
    "pkg-1.0.dist-info/RECORD": b"pkg/__init__.py,,\n",
    "a.txt": b"a",
}


def test_tree_digest_is_sams_zip_name(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t", FILES)
    assert bl.tree_digest(tree) == _sam_dir_checksum(tree)
    (tree / "pkg" / "__init__.py").write_bytes(b"# changed\n")
    assert bl.tree_digest(tree) == _sam_dir_checksum(tree)


def test_zip_ignores_file_order_timestamps_and_umask(tmp_path: Path) -> None:
    first = _tree(tmp_path / "one", FILES, mode=0o644, mtime=1_700_000_000)
    second = _tree(tmp_path / "two", dict(reversed(FILES.items())), mode=0o600)
    sums = {bl.write_zip(tree, tmp_path / f"{tree.name}.zip") for tree in (first, second)}
    assert len(sums) == 1
    (second / "a.txt").write_bytes(b"b")
    assert bl.write_zip(second, tmp_path / "changed.zip") not in sums


def test_normalised_tree_has_fixed_modes_and_times(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t", FILES, mode=0o600, mtime=1_700_000_000)
    (tree / "worker.py").chmod(0o700)
    bl.normalise_tree(tree)
    modes = {p.relative_to(tree).as_posix(): p.stat().st_mode & 0o777 for p in tree.rglob("*")}
    assert modes["worker.py"] == 0o755
    assert modes["a.txt"] == modes["pkg/sub/lib.so"] == 0o644
    assert modes["pkg"] == modes["pkg/sub"] == 0o755
    assert {int(p.stat().st_mtime) for p in tree.rglob("*")} == {bl.ZIP_EPOCH}


def test_pip_scratch_paths_leave_the_tree(tmp_path: Path) -> None:
    info = tmp_path / "jmespath-1.1.0.dist-info"
    info.mkdir()
    (info / "direct_url.json").write_text('{"url": "file:///tmp/wheels-x1y2/jmespath.whl"}')
    (info / "RECORD").write_text(
        "jmespath/__init__.py,sha256=abc,10\n"
        "jmespath-1.1.0.dist-info/direct_url.json,sha256=def,50\n"
        "jmespath-1.1.0.dist-info/RECORD,,\n"
    )
    assert bl.forget_install_paths(tmp_path) == 1
    assert not (info / "direct_url.json").exists()
    assert "direct_url" not in (info / "RECORD").read_text()
    assert (info / "RECORD").read_text().count("\n") == 2


def test_build_record_holds_no_duration() -> None:
    report = bl.BuildReport("worker", "x86_64", "3.12", False, ["a==1"], seconds=12.3)
    assert "seconds" not in json.loads(report.to_json())


def test_compiled_code_is_the_same_from_any_folder_and_names_var_task(tmp_path: Path) -> None:
    """Code objects carry their file's path: /var/task, where Lambda runs it, not the build's."""
    python = bl.find_python("3.12", None)
    if python is None:
        pytest.skip("no CPython 3.12")
    source = b"def f(x):\n    return x in {'a', 'b', 'c'}\n"
    compiled = []
    for folder in ("a", "b/deeper"):
        root = _tree(tmp_path / folder, {"mod.py": source})
        bl.compile_tree(root, python)
        compiled.append((root / "__pycache__" / "mod.cpython-312.pyc").read_bytes())
    assert compiled[0] == compiled[1]
    if sys.version_info[:2] == (3, 12):
        code = marshal.loads(compiled[0][16:])
        assert code.co_filename == f"{bl.LAMBDA_TASK_ROOT}/mod.py"


def _snapshot_of_handlers(destination: Path) -> Path:
    """A frozen copy of handlers/: both builds must see the very same source."""
    shutil.copytree(
        REPO / "handlers",
        destination,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
    )
    return destination


@pytest.mark.slow
def test_two_builds_give_identical_zips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The webhook (the fast build: powertools only) twice, in two folders: the same bytes."""
    source = _snapshot_of_handlers(tmp_path / "handlers")
    hashes, digests = [], []
    for folder in ("first", "second/elsewhere"):
        artifacts = tmp_path / folder
        bl.build("webhook", source, artifacts, pip_python=sys.executable)
        hashes.append(bl.write_zip(artifacts, tmp_path / f"{artifacts.name}.zip"))
        digests.append(bl.tree_digest(artifacts))
        assert not list(artifacts.glob("*.dist-info/direct_url.json"))
    with capsys.disabled():
        print(
            f"\n[webhook package] two builds: sha256 {hashes[0]} and {hashes[1]}; "
            f"SAM's S3 key {digests[0]} and {digests[1]}"
        )
    assert hashes[0] == hashes[1]
    assert digests[0] == digests[1]


# --- the user's feature function ---------------------------------------------------------------

FEATURE_APP = "from helpers import rows\n\n\ndef handler(event, context):\n    return rows(event)\n"


def _feature_folder(root: Path, app: str = FEATURE_APP, requirements: str = "") -> Path:
    """A tiny feature function folder: app.py, a module of its own, requirements.txt."""
    folder = root / "features"
    (folder / "tests").mkdir(parents=True)
    (folder / "app.py").write_text(app)
    (folder / "helpers.py").write_text("def rows(event):\n    return {'output': event['output']}\n")
    (folder / "tests" / "test_app.py").write_text("def test_x():\n    pass\n")
    (folder / "requirements.txt").write_text(requirements or "# nothing beyond the runtime\n")
    return folder


def test_a_feature_folder_builds_into_a_tree_of_its_own_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trimmed_with = []
    trim = bl.trim
    monkeypatch.setattr(
        bl, "trim", lambda root, rules: trimmed_with.append(rules) or trim(root, rules)
    )
    artifacts = tmp_path / "artifacts"
    report = bl.build("feature", _feature_folder(tmp_path), artifacts, no_strip=True)
    assert trimmed_with == [bl.FEATURE_TRIM_RULES]  # not the bot's cuts
    assert report.function == "feature"
    assert report.requirements == []  # nothing to download: a build in seconds
    files = {p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*") if p.is_file()}
    assert {"app.py", "helpers.py", bl.MARKER} <= files
    assert not [f for f in files if f.startswith("tests/") or f == "requirements.txt"]
    assert json.loads((artifacts / bl.MARKER).read_text())["function"] == "feature"


def test_the_makefile_builds_the_feature_function_as_sam_runs_it(tmp_path: Path) -> None:
    """SAM copies CodeUri (features/) to a scratch folder and runs the Makefile of ContextPath
    (handlers/) there: ``make --makefile handlers/Makefile build-FeatureFunctionLambda``."""
    scratch = shutil.copytree(_feature_folder(tmp_path), tmp_path / "scratch")
    artifacts = tmp_path / "artifacts"
    result = build_feature_function_as_sam(scratch, artifacts, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (artifacts / "app.py").read_text() == FEATURE_APP
    assert (artifacts / "helpers.py").is_file()
    assert not (artifacts / "numerai_bot").exists()  # not the handlers' code


def test_the_repositorys_features_skeleton_builds_without_downloads(tmp_path: Path) -> None:
    """SAM builds every function of the template, so a stack without own data builds it too."""
    report = bl.build("feature", REPO / "features", tmp_path / "artifacts", no_strip=True)
    assert report.requirements == []
    assert (tmp_path / "artifacts" / "app.py").is_file()


@pytest.mark.parametrize(
    ("app", "complaint"),
    [
        (None, "app.py not found"),
        ("def main(event, context):\n    return {}\n", r"defines no handler\(event, context\)"),
        ("def handler(event, context)\n    return {}\n", "is not valid Python"),
    ],
    ids=["no-app", "no-handler", "syntax-error"],
)
def test_a_feature_folder_lambda_could_not_call_is_refused(
    tmp_path: Path, app: str | None, complaint: str
) -> None:
    folder = _feature_folder(tmp_path)
    if app is None:
        (folder / "app.py").unlink()
    else:
        (folder / "app.py").write_text(app)
    with pytest.raises(bl.BuildError, match=complaint):
        bl.build("feature", folder, tmp_path / "artifacts", no_strip=True)
    assert not (tmp_path / "artifacts").exists()  # refused before anything was written


def test_a_handler_imported_from_a_module_of_its_own_is_accepted(tmp_path: Path) -> None:
    folder = _feature_folder(tmp_path, app="from helpers import rows as handler\n")
    bl.check_feature_source(folder)


def test_the_feature_function_keeps_what_user_code_may_import(tmp_path: Path) -> None:
    """Only what no program imports goes: the bot's own cuts (pyarrow's S3 filesystem, Flight,
    numpy.f2py) could break a user's code."""
    files = {
        "pyarrow/_s3fs.cpython-312-x86_64-linux-gnu.so": False,
        "pyarrow/flight.py": False,
        "pyarrow/libarrow_flight.so.2600": False,
        "numpy/f2py/__init__.py": False,
        "onnxruntime/tools/convert.py": False,
        "pandas/tests/test_x.py": True,
        "pyarrow/include/arrow/api.h": True,
        "numpy/__init__.pyi": True,
        "bin/f2py": True,
    }
    for name in files:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    bl.trim(tmp_path, bl.FEATURE_TRIM_RULES)
    for name, goes in files.items():
        assert (tmp_path / name).exists() is not goes, name
