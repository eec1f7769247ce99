"""Doctor check (g): the last round has no gap in the ledger: every model of models.json has a
SUBMITTED record for its tournament's most recent round (the open one, else the last opened).

No record is "not yet" (?), not broken, while the round is open (the webhook or the fallback
schedule still submits it) and for a model this stack has never submitted (a new stack or a
new model: its first round fills it). A gap after earlier submissions is broken (✗).
"""

from __future__ import annotations

from collections.abc import Iterator

from numerai_bot.ledger import SUBMITTED
from numerai_bot.models_config import ModelConfig
from numerai_bot_cli.doctor.core import Finding, check, failed, passed, unverified
from numerai_bot_cli.doctor.env import DoctorEnv


@check(
    "g",
    "ledger",
    "every model has a SUBMITTED record for its tournament's most recent round",
    "`numerai-bot trigger MODEL` while the round is open",
)
def ledger_check(env: DoctorEnv) -> Iterator[Finding]:
    """One line per usable models.json entry."""
    for config in env.configs():
        yield _ledger_finding(env, config)


def _ledger_finding(env: DoctorEnv, config: ModelConfig) -> Finding:
    name = f"ledger/{config.name}"
    latest = env.latest_round(config.tournament)
    record = env.ledger().get(latest.number, config.name, config.tournament.id)
    label = f"{config.tournament} round {latest.number}" + (" (open)" if latest.is_open else "")
    if latest.is_open:
        fill = f"`numerai-bot trigger {config.name}` now, or wait for the fallback schedule"
    else:
        fill = (
            "the round is closed: find why (`numerai-bot logs --round "
            f"{latest.number} --model {config.name}`); if the stack is newer than the round, "
            "the next round fills this"
        )
    if record is None and latest.is_open:
        return unverified(name, f"{label}: not submitted yet", fill)
    if record is None and (config.name, config.tournament.id) not in env.ever_submitted():
        return unverified(
            name,
            f"{label}: not submitted yet; this stack has never submitted {config.name}",
            "nothing to do: its first round through this stack fills this",
        )
    if record is None:
        return failed(name, f"{label}: no record for {config.name}", fill)
    if record.status != SUBMITTED:
        return failed(
            name,
            f"{label}: {config.name} {record.status}: {record.error or 'no reason recorded'}",
            f"`numerai-bot logs --round {latest.number} --model {config.name}`; then {fill}",
        )
    return passed(
        name, f"{label}: submitted ({record.submission_id or 'id not recorded'}, {record.source})"
    )
