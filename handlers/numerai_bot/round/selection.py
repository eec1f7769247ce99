"""Which models a run works on: the ones the request names (all when it names none), each
checked against the Numerai account before anything is predicted."""

from __future__ import annotations

from numerai_bot.errors import ConfigError
from numerai_bot.events import WorkerRequest
from numerai_bot.models_config import BrokenEntry, ModelConfig
from numerai_bot.ports import AccountModel


def select(
    configs: list[ModelConfig], broken: list[BrokenEntry], request: WorkerRequest
) -> tuple[list[ModelConfig], list[BrokenEntry]]:
    """The requested models (all when None); unknown names are broken entries of their own."""
    if request.models is None:
        return configs, broken
    by_name = {c.name: c for c in configs}
    broken_by_name = {b.name: b for b in broken}
    unknown = [m for m in request.models if m not in by_name and m not in broken_by_name]
    if unknown and len(unknown) == len(request.models):
        raise ConfigError(
            f"model(s) {', '.join(unknown)} are not in models.json; configured: "
            f"{', '.join(sorted(by_name)) or 'none'}"
        )
    chosen_broken = [broken_by_name[m] for m in request.models if m in broken_by_name]
    chosen_broken += [
        BrokenEntry(m, f"model {m!r} is not in models.json; publish it first") for m in unknown
    ]
    return [by_name[m] for m in request.models if m in by_name], chosen_broken


def account_model(config: ModelConfig, account: dict[str, AccountModel]) -> AccountModel | str:
    """The account's model for ``config``, or why it cannot be submitted."""
    name, tournament = config.name, config.tournament
    found = account.get(name)
    if found is None:
        return (
            f"model {name!r} is not in this Numerai account; its models are: "
            f"{', '.join(sorted(account)) or 'none'}"
        )
    if found.tournament != tournament.id:
        return (
            f"model {name!r} is a tournament-{found.tournament} model in your account, "
            f"but models.json says {tournament.name} ({tournament.id}): fix its "
            "'tournament' entry"
        )
    return found
