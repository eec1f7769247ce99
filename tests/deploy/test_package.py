"""The deployment artifacts, built exactly as ``sam build`` builds them (the Makefile targets).

Slow: the first run downloads the Linux wheels (~140 MB per architecture; afterwards pip's
cache in ~/.cache/pip serves them). The worker tree must stay 20 MiB under Lambda's unzipped
limit and must really predict: it is run with CPython 3.12 in isolation (only the tree and what
the Lambda runtime provides on ``sys.path``), after its files got the 1980 timestamps SAM's zip
gives them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scripts.build_lambda import (
    LAMBDA_UNZIPPED_LIMIT,
    MARKER,
    SIZE_MARGIN,
    elf_files,
    find_python,
    tree_size,
)
from tests.deploy.sam_template import REPO, build_feature_function_as_sam

pytestmark = pytest.mark.slow

SMOKE = Path(__file__).with_name("in_tree_smoke.py")
# What Lambda's python3.12 runtime has in /var/lang/lib/python3.12/site-packages.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
ZIP_EPOCH = 315_532_800  # 1980-01-01T00:00:00Z, the timestamp SAM's zip gives every file
PY312 = find_python("3.12", None)
needs_py312 = pytest.mark.skipif(PY312 is None, reason="no CPython 3.12 on this machine")


def build(function: str, artifacts: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``make build-<Function>`` as SAM runs it, with ARTIFACTS_DIR."""
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO / "handlers"),
            f"build-{function}",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return result


def as_if_unzipped(tree: Path) -> None:
    """Give every file the 1980 timestamp of SAM's zip (timestamp-checked .pyc go stale)."""
    for dirpath, _dirs, files in os.walk(tree):
        for name in files:
            os.utime(os.path.join(dirpath, name), (ZIP_EPOCH, ZIP_EPOCH))


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the runtime's site-packages: links to this venv's boto3 and friends."""
    folder = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


@pytest.fixture(scope="module")
def worker_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worker's deployment tree, built by the Makefile target."""
    artifacts = tmp_path_factory.mktemp("worker") / "artifacts"
    build("WorkerFunction", artifacts)
    as_if_unzipped(artifacts)
    return artifacts


@pytest.fixture(scope="module")
def webhook_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The webhook's deployment tree, built by the Makefile target."""
    artifacts = tmp_path_factory.mktemp("webhook") / "artifacts"
    build("WebhookFunction", artifacts)
    as_if_unzipped(artifacts)
    return artifacts


def run_in_tree(tree: Path, runtime: Path, mode: str, *args: str) -> dict[str, Any]:
    """Run the smoke script with CPython 3.12, isolated, as Lambda would import the tree.

    ``-B``: write no .pyc (/var/task is read-only in Lambda; ``-I`` ignores PYTHON* variables).
    """
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "numerai-bot-worker",
        "POWERTOOLS_SERVICE_NAME": "numerai-bot-worker",
        "POWERTOOLS_METRICS_NAMESPACE": "NumeraiBot",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [PY312, "-I", "-S", "-B", str(SMOKE), str(tree), str(runtime), mode, *args],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["stderr"] = result.stderr
    assert data.get("outside", []) == [], "modules loaded from outside the package"
    return data


# --- the worker --------------------------------------------------------------------------------


def test_worker_fits_with_margin(worker_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    size, files = tree_size(worker_tree)
    report = json.loads((worker_tree / MARKER).read_text())
    with capsys.disabled():
        print(
            f"\n[worker package] {size:,} bytes unzipped in {files:,} files; "
            f"{LAMBDA_UNZIPPED_LIMIT - size:,} bytes under the limit "
            f"(stripped {report['stripped_bytes']:,}, .pyc {report['pyc_bytes']:,})"
        )
    assert size <= LAMBDA_UNZIPPED_LIMIT - SIZE_MARGIN
    expected = [] if PY312 else [w for w in report["warnings"] if "compile .pyc" in w]
    assert report["warnings"] == expected


def test_worker_tree_holds_the_code_but_not_the_sdk_or_build_files(worker_tree: Path) -> None:
    for name in ("worker.py", "webhook.py", "numerai_bot/__init__.py"):
        assert (worker_tree / name).is_file(), name
    for name in ("boto3", "botocore", "s3transfer", "Makefile", "requirements.txt", "bin"):
        assert not (worker_tree / name).exists(), name
    assert not list(worker_tree.rglob("tests"))
    assert not list(worker_tree.rglob("*.pyi"))
    for library in ("libarrow.so.*", "libparquet.so.*", "libarrow_substrait.so.*"):
        assert list((worker_tree / "pyarrow").glob(library)), library


def test_every_shared_library_resolves(worker_tree: Path) -> None:
    """Cross-check the build's own ELF check with the system's loader (ldd)."""
    if shutil.which("ldd") is None:
        pytest.skip("no ldd")
    checked = 0
    for path, info in elf_files(worker_tree):
        assert info.machine == 62, path  # x86_64
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        assert "not found" not in result.stdout, f"{path}:\n{result.stdout}"
        checked += 1
    assert checked > 50


def test_pyc_files_are_unchecked_hash(worker_tree: Path) -> None:
    """SAM's 1980 timestamps would make timestamp-checked .pyc files stale at every cold start."""
    sources = list(worker_tree.rglob("*.py"))
    missing = []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not pyc.is_file():
            missing.append(str(source.relative_to(worker_tree)))
            continue
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc}: flags {flags:#b} (want hash-based, unchecked)"
    assert missing == []
    assert len(sources) > 1000


@needs_py312
def test_cold_import_time(
    worker_tree: Path, runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    times = [run_in_tree(worker_tree, runtime_dir, "imports")["import_seconds"] for _ in range(5)]
    median = statistics.median(times)
    with capsys.disabled():
        print(
            f"\n[worker package] import of pyarrow.parquet, onnxruntime, numerapi, pandas, "
            f"powertools: median {median:.2f} s of 5 fresh processes "
            f"({', '.join(f'{t:.2f}' for t in times)})"
        )
    # Generous bound (this machine ~0.6 s; Lambda's first, uncached read is slower): it catches
    # the ~2-4 s of recompiling everything that stale .pyc files would cost.
    assert median < 5


def _tree_model(features: list[str], path: Path, trees: int = 40) -> None:
    """A small ai.onnx.ml TreeEnsembleRegressor with the bot's metadata, built with onnx.helper."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from numerai_bot.model_metadata import ModelMetadata

    rng = np.random.default_rng(7)
    attrs: dict[str, list] = {
        key: []
        for key in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_modes",
            "nodes_values",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "target_treeids",
            "target_nodeids",
            "target_ids",
            "target_weights",
        )
    }
    for tree in range(trees):
        feature = int(rng.integers(len(features)))
        # node 0 splits, nodes 1 and 2 are leaves
        for node, mode, value, true_id, false_id in (
            (0, "BRANCH_LEQ", 1.5 + int(rng.integers(3)), 1, 2),
            (1, "LEAF", 0.0, 0, 0),
            (2, "LEAF", 0.0, 0, 0),
        ):
            attrs["nodes_treeids"].append(tree)
            attrs["nodes_nodeids"].append(node)
            attrs["nodes_featureids"].append(feature)
            attrs["nodes_modes"].append(mode)
            attrs["nodes_values"].append(value)
            attrs["nodes_truenodeids"].append(true_id)
            attrs["nodes_falsenodeids"].append(false_id)
        for leaf in (1, 2):
            attrs["target_treeids"].append(tree)
            attrs["target_nodeids"].append(leaf)
            attrs["target_ids"].append(0)
            attrs["target_weights"].append(float(rng.normal(0, 0.01)))
    node = helper.make_node(
        "TreeEnsembleRegressor",
        ["features"],
        ["prediction"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function="SUM",
        post_transform="NONE",
        base_values=[0.5],
        **attrs,
    )
    graph = helper.make_graph(
        [node],
        "smoke",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, len(features)])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
    )
    model = helper.make_model(
        graph,
        ir_version=9,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
    )
    meta = ModelMetadata(features=tuple(features), data_version="v5.2", model_name="smoke")
    helper.set_model_props(model, meta.to_props())
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


@pytest.fixture(scope="module")
def live_and_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Real-size synthetic live data (6,720 rows x 2,748 features) and a model on 780 of them."""
    from standins.synthetic_data import make_universe, write_live

    folder = tmp_path_factory.mktemp("live")
    universe = make_universe(seed=3)
    parquet = write_live(folder / "v5.2", universe, round_number=1234)
    model = folder / "smoke.onnx"
    _tree_model(universe.feature_sets["medium"], model)
    return parquet, model


@needs_py312
def test_worker_predicts_inside_the_tree(
    worker_tree: Path,
    runtime_dir: Path,
    live_and_model: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    parquet, model = live_and_model
    csv = tmp_path / "submission.csv"
    result = run_in_tree(worker_tree, runtime_dir, "predict", str(parquet), str(model), str(csv))
    assert result["rows"] == 6_720
    assert result["features"] == 780
    assert result["distinct_raw"] > 100
    lines = csv.read_text().splitlines()
    assert lines[0] == "id,prediction"
    assert len(lines) == 6_721
    with capsys.disabled():
        print(f"\n[worker package] read + predict + submission in {result['seconds']:.2f} s")


@needs_py312
def test_worker_core_pipeline_inside_the_tree(
    worker_tree: Path, runtime_dir: Path, live_and_model: tuple[Path, Path]
) -> None:
    parquet, model = live_and_model
    result = run_in_tree(worker_tree, runtime_dir, "core", str(parquet), str(model))
    assert result["rows"] == result["validated_rows"] == 6_720


@needs_py312
def test_worker_entry_module_imports_inside_the_tree(worker_tree: Path, runtime_dir: Path) -> None:
    result = run_in_tree(worker_tree, runtime_dir, "handler", "worker")
    assert result["callable"]


# --- the webhook -------------------------------------------------------------------------------


def test_webhook_is_small_and_light(webhook_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    size, files = tree_size(webhook_tree)
    with capsys.disabled():
        print(f"\n[webhook package] {size:,} bytes unzipped in {files:,} files")
    assert size < 20 * 2**20
    for heavy in ("pandas", "pyarrow", "numpy", "onnxruntime", "numerapi", "boto3", "botocore"):
        assert not (webhook_tree / heavy).exists(), heavy
    assert (webhook_tree / "webhook.py").is_file()
    assert (webhook_tree / "aws_lambda_powertools").is_dir()


@needs_py312
def test_webhook_imports_without_the_heavy_libraries(
    webhook_tree: Path, runtime_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_in_tree(webhook_tree, runtime_dir, "handler", "webhook")
    assert result["callable"]
    assert result["heavy_modules"] == []
    with capsys.disabled():
        print(f"\n[webhook package] import webhook: {result['import_seconds']:.2f} s")


# --- arm64 -------------------------------------------------------------------------------------


def test_arm64_worker_builds_for_graviton(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = tmp_path / "arm64"
    build("WorkerFunction", artifacts, "ARCH=arm64")
    machines = {info.machine for _path, info in elf_files(artifacts)}
    assert machines == {183}  # EM_AARCH64
    size, _files = tree_size(artifacts)
    report = json.loads((artifacts / MARKER).read_text())
    with capsys.disabled():
        print(
            f"\n[worker package, arm64] {size:,} bytes unzipped "
            f"(strip: {report['strip_tool'] or 'none found'})"
        )
    assert size <= LAMBDA_UNZIPPED_LIMIT
    if report["strip_tool"]:
        assert size <= LAMBDA_UNZIPPED_LIMIT - SIZE_MARGIN


# --- the user's feature function ---------------------------------------------------------------


@needs_py312
def test_a_feature_function_and_its_requirements_are_packaged_and_run_in_isolation(
    tmp_path: Path, runtime_dir: Path
) -> None:
    """Built as SAM builds it (its folder copied to a scratch directory, the Makefile of
    ContextPath run there), its own pinned package installed, the AWS SDK left to the runtime."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "app.py").write_text(
        "import six\n\n\ndef handler(event, context):\n"
        "    return {'output': event['output'], 'rows': 1, 'six': six.__version__}\n"
    )
    (scratch / "requirements.txt").write_text("six==1.17.0\nboto3==1.44.5\n")
    artifacts = tmp_path / "artifacts"
    result = build_feature_function_as_sam(scratch, artifacts, timeout=1800)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert (artifacts / "six.py").is_file()
    assert not (artifacts / "boto3").exists()  # the runtime's
    assert json.loads((artifacts / MARKER).read_text())["requirements"] == [
        "six==1.17.0",
        "boto3==1.44.5",
    ]
    as_if_unzipped(artifacts)
    code = (
        "import json, sys; sys.path[:0] = sys.argv[1:3]; import app; "
        "print(json.dumps(app.handler({'output': 'out.parquet'}, None)))"
    )
    ran = subprocess.run(
        [PY312, "-I", "-S", "-B", "-c", code, str(artifacts), str(runtime_dir)],  # type: ignore[list-item]
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout) == {"output": "out.parquet", "rows": 1, "six": "1.17.0"}
