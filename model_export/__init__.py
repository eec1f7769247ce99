"""Offline exporter: LightGBM models → checked, self-describing ONNX files for the worker.

Never deployed. Modules, one job each:

* ``lightgbm_splits`` – LightGBM's split rule (NaN, zero band, default side) as ONNX comparisons
* ``lightgbm_onnx``   – Booster → double-precision ``TreeEnsemble`` graph (ai.onnx.ml opset 5)
* ``parity``          – native vs ONNX: max abs diff, Spearman, rows re-ranked, verdict
* ``metadata``        – the ``numerai_bot.model_metadata`` contract in ``metadata_props``
* ``export``          – convert → parity gate → metadata → atomic write
* ``features``, ``data``, ``native``, ``train`` – feature lists, parquet/numerapi input,
  native models, Numerai's example model
* ``cli`` / ``__main__`` – ``python -m model_export train|export|check|describe``
* ``bench_export``    – one-off Numerai-sized measurement
"""
