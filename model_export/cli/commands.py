"""model_export's subcommands and their one-line help, as data: the parser reads it, and so
does numerai-bot's list of commands, without importing model_export's dependencies."""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    "train": "train Numerai's example LightGBM model (--tournament classic, signals, crypto) "
    "and export it to ONNX",
    "export": "export a model (LightGBM, XGBoost, CatBoost, scikit-learn, PyTorch) to ONNX for "
    "its tournament, with a ranking parity check",
    "check": "compare an .onnx file with its native model on data",
    "describe": "print an .onnx file's metadata as the worker reads it",
    "ensemble": "combine exported .onnx files into one weighted graph",
    "validate": "Numerai's per-era CORR, MMC, BMC, FNC of an .onnx file on validation data",
    "publish": "upload an .onnx file to the model store (keeping the previous one)",
    "rollback": "restore the previously published file of a model",
}
