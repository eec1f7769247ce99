"""Doctor checks on Numerai's side: (a) the stored keys and their scopes, (b) every model of
models.json in the account, in its tournament, without a Model Upload.

Numerai documents no query that says what a key may do except the scope list numerapi's
``get_account`` reads (``account.apiTokens``); when that does not list the key, each scope is
inferred from a call that needs it, and one that cannot be inferred is reported as such.
"""

from __future__ import annotations

from collections.abc import Iterator

from numerai_bot.errors import NumeraiAuthError, NumeraiError
from numerai_bot.models_config import ModelConfig
from numerai_bot.ports import AccountModel
from numerai_bot.tournaments import BY_ID, CLASSIC, Tournament
from numerai_bot_cli.commands.webhooks import UPLOADS_HINT
from numerai_bot_cli.doctor.core import Blocked, Finding, check, failed, passed, unverified
from numerai_bot_cli.doctor.env import DoctorEnv
from numerai_bot_cli.errors import CliError
from numerai_bot_cli.numerai import KEYS_HINT

# numerapi 3.1.1's get_account reads these fields; Numerai's scope names as it lists them.
TOKENS_QUERY = "query { account { apiTokens { name public_id scopes } } }"
UPLOAD_SCOPE = "upload_submission"
MODEL_UPLOAD_QUERY = """
query($modelId: String) { model(modelId: $modelId) { computePickleUpload { filename } } }
"""
PROBE_FILENAME = "doctor-probe.csv"


@check(
    "a",
    "keys",
    "the Numerai keys in the stack's secret work and may do what the bot does",
    KEYS_HINT,
)
def keys_check(env: DoctorEnv) -> Iterator[Finding]:
    """Read the account (read_user_info), a model's submissions (read_submission_info), and
    the upload scope from Numerai's scope list or an upload URL request (nothing uploaded)."""
    try:
        env.keys()
        account = env.account_unchecked()
    except CliError as error:
        yield failed("keys", error.message, error.hint or KEYS_HINT)
        return
    except NumeraiAuthError as error:
        yield failed("keys/account", f"Numerai refused the stored keys: {error}", KEYS_HINT)
        return
    yield passed("keys/account", f"the keys read the account: {len(account)} models")
    probe = _probe_model(env, account)
    if probe is None:
        yield unverified("keys/submissions", "the account has no model to read submissions of")
        yield unverified("keys/upload", "the account has no model to ask an upload URL for")
        return
    name, model = probe
    yield _submissions_finding(env, name, model)
    scopes = _listed_scopes(env)
    if scopes is not None:
        if UPLOAD_SCOPE in scopes:
            yield passed("keys/upload", f"Numerai lists this key's scopes: {', '.join(scopes)}")
        else:
            listed = ", ".join(scopes) or "none"
            yield failed(
                "keys/upload", f"this key lacks {UPLOAD_SCOPE} (its scopes: {listed})", KEYS_HINT
            )
        return
    yield _upload_probe(env, name, model)


def _probe_model(
    env: DoctorEnv, account: dict[str, AccountModel]
) -> tuple[str, AccountModel] | None:
    """A model to try the calls on: one of models.json's when possible."""
    try:
        configured = [c.name for c in env.configs()]
    except Blocked:
        configured = []
    for name in [*configured, *sorted(account)]:
        if name in account:
            return name, account[name]
    return None


def _submissions_finding(env: DoctorEnv, name: str, model: AccountModel) -> Finding:
    """``submissions(modelId)``: the worker asks it before every upload."""
    try:
        env.client().submissions(model.id)
    except NumeraiAuthError as error:
        return failed(
            "keys/submissions", f"Numerai refused to list {name}'s submissions: {error}", KEYS_HINT
        )
    return passed("keys/submissions", f"the keys read {name}'s submissions")


def _listed_scopes(env: DoctorEnv) -> list[str] | None:
    """This key's scopes as ``account.apiTokens`` lists them, or None when it does not."""
    public_id = env.keys()[0]
    try:
        data = env.client().graphql(TOKENS_QUERY, authorization=True)["data"]
    except NumeraiError:
        return None
    for token in (data.get("account") or {}).get("apiTokens") or []:
        if isinstance(token, dict) and token.get("public_id") == public_id:
            return [str(s) for s in token.get("scopes") or []]
    return None


def _upload_probe(env: DoctorEnv, name: str, model: AccountModel) -> Finding:
    """Ask for an upload URL (step 1 of 3 of an upload; nothing is uploaded or created)."""
    tournament = BY_ID.get(model.tournament, CLASSIC)
    calls = tournament.upload
    args = {"filename": PROBE_FILENAME, "tournament": tournament.id, "modelId": model.id}
    try:
        data = env.client().graphql(calls.auth_query, args, authorization=True)["data"]
    except NumeraiAuthError as error:
        return failed(
            "keys/upload", f"Numerai refused an upload URL for {name}: {error}", KEYS_HINT
        )
    except NumeraiError as error:
        return unverified(
            "keys/upload",
            f"Numerai does not list this key's scopes, and asking an upload URL failed: {error}",
            "check the key's scopes on https://numer.ai/account (upload submissions)",
        )
    if (data.get(calls.auth_field) or {}).get("url"):
        return passed(
            "keys/upload", f"Numerai handed out an upload URL for {name} (nothing uploaded)"
        )
    return unverified(
        "keys/upload",
        "Numerai does not list this key's scopes and answered the upload URL request without one",
        "check the key's scopes on https://numer.ai/account (upload submissions)",
    )


@check(
    "b",
    "account",
    "every model in models.json is in the account, in its tournament, without a Model Upload",
    "fix models.json (`numerai-bot publish`) or the model on numer.ai",
)
def account_check(env: DoctorEnv) -> Iterator[Finding]:
    """One line per usable models.json entry (broken entries are model-file's)."""
    configs = env.configs()
    account = env.account()
    for config in configs:
        yield _account_finding(env, config, account)


def _account_finding(
    env: DoctorEnv, config: ModelConfig, account: dict[str, AccountModel]
) -> Finding:
    name = f"account/{config.name}"
    model = account.get(config.name)
    if model is None:
        known = ", ".join(sorted(account)) or "none"
        return failed(
            name,
            f"{config.name} is not a model of this account (it has: {known})",
            "create it on numer.ai, or correct or remove its models.json entry",
        )
    if model.tournament != config.tournament.id:
        listed = _tournament_name(model.tournament)
        return failed(
            name,
            f"{config.name} is a {listed} model on Numerai; models.json runs it in "
            f"{config.tournament}",
            f'set "tournament": "{listed}" in its models.json entry (republish a {listed} '
            f"model: `numerai-bot publish {config.name}`)",
        )
    try:
        payload = env.client().graphql(
            MODEL_UPLOAD_QUERY, {"modelId": model.id}, authorization=True
        )
    except NumeraiAuthError:
        raise
    except NumeraiError as error:
        return unverified(
            name,
            f"in the account ({config.tournament}); Numerai did not say whether it has a Model "
            f"Upload: {error}",
            "check the model's page on numer.ai (Model Uploads)",
        )
    upload = ((payload["data"].get("model") or {}).get("computePickleUpload")) or None
    if upload:
        filename = upload.get("filename") if isinstance(upload, dict) else None
        return failed(
            name,
            f"{config.name} uses Numerai's Model Uploads ({filename or 'a pickle'})",
            UPLOADS_HINT,
        )
    return passed(name, f"in the account ({config.tournament}), no Model Upload")


def _tournament_name(number: int) -> str:
    found: Tournament | None = BY_ID.get(number)
    return found.name if found else f"tournament {number}"
