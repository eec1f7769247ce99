"""Offline exporter: trained models → checked, self-describing ONNX files for the worker.

Never deployed. Its command line is ``numerai-bot train/export/check/...`` (or
``python -m model_export.cli``). Folders and modules, one job each:

* ``converters/``     – from each library's model to an ONNX graph: exact tree exporters
  (LightGBM, XGBoost, CatBoost, scikit-learn trees), skl2onnx and torch for the rest
* ``cli/``            – the command line: train/export/check/describe, then
  ensemble/validate/publish/rollback
* ``parity``          – native vs ONNX: max abs diff, Spearman, rows re-ranked, verdict
* ``metadata``        – the ``numerai_bot.model_metadata`` contract in ``metadata_props``
* ``export``          – convert → parity gate → metadata → atomic write
* ``ensemble``        – several files → one graph (union input, exact in-graph rank, weighted sum)
* ``era_metrics``, ``scoring``, ``validate`` – Numerai's per-era metrics (numerai-tools), Sharpe,
  drawdown, plot
* ``publish``         – the one publish (checks, upload, history) and rollback; ``cost`` is
  what a published model costs the worker
* ``features``, ``data``, ``native``, ``train``, ``tournament_data``, ``string_features`` –
  feature lists, parquet/numerapi input, native LightGBM, Numerai's example model, what each
  tournament trains on, string columns encoded in the graph
* ``own_data``        – the user's own table joined to Numerai's targets (Signals, Crypto)
* ``describe``, ``onnx_format`` – a file's metadata as the worker reads it; the ONNX versions
"""
