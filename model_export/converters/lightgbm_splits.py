"""LightGBM's numerical split rule, rewritten as ONNX ``TreeEnsemble`` comparisons.

Why a module of its own: this is where exact parity is won or lost. LightGBM does not simply
test ``x <= threshold``; its dense-matrix predictor and ``Tree::NumericalDecision`` also

* turn every value with ``|x| <= kZeroThreshold`` (1e-35 as float32, about 1.0000000180e-35)
  into exactly ``0.0`` before the trees see it (the dense row reader keeps only non-zero
  values and missing ones, the rest of the row buffer is zero);
* send NaN where ``0.0`` goes when the split's ``missing_type`` is ``None`` (NaN becomes 0.0);
* send NaN to the ``default_left`` side when ``missing_type`` is ``NaN``;
* send NaN *and* zero (the zero band) to the ``default_left`` side when ``missing_type`` is
  ``Zero`` (models trained with ``zero_as_missing=true``).

LightGBM's own thresholds often sit exactly on the edge of that band (``1.0000000180025095e-35``
is the most common threshold of all on integer features), so the band cannot be ignored.

The ONNX operator offers one comparison per node (``<=`` or ``<`` here) plus a per-node switch
that sends NaN to the true branch. So each LightGBM split becomes a short chain of comparisons
over the real line: usually one node, at most three when ``missing_type`` is ``Zero`` and the
default side disagrees with the threshold. Chains reach the same child from two places; the
caller then writes that subtree twice (the operator has no shared subtrees).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

# LightGBM's kZeroThreshold: ``const double kZeroThreshold = 1e-35f;`` (a float literal).
K_ZERO_THRESHOLD = float(np.float32(1e-35))

# ONNX TreeEnsemble (ai.onnx.ml opset 5) ``nodes_modes`` values.
MODE_LEQ = 0
MODE_LT = 1

Side = Literal["left", "right"]
MISSING_TYPES = ("None", "Zero", "NaN")


@dataclass(frozen=True)
class Comparison:
    """One ONNX node: ``x <= threshold`` (LEQ) or ``x < threshold`` (LT).

    True sends the row to ``true_side`` (a LightGBM child); false goes on to the next
    comparison of the chain, or to the chain's final side. ``nan_true`` sends NaN to the
    true branch instead of onwards.
    """

    mode: int
    threshold: float
    true_side: Side
    nan_true: bool = False


@dataclass(frozen=True)
class SplitChain:
    """The comparisons that replace one LightGBM split, tried in order."""

    comparisons: tuple[Comparison, ...]
    final_side: Side


def split_chain(threshold: float, default_left: bool, missing_type: str) -> SplitChain:
    """Comparisons that route every double (and NaN) exactly as LightGBM routes it.

    The real line is cut into ordered segments, ``(-inf, -z)``, the zero band ``[-z, z]``
    and ``(z, inf)``, each split again by the threshold, every segment labelled with the
    child LightGBM picks for it; neighbours with the same child are merged.
    """
    if missing_type not in MISSING_TYPES:
        raise ValueError(f"unknown LightGBM missing_type {missing_type!r}")
    z = K_ZERO_THRESHOLD
    t = float(threshold)
    default: Side = "left" if default_left else "right"
    zero_side: Side = default if missing_type == "Zero" else ("left" if t >= 0.0 else "right")
    nan_side: Side = zero_side if missing_type == "None" else default

    # (mode, bound, side): the segment of x not caught before and with x <= / < bound.
    segments: list[tuple[int, float, Side]] = []
    if t < -z:
        segments += [(MODE_LEQ, t, "left"), (MODE_LT, -z, "right")]
    else:
        segments.append((MODE_LT, -z, "left"))
    segments.append((MODE_LEQ, z, zero_side))
    if t > z:
        segments.append((MODE_LEQ, t, "left"))
    final_side: Side = "right"  # (max(t, z), inf) is always above the threshold

    merged: list[tuple[int, float, Side]] = []
    for segment in segments:
        if merged and merged[-1][2] == segment[2]:
            merged[-1] = segment  # same child: one wider segment ending at the later bound
        else:
            merged.append(segment)
    while merged and merged[-1][2] == final_side:
        merged.pop()
    # Values below min(t, -z) always go left, so at least one "left" segment remains.

    comparisons: list[Comparison] = []
    nan_placed = False
    for mode, bound, side in merged:
        take_nan = not nan_placed and side == nan_side
        nan_placed = nan_placed or take_nan
        comparisons.append(Comparison(mode, bound, side, take_nan))
    if not nan_placed and nan_side != final_side:
        raise AssertionError("NaN routing could not be expressed")  # unreachable by design
    return SplitChain(tuple(comparisons), final_side)


def lightgbm_route(x: float, threshold: float, default_left: bool, missing_type: str) -> Side:
    """Reference: the child LightGBM's dense predictor picks for one value (used in tests)."""
    z = K_ZERO_THRESHOLD
    value = float(x)
    if not np.isnan(value) and abs(value) <= z:
        value = 0.0  # the dense row reader drops near-zero values
    if np.isnan(value) and missing_type != "NaN":
        value = 0.0
    if (missing_type == "Zero" and -z <= value <= z) or (missing_type == "NaN" and np.isnan(value)):
        return "left" if default_left else "right"
    return "left" if value <= threshold else "right"


def chain_route(chain: SplitChain, x: float) -> Side:
    """Reference: the side a chain sends one value to, as onnxruntime evaluates it."""
    value = float(x)
    for comparison in chain.comparisons:
        if np.isnan(value):
            if comparison.nan_true:
                return comparison.true_side
            continue
        hit = (
            value <= comparison.threshold
            if comparison.mode == MODE_LEQ
            else (value < comparison.threshold)
        )
        if hit:
            return comparison.true_side
    return chain.final_side
