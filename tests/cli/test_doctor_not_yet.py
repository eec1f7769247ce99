"""A new deployment is not a broken one: before a model's first round through the stack,
doctor's ledger line is ? (not yet, nothing to do) and the exit code is 0; a gap after the
stack has submitted the model before is ✗."""

from __future__ import annotations

from dataclasses import dataclass, field

from numerai_bot.ledger import FAILED, LedgerRecord
from numerai_bot.models_config import ModelConfig
from numerai_bot_cli.doctor.core import exit_code, render_text
from numerai_bot_cli.doctor.env import RoundRef
from numerai_bot_cli.doctor.ledger import ledger_check


@dataclass
class Ledger:
    records: dict[tuple[int, str], LedgerRecord] = field(default_factory=dict)

    def get(self, round_number: int, model: str, tournament: int = 8) -> LedgerRecord | None:
        return self.records.get((round_number, model))


@dataclass
class Env:
    """What the ledger check reads of a deployment."""

    latest: RoundRef
    records: Ledger = field(default_factory=Ledger)
    submitted_before: frozenset[tuple[str, int]] = frozenset()

    def configs(self) -> list[ModelConfig]:
        return [ModelConfig("alpha", "alpha.onnx")]

    def latest_round(self, tournament: object) -> RoundRef:
        return self.latest

    def ledger(self) -> Ledger:
        return self.records

    def ever_submitted(self) -> frozenset[tuple[str, int]]:
        return self.submitted_before


def test_a_new_stack_before_its_first_round_is_not_yet_and_exits_0() -> None:
    (finding,) = ledger_check(Env(RoundRef(500, is_open=False)))
    assert finding.ok is None and "never submitted alpha" in finding.detail
    assert "first round" in finding.next_step
    assert exit_code([finding]) == 0
    assert render_text([finding]).startswith("? ledger/alpha")
    assert "nothing broken" in render_text([finding])


def test_an_open_round_not_yet_submitted_is_not_yet() -> None:
    (finding,) = ledger_check(Env(RoundRef(500, is_open=True), submitted_before={("alpha", 8)}))
    assert finding.ok is None and "(open): not submitted yet" in finding.detail
    assert "numerai-bot trigger alpha" in finding.next_step


def test_a_gap_after_earlier_submissions_is_broken() -> None:
    (finding,) = ledger_check(Env(RoundRef(500, is_open=False), submitted_before={("alpha", 8)}))
    assert finding.ok is False and "no record for alpha" in finding.detail
    assert exit_code([finding]) == 1


def test_a_failed_round_is_broken_even_on_a_new_stack() -> None:
    failed = LedgerRecord(500, "alpha", FAILED, error="model returned NaN")
    (finding,) = ledger_check(Env(RoundRef(500, is_open=False), Ledger({(500, "alpha"): failed})))
    assert finding.ok is False and "NaN" in finding.detail
