"""GraphQL glue: attach resolvers to the schema, check API keys, shape answers as Numerai does.

Each resolver reads its arguments, checks the ``Authorization`` token where Numerai requires
one, calls :class:`~standins.numerai.service.Tournament` and returns plain dicts. Broken rules
become GraphQL errors with the rule's message; unexpected exceptions become Numerai's
``Internal server error`` (and are logged with their traceback).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, GraphQLSchema, build_schema

from standins.numerai import clock
from standins.numerai.schema import SDL
from standins.numerai.service import ApiError, Tournament
from standins.numerai.state import SubmissionRecord
from standins.numerai.tournaments import CLASSIC_CALLS, SIGNALS_CALLS

log = logging.getLogger(__name__)

# The real API's wording for these was not found in public sources; these say what is wrong.
AUTH_MISSING = "Not authenticated: this action requires an API key (Authorization: Token ...)"
AUTH_INVALID = "Invalid API key: the public id and secret key do not match an API key"
INTERNAL = "Internal server error"


@dataclass(frozen=True)
class RequestContext:
    """What a resolver knows about the HTTP request: the service, the auth outcome, the host."""

    tournament: Tournament
    auth: str  # "ok", "missing" or "invalid"
    base_url: str
    account: dict[str, Any]
    public_id: str


Resolver = Callable[..., Any]


def _ctx(info: GraphQLResolveInfo) -> RequestContext:
    return info.context


def guarded(*, auth: bool) -> Callable[[Resolver], Resolver]:
    """Wrap a resolver: require a valid API key if ``auth``, translate errors."""

    def decorate(func: Resolver) -> Resolver:
        @functools.wraps(func)
        def wrapper(root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            ctx = _ctx(info)
            if auth and ctx.auth != "ok":
                raise GraphQLError(AUTH_MISSING if ctx.auth == "missing" else AUTH_INVALID)
            try:
                return func(ctx, **args)
            except ApiError as err:
                raise GraphQLError(str(err)) from err
            except GraphQLError:
                raise
            except Exception as err:
                log.exception("stand-in resolver %s failed", info.field_name)
                raise GraphQLError(INTERNAL) from err

        return wrapper

    return decorate


# -- shaping ------------------------------------------------------------------------------------


def submission_dict(ctx: RequestContext, record: SubmissionRecord) -> dict[str, Any]:
    """A recorded submission as Numerai's ``Submission`` type (round of its tournament)."""
    state = ctx.tournament.state
    with state.lock:
        rnd = state.book(record.tournament).rounds.get(record.round_number)
    fallback = {"number": record.round_number, "tournament": record.tournament}
    return {
        "id": record.id,
        "filename": record.filename,
        "round": rnd.as_graphql() if rnd else fallback,
        "triggerId": record.trigger_id,
        "insertedAt": clock.iso(record.inserted_at),
        "selected": True,
        "source": record.source,
        "dataDatestamp": record.data_datestamp,
        # Signals: the first day the submission counts (here: when its round closes).
        "firstEffectiveDate": clock.iso(rnd.close_time) if rnd else None,
    }


def model_dict(ctx: RequestContext, name: str, model_id: str) -> dict[str, Any]:
    """One of the account's models as Numerai's ``Model`` type."""
    return {
        "id": model_id,
        "name": name,
        "displayName": name,
        "tournament": ctx.tournament.state.tournament_of(model_id),
        "submissions": [
            submission_dict(ctx, s) for s in ctx.tournament.accepted_submissions(model_id)
        ],
        "v2Stake": {"status": None, "txHash": None},
        "computePickleUpload": model_upload(ctx.tournament.state, model_id),
    }


def set_model_upload(state: Any, model_id: str, filename: str | None) -> None:
    """Knob: give a model a hosted Model Upload (a pickle Numerai runs), or take it away.

    Kept on the state object under ``model_uploads`` (model id -> upload dict).
    """
    with state.lock:
        uploads = state.__dict__.setdefault("model_uploads", {})
        if filename is None:
            uploads.pop(model_id, None)
        else:
            uploads[model_id] = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"pickle:{model_id}:{filename}")),
                "filename": filename,
                "validationStatus": "succeeded",
                "triggerStatus": "succeeded",
                "insertedAt": clock.iso(clock.now()),
            }


def model_upload(state: Any, model_id: str) -> dict[str, Any] | None:
    """The model's hosted Model Upload as ``ComputePickleUpload``, or None."""
    with state.lock:
        return state.__dict__.get("model_uploads", {}).get(model_id)


# -- queries ------------------------------------------------------------------------------------


@guarded(auth=False)
def rounds(
    ctx: RequestContext,
    tournament: int | None = None,
    number: int | None = None,
    target: str | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    found = ctx.tournament.rounds(number, status, limit, tournament)
    return [r.as_graphql() for r in found if target in (None, "target")]


@guarded(auth=False)
def list_datasets(
    ctx: RequestContext, round: int | None = None, tournament: int | None = None
) -> list[str]:
    ctx.tournament.check_round_exists(round, tournament)
    return ctx.tournament.list_files(tournament)


@guarded(auth=False)
def dataset(
    ctx: RequestContext, filename: str, round: int | None = None, tournament: int | None = None
) -> str:
    return f"{ctx.base_url}/files/{ctx.tournament.dataset(filename, round, tournament)}"


@guarded(auth=True)
def account(ctx: RequestContext) -> dict[str, Any]:
    with ctx.tournament.state.lock:
        models = dict(ctx.tournament.state.models)
    return {
        **ctx.account,
        "models": [model_dict(ctx, name, model_id) for name, model_id in models.items()],
        "apiTokens": [
            {
                "name": "standin",
                "public_id": ctx.public_id,
                "scopes": ["upload_submission", "read_submission_info", "read_user_info"],
            }
        ],
    }


@guarded(auth=True)
def model(ctx: RequestContext, modelId: str | None = None) -> dict[str, Any]:
    model_id, name = ctx.tournament.resolve_model(modelId)
    return model_dict(ctx, name, model_id)


@guarded(auth=True)
def upload_auth(
    ctx: RequestContext, filename: str, tournament: int, modelId: str | None = None
) -> dict[str, str]:
    pending = ctx.tournament.upload_auth(filename, tournament, modelId, CLASSIC_CALLS)
    return {"filename": pending.filename, "url": f"{ctx.base_url}/uploads/{pending.token}"}


@guarded(auth=True)
def upload_signals_auth(
    ctx: RequestContext, filename: str, tournament: int | None = None, modelId: str | None = None
) -> dict[str, str]:
    pending = ctx.tournament.upload_auth(filename, tournament, modelId, SIGNALS_CALLS)
    return {"filename": pending.filename, "url": f"{ctx.base_url}/uploads/{pending.token}"}


@guarded(auth=True)
def submissions(ctx: RequestContext, modelId: str | None = None) -> list[dict[str, Any]]:
    if modelId is not None:
        modelId, _ = ctx.tournament.resolve_model(modelId)
    return [submission_dict(ctx, s) for s in ctx.tournament.accepted_submissions(modelId)]


@guarded(auth=True)
def submission_download_auth(ctx: RequestContext, id: str | None = None) -> dict[str, str]:
    record = ctx.tournament.submission(id or "")
    name = record.filename.rsplit("/", 1)[-1]
    return {"filename": name, "url": f"{ctx.base_url}/submission-files/{record.id}"}


@guarded(auth=False)
def submission_scores(ctx: RequestContext, modelId: str, **args: Any) -> list[dict[str, Any]]:
    return ctx.tournament.scores(
        modelId,
        args.get("tournament"),
        display_name=args.get("displayName"),
        version=args.get("version"),
        day=args.get("day"),
        resolved=args.get("resolved"),
        last_n_rounds=args.get("lastNRounds"),
        distinct_on_round=args.get("distinctOnRound"),
    )


@guarded(auth=False)
def round_model_performances(
    ctx: RequestContext, modelId: str, tournament: int | None = None
) -> list[dict[str, Any]]:
    return ctx.tournament.performances(modelId, tournament)


@guarded(auth=True)
def pending_model_payouts(ctx: RequestContext, tournament: int | None = None) -> dict[str, Any]:
    return ctx.tournament.payouts(tournament)


# -- mutations ----------------------------------------------------------------------------------


@guarded(auth=True)
def create_submission(
    ctx: RequestContext,
    filename: str,
    tournament: int,
    modelId: str | None = None,
    triggerId: str | None = None,
    source: str | None = None,
    dataDatestamp: int | None = None,
) -> dict[str, Any]:
    record = ctx.tournament.create_submission(
        filename, tournament, modelId, triggerId, source, dataDatestamp, CLASSIC_CALLS
    )
    return submission_dict(ctx, record)


@guarded(auth=True)
def create_signals_submission(
    ctx: RequestContext,
    filename: str,
    modelId: str | None = None,
    triggerId: str | None = None,
    source: str | None = None,
    dataDatestamp: int | None = None,
) -> dict[str, Any]:
    record = ctx.tournament.create_submission(
        filename, None, modelId, triggerId, source, dataDatestamp, SIGNALS_CALLS
    )
    return submission_dict(ctx, record)


@guarded(auth=True)
def set_submission_webhook(
    ctx: RequestContext, modelId: str | None = None, newSubmissionWebhook: str | None = None
) -> str:
    ctx.tournament.set_webhook(modelId, newSubmissionWebhook)
    return "true"


@guarded(auth=True)
def trigger_model_webhook(ctx: RequestContext, modelId: str) -> str:
    return ctx.tournament.trigger_webhook(modelId)


QUERY_RESOLVERS: dict[str, Resolver] = {
    "rounds": rounds,
    "listDatasets": list_datasets,
    "dataset": dataset,
    "account": account,
    "model": model,
    "submission_upload_auth": upload_auth,
    "submissionUploadAuth": upload_auth,
    "submissionUploadSignalsAuth": upload_signals_auth,
    "submissions": submissions,
    "submissionDownloadAuth": submission_download_auth,
    "submissionScores": submission_scores,
    "v2RoundModelPerformances": round_model_performances,
    "pendingModelPayouts": pending_model_payouts,
}

MUTATION_RESOLVERS: dict[str, Resolver] = {
    "create_submission": create_submission,
    "createSubmission": create_submission,
    "createSignalsSubmission": create_signals_submission,
    "setSubmissionWebhook": set_submission_webhook,
    "triggerModelWebhook": trigger_model_webhook,
}


def build() -> GraphQLSchema:
    """The executable schema: the SDL with every root field bound to its resolver."""
    schema = build_schema(SDL)
    for root_type, table in (
        (schema.query_type, QUERY_RESOLVERS),
        (schema.mutation_type, MUTATION_RESOLVERS),
    ):
        assert root_type is not None
        missing = set(root_type.fields) - set(table)
        if missing:
            raise RuntimeError(f"fields without resolvers: {sorted(missing)}")
        for name, resolver in table.items():
            root_type.fields[name].resolve = resolver
    return schema
