"""Several exported ONNX models → one graph that runs them side by side and adds them up.

Why one graph: the bot then creates one session and feeds the live matrix once (measured:
3 × 2,000 trees took 1,056 ms merged vs 1,174 ms in separate sessions). ``onnx.compose``
only chains graphs, so the members are copied in with prefixed names and fed from one input:

``features`` [N, U] (the union of the members' feature lists: the first member's order, then
each new column in order of appearance) → per member: Gather of its own columns (or nothing
when its list *is* the union), Cast to its input type → the member's nodes → [N] float64 →
optional per-member rank → ``Mul(weight)`` → ``Sum`` → ``prediction`` [N] float64.
onnxruntime's ``Mean`` has no double kernel; ``Sum`` and ``Mul`` do, and the weighted sum
stays in double so it ranks like the same sum in NumPy.

Rank before averaging is done **inside** the graph, exactly: ``TopK`` sorts, runs of equal
values get their average position (as pandas ``rank(method="average")``), ``ScatterElements``
puts the ranks back, and ``(rank - 0.5) / N`` makes them percentiles as numerai-tools does.
Every step is integer or half-integer arithmetic in double, so it equals NumPy to the last
bit (tested). The rank is over the rows given in one run, which is what Numerai scores: the
worker runs the whole live round (one era) in one call. Run such a file on one era at a
time elsewhere too (``validate`` does).

The members' parity is not re-checked against their native libraries here (each member was
gated when it was exported); the ensemble's parity is its output against the same ensemble
computed in NumPy from the members' own onnxruntime outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, compose, helper, numpy_helper, version_converter

from model_export import onnx_format as fmt
from model_export.converters.tree_graph import TENSOR_TYPES, InputType
from model_export.metadata import build_metadata, read_metadata, write_metadata
from model_export.parity import (
    LAMBDA_THREAD_COUNTS,
    ParityReport,
    ParityThresholds,
    average_ranks,
    check_parity,
    onnx_predictions,
)
from numerai_bot.model_metadata import MetadataError, ModelMetadata


class EnsembleError(ValueError):
    """The members cannot be combined; the message says why."""


@dataclass(frozen=True)
class Member:
    """One exported model: its graph, its metadata and its weight in the sum."""

    model: onnx.ModelProto
    metadata: ModelMetadata
    weight: float
    name: str = ""

    @classmethod
    def from_file(cls, path: Path, weight: float) -> Member:
        """Load an exported file (its metadata must be valid)."""
        return cls(onnx.load(str(path)), read_metadata(path), float(weight), Path(path).stem)


def union_features(members: Sequence[Member]) -> list[str]:
    """The first member's feature order, then every new column in order of appearance."""
    seen: dict[str, None] = {}
    for member in members:
        seen.update(dict.fromkeys(member.metadata.features))
    return list(seen)


def build_ensemble(
    members: Sequence[Member],
    *,
    rank_before_average: bool = False,
    input_type: InputType | None = None,
) -> tuple[onnx.ModelProto, list[str]]:
    """The ensemble graph and its input feature order (metadata not yet written)."""
    if len(members) < 2:
        raise EnsembleError("an ensemble needs at least two members")
    versions = {member.metadata.data_version for member in members}
    if len(versions) > 1:
        raise EnsembleError(
            f"members were exported for different data versions ({', '.join(sorted(versions))})"
            ": re-export them for one version"
        )
    tournaments = {member.metadata.tournament for member in members}
    if len(tournaments) > 1:
        raise EnsembleError(
            f"members were exported for different tournaments ({', '.join(sorted(tournaments))})"
            ": an ensemble submits to one tournament"
        )
    reading_strings = [
        m.name or m.metadata.model_name for m in members if m.metadata.string_features
    ]
    if reading_strings:
        raise EnsembleError(
            f"{', '.join(reading_strings)} read string features (a second graph input), which "
            "ensembles do not combine yet: export the members without them "
            "(train --string-features drop)"
        )
    features = union_features(members)
    position = {name: i for i, name in enumerate(features)}
    member_types = [_input_type(member.model) for member in members]
    if input_type is None:
        input_type = "float64" if TensorProto.DOUBLE in member_types else "float32"
    opset = max(fmt.OPSET_DEFAULT, *(_opset(member.model, "") for member in members))

    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    functions: list[onnx.FunctionProto] = []
    weighted: list[str] = []
    shared = _SharedCasts()
    for i, (member, elem_type) in enumerate(zip(members, member_types, strict=True)):
        prefix = f"m{i}_"
        graph_model = compose.add_prefix(_at_opset(member.model, opset), prefix)
        graph = graph_model.graph
        member_input = graph.input[0].name
        columns = [position[name] for name in member.metadata.features]
        direct = elem_type == TENSOR_TYPES[input_type] and _read_union_directly(
            graph, columns, shared, nodes
        )
        if not direct:  # its own columns, in its own input type
            source = fmt.INPUT_NAME
            if columns != list(range(len(features))):
                source = f"{prefix}columns_out"
                initializers.append(
                    numpy_helper.from_array(np.asarray(columns, np.int64), f"{prefix}columns")
                )
                nodes.append(
                    helper.make_node(
                        "Gather", [fmt.INPUT_NAME, f"{prefix}columns"], [source], axis=1
                    )
                )
            if elem_type != TENSOR_TYPES[input_type]:
                nodes.append(helper.make_node("Cast", [source], [member_input], to=elem_type))
            else:
                nodes.append(helper.make_node("Identity", [source], [member_input]))
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        functions.extend(graph_model.functions)
        output = _flat_double(graph.output[0].name, prefix, nodes, initializers)
        if rank_before_average:
            output = _rank_nodes(output, f"{prefix}rank_", nodes, initializers)
        initializers.append(
            numpy_helper.from_array(np.array(member.weight, np.float64), f"{prefix}weight")
        )
        nodes.append(helper.make_node("Mul", [output, f"{prefix}weight"], [f"{prefix}weighted"]))
        weighted.append(f"{prefix}weighted")
    nodes.append(helper.make_node("Sum", weighted, [fmt.OUTPUT_NAME]))

    graph = helper.make_graph(
        nodes,
        "ensemble",
        [
            helper.make_tensor_value_info(
                fmt.INPUT_NAME, TENSOR_TYPES[input_type], ["N", len(features)]
            )
        ],
        [helper.make_tensor_value_info(fmt.OUTPUT_NAME, TensorProto.DOUBLE, ["N"])],
        initializer=initializers,
    )
    opsets = {"": opset, fmt.ML_DOMAIN: fmt.OPSET_ML}
    for member in members:
        for entry in member.model.opset_import:
            if entry.domain not in ("", "ai.onnx"):
                opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
    model = helper.make_model(
        graph,
        ir_version=fmt.IR_VERSION,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in opsets.items()],
        producer_name=fmt.PRODUCER_NAME,
        functions=functions,
        doc_string=f"Ensemble of {len(members)} models"
        + (", ranked before averaging" if rank_before_average else ""),
    )
    onnx.checker.check_model(model, full_check=True)
    return model, features


def reference_predictions(
    members: Sequence[Member],
    features: Sequence[str],
    matrix: np.ndarray,
    *,
    rank_before_average: bool = False,
    threads: int = 0,
) -> np.ndarray:
    """The ensemble computed in NumPy from each member's own onnxruntime output."""
    position = {name: i for i, name in enumerate(features)}
    total: np.ndarray | None = None
    for member in members:
        columns = [position[name] for name in member.metadata.features]
        output = onnx_predictions(member.model.SerializeToString(), matrix[:, columns], threads)
        if rank_before_average:
            output = percentile_ranks(output)
        term = output * np.float64(member.weight)
        total = term if total is None else total + term
    if total is None:
        raise EnsembleError("no members")
    return total


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """``(average rank - 0.5) / N``: numerai-tools' tie-kept rank, centred in (0, 1)."""
    values = np.asarray(values, dtype=np.float64)
    return (average_ranks(values) - 0.5) / np.float64(len(values))


def ensemble_files(
    paths: Sequence[Path],
    weights: Sequence[float],
    check_matrix_for: Callable[[Sequence[str]], np.ndarray],
    *,
    rank_before_average: bool = False,
    model_name: str = "",
    input_type: InputType | None = None,
    thresholds: ParityThresholds | None = None,
    thread_counts: Sequence[int] = LAMBDA_THREAD_COUNTS,
) -> tuple[onnx.ModelProto, ParityReport]:
    """Load, combine, check against NumPy and describe; ``check_matrix_for(features)`` returns
    rows (columns in that order) for the parity check. Raises :class:`ParityError` via the
    caller when the report is not ok (the caller decides about overrides)."""
    if len(weights) != len(paths):
        raise EnsembleError(f"{len(paths)} models but {len(weights)} weights")
    try:
        members = [Member.from_file(path, w) for path, w in zip(paths, weights, strict=True)]
    except MetadataError as error:
        raise EnsembleError(f"a member has no valid metadata: {error}") from None
    model, features = build_ensemble(
        members, rank_before_average=rank_before_average, input_type=input_type
    )
    matrix = check_matrix_for(features)
    expected = reference_predictions(
        members, features, matrix, rank_before_average=rank_before_average
    )
    report = check_parity(
        model.SerializeToString(),
        matrix,
        expected,
        thread_counts=thread_counts,
        thresholds=thresholds,
    )
    parity = report.figures()
    parity["reference"] = "weighted sum of the members' onnxruntime outputs in NumPy"
    first = members[0].metadata
    targets = sorted({member.metadata.target for member in members})
    metadata = build_metadata(
        features,
        first.data_version,
        target=first.target if len(targets) == 1 else ",".join(targets),
        model_name=model_name,
        parity=parity,
        validation={
            "ensemble": {
                "rank_before_average": rank_before_average,
                "members": [
                    {
                        "name": member.name,
                        "model_name": member.metadata.model_name,
                        "source": member.metadata.source,
                        "target": member.metadata.target,
                        "weight": member.weight,
                        "features": len(member.metadata.features),
                        "parity_ok": member.metadata.parity.get("ok"),
                        "rows_reranked": member.metadata.parity.get("rows_reranked"),
                    }
                    for member in members
                ],
            }
        },
        source="ensemble",
        libraries=sorted({lib for m in members for lib in m.metadata.libraries} - {"python"}),
        tournament=first.tournament,
    )
    write_metadata(model, metadata)
    return model, report


# Nodes that read input columns only through a ``nodes_featureids`` attribute: a member made
# of these can read the union input with its feature ids renumbered instead of a Gather.
_TREE_OPS = {"TreeEnsemble", "TreeEnsembleRegressor", "TreeEnsembleClassifier"}


class _SharedCasts:
    """One Cast of the union input per element type, shared by every member that needs it.

    Why: each member's own ``Cast`` to double copied the whole [N, U] input once more (147 MB
    for 6,720 rows x 2,748 features); the members' trees can all read one copy.
    """

    def __init__(self) -> None:
        self.names: dict[int, str] = {}

    def of(self, elem_type: int, nodes: list[onnx.NodeProto]) -> str:
        """The union input cast to ``elem_type``; its Cast is appended to ``nodes`` the first
        time, so it comes before every reader."""
        if elem_type not in self.names:
            name = f"{fmt.INPUT_NAME}_as_{TensorProto.DataType.Name(elem_type).lower()}"
            nodes.append(helper.make_node("Cast", [fmt.INPUT_NAME], [name], to=elem_type))
            self.names[elem_type] = name
        return self.names[elem_type]


def _read_union_directly(
    graph: onnx.GraphProto,
    columns: list[int],
    shared: _SharedCasts,
    nodes: list[onnx.NodeProto],
) -> bool:
    """Rewire a member whose input feeds only tree nodes (directly or through one Cast) to
    read the union input: the trees' feature ids are renumbered to union positions.

    Why: a Gather of the member's columns copies the input per member, and its Cast copies
    it again; on a 20,000-tree ensemble of 10 members these copies took 20 % of the predict
    (measured in docs/benchmarks.md). Exact: the trees compare the same values. A member of
    any other shape is left as it is (the caller Gathers its columns).
    """
    member_input = graph.input[0].name
    readers = [node for node in graph.node if member_input in node.input]
    cast = None
    if len(readers) == 1 and readers[0].op_type == "Cast":
        cast = readers[0]
        readers = [node for node in graph.node if cast.output[0] in node.input]
    if not readers or any(
        node.op_type not in _TREE_OPS
        or node.domain != fmt.ML_DOMAIN
        or len(node.input) != 1
        or not any(a.name == "nodes_featureids" for a in node.attribute)
        for node in readers
    ):
        return False
    source = fmt.INPUT_NAME
    if cast is not None:
        target = next(a.i for a in cast.attribute if a.name == "to")
        source = shared.of(target, nodes)
        graph.node.remove(cast)
    for node in readers:
        node.input[0] = source
        ids = next(a for a in node.attribute if a.name == "nodes_featureids")
        renumbered = [columns[i] for i in ids.ints]
        del ids.ints[:]
        ids.ints.extend(renumbered)
    return True


def _input_type(model: onnx.ModelProto) -> int:
    return model.graph.input[0].type.tensor_type.elem_type


def _opset(model: onnx.ModelProto, domain: str) -> int:
    for entry in model.opset_import:
        if entry.domain == domain or (domain == "" and entry.domain == "ai.onnx"):
            return entry.version
    return 0


def _at_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """The member converted to the ensemble's default-domain opset when it uses an older one."""
    if _opset(model, "") in (0, opset):
        return model
    try:
        return version_converter.convert_version(model, opset)
    except Exception as error:  # the converter raises bare RuntimeErrors
        raise EnsembleError(
            f"a member uses opset {_opset(model, '')} and cannot be converted to {opset}: "
            f"{str(error)[:200]}"
        ) from None


def _flat_double(
    output: str, prefix: str, nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]
) -> str:
    """Reshape a member's output to [N] and cast it to double (no-ops for our own exports)."""
    initializers.append(numpy_helper.from_array(np.array([-1], np.int64), f"{prefix}flat"))
    nodes.append(helper.make_node("Reshape", [output, f"{prefix}flat"], [f"{prefix}flat_out"]))
    nodes.append(
        helper.make_node("Cast", [f"{prefix}flat_out"], [f"{prefix}double"], to=TensorProto.DOUBLE)
    )
    return f"{prefix}double"


def _rank_nodes(
    values: str, p: str, nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]
) -> str:
    """Nodes turning [N] doubles into ``(average rank - 0.5) / N`` (see module docstring)."""

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(value, p + name))
        return p + name

    def node(op: str, inputs: list[str], name: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [p + name], **attrs))
        return p + name

    zero = const("zero", np.array([0], np.int64))
    one = const("one", np.array([1], np.int64))
    minus_one = const("minus_one", np.array([-1], np.int64))
    big = const("big", np.array([np.iinfo(np.int64).max], np.int64))
    count = node("Shape", [values], "count")  # [1] int64: N
    nodes.append(
        helper.make_node(
            "TopK", [values, count], [p + "sorted", p + "order"], axis=0, largest=0, sorted=1
        )
    )
    sorted_values, order = p + "sorted", p + "order"
    tail = node("Slice", [sorted_values, one, big], "tail")
    head = node("Slice", [sorted_values, zero, minus_one], "head")
    changed = node("Not", [node("Equal", [tail, head], "same")], "changed")
    first = const("first", np.array([True]))
    starts_flag = node("Concat", [first, changed], "run_start", axis=0)  # [N] bool
    flag_int = node("Cast", [starts_flag], "run_start_int", to=TensorProto.INT64)
    run_id = node(
        "Sub",
        [node("CumSum", [flag_int, const("axis", np.array(0, np.int64))], "runs"), one],
        "run_id",
    )
    starts = node("Reshape", [node("NonZero", [starts_flag], "starts_2d"), minus_one], "starts")
    ends = node("Concat", [node("Slice", [starts, one, big], "next_starts"), count], "ends", axis=0)
    both = node("Add", [node("Add", [starts, ends], "start_end"), one], "start_end_1")
    run_rank = node(
        "Div",
        [
            node("Cast", [both], "start_end_double", to=TensorProto.DOUBLE),
            const("two", np.array(2.0)),
        ],
        "run_rank",
    )
    sorted_rank = node("Gather", [run_rank, run_id], "sorted_rank", axis=0)
    empty = node(
        "ConstantOfShape", [count], "zeros", value=numpy_helper.from_array(np.array([0.0]))
    )
    ranks = node("ScatterElements", [empty, order, sorted_rank], "ranks", axis=0)
    centred = node("Sub", [ranks, const("half", np.array(0.5))], "centred")
    n_double = node("Cast", [count], "count_double", to=TensorProto.DOUBLE)
    return node("Div", [centred, n_double], "percentile")
