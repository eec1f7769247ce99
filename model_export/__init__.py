"""Offline exporter: trained models → checked, self-describing ONNX files for the worker.

Never deployed. Modules, one job each:

* ``tree_graph``      – node lists → ai.onnx.ml opset 5 ``TreeEnsemble`` graph, with the
  summation each library uses (double; XGBoost's float32 tree-by-tree order)
* ``lightgbm_splits`` – LightGBM's split rule (NaN, zero band, default side) as comparisons
* ``lightgbm_onnx``, ``xgboost_onnx``, ``catboost_onnx``, ``sklearn_trees`` – exact exporters
* ``sklearn_onnx``    – scikit-learn: exact trees, else skl2onnx in double
* ``torch_onnx``      – ``torch.onnx.export`` (torch imported lazily, optional)
* ``graph_edit``      – other converters' graphs → the bot's ``features``/``prediction`` signature
* ``converters``      – kind detection, loading, one :class:`NativeModel` interface per library
* ``parity``          – native vs ONNX: max abs diff, Spearman, rows re-ranked, verdict
* ``metadata``        – the ``numerai_bot.model_metadata`` contract in ``metadata_props``
* ``export``          – convert → parity gate → metadata → atomic write
* ``ensemble``        – several files → one graph (union input, exact in-graph rank, weighted sum)
* ``scoring``, ``validate`` – per-era numerai_corr, Sharpe, drawdown, plot
* ``publish``         – the one publish (checks, upload, history) and rollback
* ``features``, ``data``, ``native``, ``train`` – feature lists, parquet/numerapi input,
  native LightGBM, Numerai's example model
* ``cli``, ``cli_release``, ``cli_common`` / ``__main__`` – ``python -m model_export …``
"""
