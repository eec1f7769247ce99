"""String features (Signals' ``feature_country``, ``feature_exchange_code``) encoded in the graph.

Why in the graph: the worker must never guess an encoding. A model trained on string columns
read them through a fixed vocabulary per column; that vocabulary travels in the ONNX file as
``ai.onnx.ml`` ``LabelEncoder`` nodes, so the live strings are fed as they are.

Contract (``numerai_bot.model_metadata``): graph input 0 ``features`` holds the numeric
features (``metadata.numeric_features`` order, float or double as declared); input 1
``string_features`` is ``tensor(string)`` [N, n_string] in ``metadata.string_features`` order,
a missing value fed as ``""``. Each string column goes through its own ``LabelEncoder``
(``keys_strings`` → ``values_floats``, anything else → NaN), is cast to the numeric type and
put where the trees read it.

The reference (native) pipeline is the same vocabulary applied in NumPy: the sorted distinct
non-empty training values of each column → 0, 1, 2, …; missing, empty or unseen → NaN; then
the model on all features as numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from onnx import TensorProto, helper, numpy_helper

from model_export import onnx_format as fmt
from model_export.features import FeatureError

STRING_INPUT_NAME = "string_features"
ENCODER_PREFIX = "encode:"  # LabelEncoder node names: "encode:feature_country"
MISSING = ""  # how the worker feeds a missing string
_INNER = "features_all"  # the full matrix the converted model reads
_NOTHING = "\x00no value\x00"  # the only key of a column without training values (→ NaN)


class StringFeatureError(FeatureError):
    """String features cannot be (or must not be) encoded; the message names the columns."""


@dataclass(frozen=True)
class StringEncoding:
    """A fixed vocabulary per string column: ``vocabularies[column][code] == value``."""

    vocabularies: Mapping[str, tuple[str, ...]]

    @property
    def columns(self) -> tuple[str, ...]:
        """The encoded columns (in the order given)."""
        return tuple(self.vocabularies)

    @classmethod
    def fit(cls, columns: Mapping[str, np.ndarray]) -> StringEncoding:
        """Sorted distinct non-empty values of each column (the training rows' strings)."""
        return cls(
            {
                name: tuple(sorted({str(v) for v in _arrow(values).unique().to_pylist() if v}))
                for name, values in columns.items()
            }
        )

    def codes(self, column: str, values: np.ndarray | pa.Array) -> np.ndarray:
        """Float64 codes of one column's values: position in the vocabulary, else NaN."""
        vocabulary = pa.array(list(self.vocabularies[column]), type=pa.string())
        found = pc.index_in(_arrow(values), value_set=vocabulary)
        return found.cast(pa.float64()).to_numpy(zero_copy_only=False)

    def encode(self, strings: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """[N, k] strings (columns in ``columns`` order) → [N, k] float64 codes."""
        codes = np.empty(strings.shape, dtype=np.float64)
        for j, column in enumerate(columns):
            codes[:, j] = self.codes(column, strings[:, j])
        return codes

    def restricted(self, columns: Sequence[str]) -> StringEncoding:
        """The vocabularies of ``columns`` only; refuses columns it has none for."""
        missing = [c for c in columns if c not in self.vocabularies]
        if missing:
            raise StringFeatureError(
                f"no vocabulary for the string column(s) {', '.join(missing)}: the file passed "
                "with --string-vocabulary must list them"
            )
        return StringEncoding({c: tuple(self.vocabularies[c]) for c in columns})

    def to_json(self) -> str:
        """``{"column": ["value of code 0", "value of code 1", …]}``."""
        return json.dumps({c: list(v) for c, v in self.vocabularies.items()}, indent=1) + "\n"

    def save(self, path: Path) -> Path:
        """Write :meth:`to_json` to ``path``."""
        Path(path).write_text(self.to_json())
        return Path(path)

    @classmethod
    def load(cls, path: Path, columns: Sequence[str]) -> StringEncoding:
        """From a JSON vocabulary file, or fitted on a parquet file (e.g. the train.parquet the
        model was trained on); only ``columns`` are kept."""
        path = Path(path)
        if path.suffix == ".parquet":
            table = pq.read_table(path, columns=list(columns))
            return cls.fit({c: table.column(c) for c in columns})
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise StringFeatureError(f"cannot read vocabulary {path}: {error}") from None
        if not isinstance(document, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) and x for x in v)
            for v in document.values()
        ):
            raise StringFeatureError(
                f"{path} must be a JSON object {{column: [value of code 0, value of code 1, …]}} "
                "of non-empty strings"
            )
        return cls({str(k): tuple(v) for k, v in document.items()}).restricted(columns)


def sidecar_path(native_model: Path) -> Path:
    """Where ``train --save-native m.txt`` keeps the vocabulary: ``m.vocabulary.json``."""
    native_model = Path(native_model)
    return native_model.with_name(native_model.stem + ".vocabulary.json")


def _arrow(values: np.ndarray | pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Strings as an arrow string array (dictionary columns decoded; None stays null)."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.cast(pa.string()) if not pa.types.is_string(values.type) else values
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)


def is_string_type(kind: pa.DataType) -> bool:
    """True for string columns, dictionary-encoded or not."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def string_columns(path: Path, candidates: Sequence[str]) -> list[str]:
    """Which of ``candidates`` are string columns in the parquet file (read from its schema)."""
    schema = pq.read_schema(path)
    names = set(schema.names)
    return [c for c in candidates if c in names and is_string_type(schema.field(c).type)]


def strings_matrix(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """[N, k] object array of ``columns``, a missing value as ``""`` (what the worker feeds)."""
    matrix = np.empty((table.num_rows, len(columns)), dtype=object)
    for j, name in enumerate(columns):
        column = pc.fill_null(_arrow(table.column(name)), MISSING)
        matrix[:, j] = column.to_numpy(zero_copy_only=False)
    return matrix


def full_matrix(
    numeric: np.ndarray,
    codes: np.ndarray,
    features: Sequence[str],
    string_features: Sequence[str],
) -> np.ndarray:
    """The model's matrix in ``features`` order from numeric columns and string codes."""
    strings = {name: j for j, name in enumerate(string_features)}
    out = np.empty((numeric.shape[0], len(features)), dtype=numeric.dtype)
    numeric_index = 0
    for j, name in enumerate(features):
        if name in strings:
            out[:, j] = codes[:, strings[name]]
        else:
            out[:, j] = numeric[:, numeric_index]
            numeric_index += 1
    if numeric_index != numeric.shape[1]:
        raise ValueError(f"{numeric.shape[1]} numeric columns for {numeric_index} numeric features")
    return out


def refusal(columns: Sequence[str], why: str) -> StringFeatureError:
    """The error naming the string columns a model reads and why they are not exported."""
    return StringFeatureError(
        f"the model reads string column(s) {', '.join(columns)}, which {why}. Encode them "
        "inside the graph (--string-features encode with --string-vocabulary: a JSON "
        "{column: [value of code 0, …]} or the train.parquet the codes came from, sorted "
        "distinct values → 0, 1, 2…, missing/unseen → NaN), or retrain without them"
    )


def add_string_inputs(
    model: onnx.ModelProto, features: Sequence[str], encoding: StringEncoding
) -> onnx.ModelProto:
    """A copy of ``model`` (one input ``features`` in ``features`` order) that takes the
    numeric columns and the string columns as two inputs and encodes the strings itself."""
    strings = [name for name in features if name in encoding.vocabularies]
    numeric = [name for name in features if name not in encoding.vocabularies]
    if len(strings) != len(encoding.vocabularies):
        unknown = sorted(set(encoding.vocabularies) - set(features))
        raise StringFeatureError(f"string column(s) {', '.join(unknown)} are not model features")
    wrapped = onnx.ModelProto()
    wrapped.CopyFrom(model)
    graph = wrapped.graph
    (original,) = [value for value in graph.input if value.name == fmt.INPUT_NAME]
    numeric_type = original.type.tensor_type.elem_type
    for node in graph.node:
        node.input[:] = [_INNER if name == fmt.INPUT_NAME else name for name in node.input]
    graph.input.remove(original)
    graph.input.insert(
        0, helper.make_tensor_value_info(fmt.INPUT_NAME, numeric_type, ["N", len(numeric)])
    )
    graph.input.insert(
        1, helper.make_tensor_value_info(STRING_INPUT_NAME, TensorProto.STRING, ["N", len(strings)])
    )
    front, constants = _encoding_nodes(strings, numeric, features, encoding, numeric_type)
    for offset, node in enumerate(front):
        graph.node.insert(offset, node)
    graph.initializer.extend(constants)
    _require_opsets(wrapped)
    onnx.checker.check_model(wrapped, full_check=True)
    return wrapped


def _encoding_nodes(
    strings: Sequence[str],
    numeric: Sequence[str],
    features: Sequence[str],
    encoding: StringEncoding,
    numeric_type: int,
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Gather each string column → LabelEncoder → Cast; Concat after the numeric columns;
    Gather the columns into the trees' order."""
    nodes: list[onnx.NodeProto] = []
    constants: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        constants.append(numpy_helper.from_array(value, f"strings_{name}"))
        return f"strings_{name}"

    pieces = [fmt.INPUT_NAME]
    for j, column in enumerate(strings):
        vocabulary = list(encoding.vocabularies[column]) or [_NOTHING]
        values = [float(i) for i in range(len(encoding.vocabularies[column]))] or [math.nan]
        picked, coded, cast = f"strings_{j}_raw", f"strings_{j}_code", f"strings_{j}_value"
        index = const(f"{j}_index", np.array([j], np.int64))
        nodes.append(helper.make_node("Gather", [STRING_INPUT_NAME, index], [picked], axis=1))
        nodes.append(
            helper.make_node(
                "LabelEncoder",
                [picked],
                [coded],
                name=ENCODER_PREFIX + column,
                domain=fmt.ML_DOMAIN,
                keys_strings=vocabulary,
                values_floats=values,
                default_float=math.nan,
            )
        )
        if numeric_type == TensorProto.FLOAT:
            cast = coded
        else:
            nodes.append(helper.make_node("Cast", [coded], [cast], to=numeric_type))
        pieces.append(cast)
    order = [*numeric, *strings]
    permutation = np.array([order.index(name) for name in features], np.int64)
    if np.array_equal(permutation, np.arange(len(features))):
        nodes.append(helper.make_node("Concat", pieces, [_INNER], axis=1))
    else:
        nodes.append(helper.make_node("Concat", pieces, ["strings_concat"], axis=1))
        permuted = const("order", permutation)
        nodes.append(helper.make_node("Gather", ["strings_concat", permuted], [_INNER], axis=1))
    return nodes, constants


def _require_opsets(model: onnx.ModelProto) -> None:
    """ai.onnx.ml >= 2 (LabelEncoder with float values) and default opset >= 13."""
    for domain, minimum in ((fmt.ML_DOMAIN, 2), ("", 13)):
        entry = next((e for e in model.opset_import if (e.domain or "") == domain), None)
        if entry is None:
            model.opset_import.append(helper.make_opsetid(domain, minimum))
        elif entry.version < minimum:
            entry.version = minimum


def encoding_from_graph(model: onnx.ModelProto) -> StringEncoding | None:
    """The vocabularies the graph's LabelEncoders apply (None when it reads no strings)."""
    vocabularies: dict[str, tuple[str, ...]] = {}
    for node in model.graph.node:
        if node.op_type != "LabelEncoder" or not node.name.startswith(ENCODER_PREFIX):
            continue
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        keys = [k.decode() if isinstance(k, bytes) else k for k in attributes["keys_strings"]]
        pairs = sorted(
            (value, key)
            for key, value in zip(keys, attributes["values_floats"], strict=True)
            if not math.isnan(value)
        )
        vocabularies[node.name[len(ENCODER_PREFIX) :]] = tuple(key for _, key in pairs)
    return StringEncoding(vocabularies) if vocabularies else None
