"""Build the ONNX graph of a tree ensemble (ai.onnx.ml opset 5 ``TreeEnsemble``) from node lists.

Why one builder for every library: LightGBM, XGBoost, CatBoost and scikit-learn trees differ in
how they *route* a row (``<=`` or ``<``, NaN side, oblivious levels) and in how they *add up*
the leaves, but the graph is the same ``Cast → TreeEnsemble → …`` each time. The converters
fill a :class:`TreeNodes` (one ONNX node per comparison, one leaf per leaf) and pick the
summation that reproduces their library bit for bit:

* ``"double"``: thresholds, leaf weights and the sum in float64 (LightGBM, CatBoost and
  scikit-learn add leaves in double). Optional ``scale`` and ``base`` afterwards, in double.
* ``"float32_sequential"``: XGBoost keeps its predictions in float32 and adds the trees one
  after the other, starting from ``base_score``. A float32 ``TreeEnsemble`` summing all trees
  (onnxruntime adds per-thread partial sums) or a double sum both re-rank rows (measured: 194
  of 6,720 rows for a double sum). So every tree writes its own output column (one leaf per
  column, exact), column 0 holds the base score, and ``CumSum`` along the columns adds them
  left to right in float32, exactly XGBoost's order; the last column is the prediction.
* ``"double_sequential"``: the same column-by-column order in float64, for libraries that
  start from a baseline and add trees one by one in double (scikit-learn's gradient boosting);
  bit-identical for every onnxruntime thread count, at the cost of an [N, trees] buffer.
* ``"float32"``: the plain float32 ensemble other converters write, kept only to show (and
  test) why it is refused.

Output: ``prediction`` [N] float64 (or [N, 1] with ``flat_output=False``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from model_export import onnx_format as fmt

InputType = Literal["float32", "float64"]
Summation = Literal["double", "double_sequential", "float32", "float32_sequential"]
SEQUENTIAL = ("double_sequential", "float32_sequential")

# ONNX TreeEnsemble (ai.onnx.ml opset 5) ``nodes_modes`` values used here.
MODE_LEQ = 0
MODE_LT = 1
MODE_GT = 4

# Name of the sequential TreeEnsemble node, whose first "tree" is the base score column.
BASE_COLUMN_NODE = "trees_after_base_score"
TENSOR_TYPES = {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}
NUMPY_TYPES = {"float32": np.float32, "float64": np.float64}


@dataclass
class TreeNodes:
    """The ``nodes_*`` / ``leaf_*`` attribute lists of a TreeEnsemble, filled tree by tree.

    Call :meth:`begin_tree` before adding a tree's nodes; every leaf remembers its tree so the
    sequential summation can give each tree its own output column.
    """

    featureids: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    truenodeids: list[int] = field(default_factory=list)
    trueleafs: list[int] = field(default_factory=list)
    falsenodeids: list[int] = field(default_factory=list)
    falseleafs: list[int] = field(default_factory=list)
    missing_tracks_true: list[int] = field(default_factory=list)
    roots: list[int] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)
    leaf_trees: list[int] = field(default_factory=list)
    trees: int = 0

    def begin_tree(self) -> None:
        """Start a new tree: the leaves added next belong to it."""
        self.trees += 1

    def add_node(self, feature: int, mode: int, threshold: float, nan_true: bool) -> int:
        """Append a comparison node (children linked later); returns its index."""
        self.featureids.append(int(feature))
        self.modes.append(int(mode))
        self.splits.append(float(threshold))
        self.truenodeids.append(-1)
        self.trueleafs.append(0)
        self.falsenodeids.append(-1)
        self.falseleafs.append(0)
        self.missing_tracks_true.append(int(nan_true))
        return len(self.modes) - 1

    def add_leaf(self, value: float) -> int:
        """Append a leaf of the current tree; returns its index."""
        if self.trees == 0:
            raise AssertionError("begin_tree() before adding leaves")
        self.leaf_weights.append(float(value))
        self.leaf_trees.append(self.trees - 1)
        return len(self.leaf_weights) - 1

    def add_root(self, node: int) -> None:
        """Mark ``node`` as the current tree's root."""
        self.roots.append(node)

    def add_constant_tree(self, value: float) -> None:
        """A one-leaf tree: one node whose two branches reach the same leaf."""
        self.begin_tree()
        leaf = self.add_leaf(value)
        root = self.add_node(0, MODE_LEQ, 0.0, False)
        self.add_root(root)
        self.link(root, True, leaf, is_leaf=True)
        self.link(root, False, leaf, is_leaf=True)

    def link(self, parent: int, on_true: bool, target: int, *, is_leaf: bool) -> None:
        """Point ``parent``'s true (or false) branch at node or leaf ``target``."""
        ids, leafs = (
            (self.truenodeids, self.trueleafs) if on_true else (self.falsenodeids, self.falseleafs)
        )
        ids[parent] = target
        leafs[parent] = int(is_leaf)

    def check(self) -> None:
        """Every tree has a root and every node two children (catches converter bugs early)."""
        if len(self.roots) != self.trees or self.trees == 0:
            raise AssertionError(f"{self.trees} trees but {len(self.roots)} roots")
        if -1 in self.truenodeids or -1 in self.falsenodeids:
            raise AssertionError("a tree node was left without a child")


def tree_ensemble_model(
    nodes: TreeNodes,
    *,
    n_features: int,
    input_type: InputType = "float32",
    summation: Summation = "double",
    base: float = 0.0,
    scale: float = 1.0,
    average: bool = False,
    flat_output: bool = True,
    graph_name: str = "tree_ensemble",
    doc: str = "",
) -> onnx.ModelProto:
    """Assemble the graph with explicit IR version and opsets (see :mod:`onnx_format`).

    ``double``: ``(sum or mean of leaves) * scale + base`` in float64 (each step a separate
    node, skipped when neutral). ``*_sequential``: ``base`` then each tree added in order
    (``scale`` must be 1). ``float32``: float32 sum, then ``+ base``.
    """
    nodes.check()
    if input_type not in TENSOR_TYPES:
        raise ValueError(f"input_type must be float32 or float64, not {input_type!r}")
    if summation not in ("double", "float32", *SEQUENTIAL):
        raise ValueError(f"unknown summation {summation!r}")
    if summation in SEQUENTIAL and (scale != 1.0 or average):
        raise ValueError("sequential summation takes no scale and no averaging")
    compute = "float64" if summation.startswith("double") else "float32"
    compute_np = NUMPY_TYPES[compute]
    builder = _Graph()

    tree_input = fmt.INPUT_NAME
    if input_type != compute:
        tree_input = builder.node("Cast", [fmt.INPUT_NAME], to=TENSOR_TYPES[compute])

    if summation in SEQUENTIAL:
        # Column 0: the base score as a one-leaf tree; column t+1: tree t alone.
        sequential = TreeNodes()
        sequential.add_constant_tree(base)
        _append(sequential, nodes)
        columns = builder.trees(tree_input, sequential, compute_np, per_tree=True, average=False)
        running = builder.node("CumSum", [columns, builder.const(np.array(1, np.int64))])
        last = builder.node(
            "Gather", [running, builder.const(np.array([-1], np.int64))], axis=1
        )  # [N, 1]
        result = (
            last if compute == "float64" else builder.node("Cast", [last], to=TensorProto.DOUBLE)
        )
    else:
        result = builder.trees(tree_input, nodes, compute_np, per_tree=False, average=average)
        if scale != 1.0:
            result = builder.node("Mul", [result, builder.const(np.array(scale, compute_np))])
        if base != 0.0:
            result = builder.node("Add", [result, builder.const(np.array(base, compute_np))])
        if compute != "float64":
            result = builder.node("Cast", [result], to=TensorProto.DOUBLE)

    if flat_output:
        builder.node("Reshape", [result, builder.const(np.array([-1], np.int64))], fmt.OUTPUT_NAME)
    else:
        builder.node("Identity", [result], fmt.OUTPUT_NAME)
    output_shape: list[str | int] = ["N"] if flat_output else ["N", 1]
    return builder.model(
        graph_name,
        helper.make_tensor_value_info(fmt.INPUT_NAME, TENSOR_TYPES[input_type], ["N", n_features]),
        helper.make_tensor_value_info(fmt.OUTPUT_NAME, TensorProto.DOUBLE, output_shape),
        doc,
    )


def _append(target: TreeNodes, source: TreeNodes) -> None:
    """Copy ``source``'s trees after ``target``'s (node, leaf and tree indices shifted)."""
    node_shift, leaf_shift, tree_shift = len(target.modes), len(target.leaf_weights), target.trees
    target.featureids += source.featureids
    target.modes += source.modes
    target.splits += source.splits
    target.missing_tracks_true += source.missing_tracks_true
    for ids, leafs, new_ids in (
        (source.truenodeids, source.trueleafs, target.truenodeids),
        (source.falsenodeids, source.falseleafs, target.falsenodeids),
    ):
        new_ids += [
            i + (leaf_shift if leaf else node_shift) for i, leaf in zip(ids, leafs, strict=True)
        ]
    target.trueleafs += source.trueleafs
    target.falseleafs += source.falseleafs
    target.roots += [root + node_shift for root in source.roots]
    target.leaf_weights += source.leaf_weights
    target.leaf_trees += [tree + tree_shift for tree in source.leaf_trees]
    target.trees += source.trees


class _Graph:
    """Collects nodes and constants with generated names, then makes the checked model."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def const(self, value: np.ndarray) -> str:
        name = f"const_{len(self.initializers)}"
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: object) -> str:
        output = output or f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def trees(
        self,
        tree_input: str,
        nodes: TreeNodes,
        dtype: type[np.floating],
        *,
        per_tree: bool,
        average: bool,
    ) -> str:
        output = f"trees_{len(self.nodes)}"
        self.nodes.append(
            helper.make_node(
                "TreeEnsemble",
                [tree_input],
                [output],
                domain=fmt.ML_DOMAIN,
                name=BASE_COLUMN_NODE if per_tree else "trees",
                n_targets=nodes.trees if per_tree else 1,
                aggregate_function=0 if average else 1,  # AVERAGE or SUM
                post_transform=0,  # NONE
                tree_roots=nodes.roots,
                nodes_featureids=nodes.featureids,
                nodes_modes=numpy_helper.from_array(np.asarray(nodes.modes, dtype=np.uint8)),
                nodes_splits=numpy_helper.from_array(np.asarray(nodes.splits, dtype=dtype)),
                nodes_truenodeids=nodes.truenodeids,
                nodes_trueleafs=nodes.trueleafs,
                nodes_falsenodeids=nodes.falsenodeids,
                nodes_falseleafs=nodes.falseleafs,
                nodes_missing_value_tracks_true=nodes.missing_tracks_true,
                leaf_targetids=nodes.leaf_trees if per_tree else [0] * len(nodes.leaf_weights),
                leaf_weights=numpy_helper.from_array(np.asarray(nodes.leaf_weights, dtype=dtype)),
            )
        )
        return output

    def model(
        self,
        name: str,
        graph_input: onnx.ValueInfoProto,
        graph_output: onnx.ValueInfoProto,
        doc: str,
    ) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, name, [graph_input], [graph_output], initializer=self.initializers
        )
        model = helper.make_model(
            graph,
            ir_version=fmt.IR_VERSION,
            opset_imports=[
                helper.make_opsetid("", fmt.OPSET_DEFAULT),
                helper.make_opsetid(fmt.ML_DOMAIN, fmt.OPSET_ML),
            ],
            producer_name=fmt.PRODUCER_NAME,
            doc_string=doc,
        )
        onnx.checker.check_model(model, full_check=True)
        return model
