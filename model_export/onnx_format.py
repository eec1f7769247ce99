"""The ONNX versions and names every exported file uses, in one place.

Why explicit versions: ``onnx.helper.make_model`` stamps the newest IR version its own release
knows (14 for onnx 1.23), which onnxruntime 1.31 refuses to load (it accepts up to 13). The
``TreeEnsemble`` operator needs ai.onnx.ml opset 5, which needs IR version 10 or later, so IR 10
with default-domain opset 21 is the oldest (most widely loadable) combination that works.
"""

from __future__ import annotations

IR_VERSION = 10
OPSET_DEFAULT = 21
OPSET_ML = 5
ML_DOMAIN = "ai.onnx.ml"

INPUT_NAME = "features"
OUTPUT_NAME = "prediction"
PRODUCER_NAME = "model_export"
