"""``python -m model_export.cli``: train end to end on tiny synthetic data, export, check,
describe."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lightgbm as lgb
import numpy as np
import onnx
import pytest
from numerapi import base_api

from model_export.cli.program import main
from model_export.metadata import read_metadata

from .conftest import N_FEATURES

REPO = Path(__file__).resolve().parents[2]
TINY = ["--n-estimators", "30", "--parity-rows", "800", "--quiet"]


@pytest.fixture(scope="module")
def trained(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One CLI training run shared by the tests below (30 trees, all 60 features)."""
    out = tmp_path_factory.mktemp("trained")
    code = main(
        [
            "train",
            "--data-dir", str(data_root),
            "--feature-set", "all",
            "--target", "target_ender_20",
            "--name", "tiny",
            "-o", str(out / "model.onnx"),
            "--save-native", str(out / "model.txt"),
            *TINY,
        ]
    )  # fmt: skip
    assert code == 0
    return {"onnx": out / "model.onnx", "native": out / "model.txt", "dir": out}


def test_train_writes_checked_model(trained, data_root) -> None:
    meta = read_metadata(trained["onnx"])
    features = json.loads((data_root / "v5.2" / "features.json").read_text())["feature_sets"]
    assert list(meta.features) == features["all"]
    assert (meta.data_version, meta.target, meta.model_name) == ("v5.2", "target_ender_20", "tiny")
    assert meta.parity["ok"] and meta.parity["rows_reranked"] == 0
    assert meta.parity["num_iteration"] == 30 and meta.parity["rows"] == 800
    assert meta.validation["file"] == "validation.parquet" and meta.validation["eras"] > 1
    assert meta.validation["mean_era_spearman"] > 0.05  # the synthetic signal is learnt
    # Every 4th era of 40 → 10 eras of ~150 rows were used.
    booster = lgb.Booster(model_file=str(trained["native"]))
    assert booster.current_iteration() == 30 and booster.num_feature() == N_FEATURES


def test_train_prints_report(data_root, tmp_path, capsys) -> None:
    code = main(
        ["train", "--data-dir", str(data_root / "v5.2"), "-o", str(tmp_path / "m.onnx"), *TINY]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Parity native vs ONNX on 800 rows: PASSED" in out
    assert "rows re-ranked   0" in out and "Wrote" in out
    assert read_metadata(tmp_path / "m.onnx").features[0].startswith("feature_")


def test_describe_output(trained, capsys) -> None:
    assert main(["describe", str(trained["onnx"])]) == 0
    out = capsys.readouterr().out
    for expected in (
        "input           features  float32 [N, 60]",
        "output          prediction  float64 [N]",
        "trees           30",
        "data version    v5.2",
        "target          target_ender_20",
        "model name      tiny",
        "source          lightgbm",
        "features        60 (",
        "PASSED on 800 rows: 0 re-ranked",
        "lightgbm 4.",
    ):
        assert expected in out, expected
    assert main(["describe", str(trained["onnx"]), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["trees"] == 30 and len(info["metadata"]["features"]) == N_FEATURES


def test_describe_flags_file_without_metadata(trained, tmp_path, capsys) -> None:
    model = onnx.load(str(trained["onnx"]))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "bare.onnx"))
    assert main(["describe", str(tmp_path / "bare.onnx")]) == 2
    assert "metadata        INVALID" in capsys.readouterr().out


def test_check_passes_and_fails(trained, data_root, tmp_path, capsys) -> None:
    live = str(data_root / "v5.2" / "live.parquet")
    assert main(["check", str(trained["onnx"]), str(trained["native"]), "--data", live]) == 0
    assert "PASSED" in capsys.readouterr().out
    # Native model cut to 10 of its 30 trees: parity must fail with exit code 1.
    argv = ["check", str(trained["onnx"]), str(trained["native"]), "--data", live]
    assert main([*argv, "--num-iteration", "10", "--threads", "1,2"]) == 1
    assert "FAILED" in capsys.readouterr().out
    # A model with fewer trees than the file records: a clear error, exit 2.
    other = lgb.Booster(model_file=str(trained["native"]))
    other.save_model(str(tmp_path / "other.txt"), num_iteration=10)
    argv = ["check", str(trained["onnx"]), str(tmp_path / "other.txt"), "--data", live]
    assert main(argv) == 2
    assert "more than the model's 10 iterations" in capsys.readouterr().err


def test_export_from_text_model_and_feature_list(trained, data_root, tmp_path, capsys) -> None:
    features = read_metadata(trained["onnx"]).features
    listing = tmp_path / "features.txt"
    listing.write_text("\n".join(reversed(features)))  # another column order is fine
    target = tmp_path / "exported.onnx"
    code = main(
        [
            "export", str(trained["native"]),
            "--feature-list", str(listing),
            "--data", str(data_root / "v5.2" / "validation.parquet"),
            "-o", str(target), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    meta = read_metadata(target)
    assert meta.features == tuple(reversed(features)) and meta.data_version == "v5.2"
    assert meta.parity["ok"]


def test_export_from_pickle_with_feature_set(trained, data_root, tmp_path) -> None:
    import pickle

    booster = lgb.Booster(model_file=str(trained["native"]))
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(booster))
    code = main(
        [
            "export", str(pickled),
            "--features-json", str(data_root / "v5.2" / "features.json"),
            "--feature-set", "all",
            "--data", str(data_root / "v5.2" / "live.parquet"),
            "-o", str(tmp_path / "p.onnx"), "--quiet",
        ]
    )  # fmt: skip
    assert code == 0 and read_metadata(tmp_path / "p.onnx").parity["ok"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--data-dir", "/nonexistent", "-o", "x.onnx"], "--download"),
        (["export", "/nonexistent.txt", "--data", "x.parquet", "-o", "x.onnx"], "does not exist"),
        (["describe", "/nonexistent.onnx"], "does not exist"),
    ],
)
def test_errors_say_what_to_do(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_export_needs_a_data_version(trained, data_root, tmp_path, capsys) -> None:
    live = tmp_path / "live.parquet"
    shutil.copy(data_root / "v5.2" / "live.parquet", live)
    argv = ["export", str(trained["native"]), "--data", str(live), "-o", str(tmp_path / "x.onnx")]
    assert main(argv) == 2
    assert "--data-version" in capsys.readouterr().err


def test_module_entry_point_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "model_export.cli", "export", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--allow-parity-failure" in result.stdout


class _FakeNumerai(BaseHTTPRequestHandler):
    """GraphQL ``listDatasets`` → the files under ``root``; ``dataset`` → URL of one of them
    (numerapi's two steps)."""

    root: Path

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "listDatasets" in body["query"]:
            names = sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*.*"))
            self._send(200, json.dumps({"data": {"listDatasets": names}}))
            return
        filename = body["variables"]["filename"]
        host, port = self.server.server_address[:2]
        self._send(200, json.dumps({"data": {"dataset": f"http://{host}:{port}/{filename}"}}))

    def do_GET(self) -> None:
        path = self.root / self.path.lstrip("/")
        if not path.is_file():
            self._send(404, "missing")
            return
        self._send(200, path.read_bytes())

    def _send(self, status: int, payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def fake_numerai(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    handler = type("Handler", (_FakeNumerai,), {"root": data_root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/graphql"
    monkeypatch.setattr(base_api, "API_TOURNAMENT_URL", base_api.API_TOURNAMENT_URL)
    monkeypatch.setenv("NUMERAI_API_URL", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def test_train_with_download(fake_numerai, tmp_path) -> None:
    dest = tmp_path / "downloads"
    argv = ["train", "--download", "--data-dir", str(dest), "-o", str(tmp_path / "d.onnx"), *TINY]
    assert main(argv) == 0
    assert sorted(p.name for p in (dest / "v5.2").iterdir()) == [
        "features.json",
        "train.parquet",
        "validation.parquet",
    ]
    assert read_metadata(tmp_path / "d.onnx").data_version == "v5.2"
    assert np.isfinite(read_metadata(tmp_path / "d.onnx").parity["max_abs_diff"])


def test_torch_file_without_torch_says_what_to_install(data_root, tmp_path, capsys) -> None:
    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    network = tmp_path / "net.pt"
    network.write_bytes(b"a torch.save file")
    live = str(data_root / "v5.2" / "live.parquet")
    assert main(["export", str(network), "--data", live, "-o", str(tmp_path / "n.onnx")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "PyTorch is not installed" in line and "requirements-torch.txt" in line
