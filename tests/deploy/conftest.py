"""Fixtures for the deployment tests: the template, raw and transformed, and its evaluator."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.sam_template import Evaluator, read_template, transform


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """template.yaml as written (SAM)."""
    return read_template()


@pytest.fixture(scope="session")
def cfn_template(sam_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the SAM transform, with default parameters."""
    return transform(sam_template)


@pytest.fixture(scope="session")
def cfn(cfn_template: dict[str, Any]) -> Evaluator:
    """An evaluator of the transformed template with default parameters."""
    return Evaluator(cfn_template)
