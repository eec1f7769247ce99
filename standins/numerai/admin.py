"""Admin endpoints under ``/_standin/``: the Python knobs over HTTP, as JSON.

For tests that run the stand-in in another process (``python -m standins.numerai``). Every
endpoint maps to one :class:`~standins.numerai.app.StandinApp` method; see
:data:`ROUTES` for the list and :mod:`standins.numerai.client` for a Python client. Round
endpoints take an optional ``tournament`` (8, 11, 12 or a name; default Classic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from standins.numerai.faults import FAULT_KINDS
from standins.numerai.graphql_endpoint import Answer, json_answer

if TYPE_CHECKING:  # only named here, so that the client imports this module lightly
    from standins.numerai.app import StandinApp

PREFIX = "/_standin"
Handler = Callable[["StandinApp", dict[str, str], dict[str, Any]], Answer]


def _state(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    return json_answer(s.state_summary())


def _calls(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    return json_answer(s.calls())


def _submissions(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    return json_answer(s.submissions(q.get("model"), tournament=q.get("tournament")))


def _deliveries(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    if "wait" in q:
        return json_answer(
            s.wait_for_deliveries(int(q["wait"]), timeout=float(q.get("timeout", "5")))
        )
    return json_answer(s.webhook_deliveries())


def _webhooks(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    return json_answer(s.webhooks())


def _live_ids(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    return json_answer(sorted(s.live_ids(q.get("version"), tournament=q.get("tournament"))))


def _models(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    return json_answer(
        {
            name: {"id": mid, "tournament": s.model_tournament(name)}
            for name, mid in s.models.items()
        }
    )


def _create_model(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    model_id = s.create_model(b["name"], tournament=b.get("tournament"), model_id=b.get("model_id"))
    return json_answer({"ok": True, "id": model_id})


def _round(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    tournament = q.get("tournament")
    return json_answer(
        {
            "round": s.round_number(tournament),
            "round_open": s.is_round_open(tournament),
        }
    )


def _open(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    window = b.get("window_seconds")
    number = s.open_round(
        b.get("number"),
        window=None if window is None else dt.timedelta(seconds=float(window)),
        trigger_webhooks=bool(b.get("trigger_webhooks", True)),
        tournament=b.get("tournament"),
    )
    return json_answer({"ok": True, "round": number})


def _close(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    s.close_round(tournament=b.get("tournament"))
    return json_answer({"ok": True})


def _round_times(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    s.set_round_times(
        open_time=b.get("open_time"),
        close_staking_time=b.get("close_staking_time"),
        close_time=b.get("close_time"),
        resolve_time=b.get("resolve_time"),
        tournament=b.get("tournament"),
    )
    return json_answer({"ok": True})


def _resolve(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
    s.resolve_round(int(b["number"]), tournament=b.get("tournament"))
    return json_answer({"ok": True})


def _fault(kind: str) -> Handler:
    def handler(s: StandinApp, q: dict[str, str], b: dict[str, Any]) -> Answer:
        s.apply_fault(kind, b)
        return json_answer({"ok": True})

    return handler


ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/state"): _state,
    ("GET", "/calls"): _calls,
    ("GET", "/submissions"): _submissions,
    ("GET", "/deliveries"): _deliveries,
    ("GET", "/webhooks"): _webhooks,
    ("GET", "/live-ids"): _live_ids,
    ("GET", "/models"): _models,
    ("POST", "/models"): _create_model,
    ("GET", "/round"): _round,
    ("POST", "/round/open"): _open,
    ("POST", "/round/close"): _close,
    ("POST", "/round"): _round_times,
    ("POST", "/round/resolve"): _resolve,
    **{("POST", f"/{kind}"): _fault(kind) for kind in FAULT_KINDS},
}


def handle(
    standin: StandinApp, method: str, path: str, query: dict[str, str], body: dict[str, Any]
) -> Answer:
    """Route one admin request; bad input is a 400 with ``{"error": ...}``."""
    sub = path[len(PREFIX) :] or "/"
    if method == "GET" and sub.startswith("/submissions/") and sub.endswith("/csv"):
        submission_id = sub[len("/submissions/") : -len("/csv")]
        content = standin.submission_csv(submission_id)
        if content is None:
            return json_answer({"error": f"no submission {submission_id}"}, 404)
        return Answer(200, content, content_type="text/csv")
    handler = ROUTES.get((method, sub))
    if handler is None:
        return json_answer({"error": f"no admin endpoint {method} {path}"}, 404)
    try:
        return handler(standin, query, body)
    except (KeyError, TypeError, ValueError) as err:
        return json_answer({"error": f"{type(err).__name__}: {err}"}, 400)
