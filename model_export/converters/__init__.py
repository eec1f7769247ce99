"""From a trained model of one library to an ONNX graph with the bot's signature.

* ``libraries``       – kind detection, loading, one :class:`~.libraries.NativeModel`
  interface per library (its modules imported only when a model of that kind is used)
* ``tree_graph``      – node lists → ai.onnx.ml opset 5 ``TreeEnsemble`` graph, with the
  summation each library uses (double; XGBoost's float32 tree-by-tree order)
* ``lightgbm_splits`` – LightGBM's split rule (NaN, zero band, default side) as comparisons
* ``lightgbm_onnx``, ``xgboost_onnx``, ``catboost_onnx``, ``sklearn_trees`` – exact exporters
* ``sklearn_onnx``    – scikit-learn: exact trees, else skl2onnx in double
* ``torch_onnx``      – ``torch.onnx.export`` (torch imported lazily, optional)
* ``graph_edit``      – other converters' graphs → the bot's ``features``/``prediction`` signature
"""
