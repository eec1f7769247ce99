"""``StandinAdmin``: the admin knobs of a stand-in running in another process, over HTTP.

    admin = StandinAdmin("http://127.0.0.1:8765")
    admin.fail_next(2, operation="createSubmission")
    admin.close_round()
    signals_model = admin.create_model("my_signals", tournament=11)
    admin.open_round(tournament=11)   # Signals' next round, its models' webhooks fire

Method names and arguments mirror :class:`~standins.numerai.app.StandinApp`; the fault knobs
are the same methods (:class:`~standins.numerai.faults.FaultControls`). Uses only the standard
library so any test process can import it.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from standins.numerai.admin import PREFIX
from standins.numerai.faults import FaultControls

Tournament = int | str | None  # 8, 11, 12 or "classic", "signals", "crypto"; None: Classic


class StandinAdminError(RuntimeError):
    """The admin endpoint refused a request (bad arguments or unknown endpoint)."""


class StandinAdmin(FaultControls):
    """A thin JSON client for ``/_standin/...``."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None, **query: Any) -> Any:
        address = f"{self.url}{PREFIX}{path}"
        if query:
            address += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            address, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            raise StandinAdminError(err.read().decode("utf-8", "replace")) from err
        return json.loads(raw) if kind.startswith("application/json") else raw

    # -- knobs --------------------------------------------------------------------------------

    def apply_fault(self, kind: str, arguments: Mapping[str, Any]) -> None:
        """``POST /_standin/<kind>`` with the arguments."""
        self._call("POST", f"/{kind}", dict(arguments))

    def open_round(
        self,
        number: int | None = None,
        *,
        window: dt.timedelta | None = None,
        trigger_webhooks: bool = True,
        tournament: Tournament = None,
    ) -> int:
        """See ``StandinApp.open_round``; returns the opened round's number."""
        body = {
            "number": number,
            "window_seconds": None if window is None else window.total_seconds(),
            "trigger_webhooks": trigger_webhooks,
            "tournament": tournament,
        }
        return int(self._call("POST", "/round/open", body)["round"])

    def close_round(self, *, tournament: Tournament = None) -> None:
        """See ``StandinApp.close_round``."""
        self._call("POST", "/round/close", {"tournament": tournament})

    def set_round_times(self, *, tournament: Tournament = None, **times: str | None) -> None:
        """See ``StandinApp.set_round_times`` (ISO 8601 strings)."""
        self._call("POST", "/round", {**times, "tournament": tournament})

    def resolve_round(self, number: int, *, tournament: Tournament = None) -> None:
        """See ``StandinApp.resolve_round``."""
        self._call("POST", "/round/resolve", {"number": number, "tournament": tournament})

    def create_model(
        self, name: str, *, tournament: Tournament = None, model_id: str | None = None
    ) -> str:
        """See ``StandinApp.create_model``; returns the new model's id."""
        body = {"name": name, "tournament": tournament, "model_id": model_id}
        return str(self._call("POST", "/models", body)["id"])

    # -- reads --------------------------------------------------------------------------------

    def state_summary(self) -> dict[str, Any]:
        """See ``StandinApp.state_summary``."""
        return self._call("GET", "/state")

    def submissions(
        self, model_name: str | None = None, *, tournament: Tournament = None
    ) -> list[dict[str, Any]]:
        """See ``StandinApp.submissions``."""
        return self._call("GET", "/submissions", model=model_name, tournament=tournament)

    def models(self) -> dict[str, dict[str, Any]]:
        """The account's models: name -> ``{"id", "tournament"}``."""
        return self._call("GET", "/models")

    def round_number(self, tournament: Tournament = None) -> int:
        """See ``StandinApp.round_number``."""
        return int(self._call("GET", "/round", tournament=tournament)["round"])

    def is_round_open(self, tournament: Tournament = None) -> bool:
        """See ``StandinApp.is_round_open``."""
        return bool(self._call("GET", "/round", tournament=tournament)["round_open"])

    def submission_csv(self, submission_id: str) -> bytes:
        """See ``StandinApp.submission_csv``."""
        return self._call("GET", f"/submissions/{submission_id}/csv")

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """See ``StandinApp.webhook_deliveries``."""
        return self._call("GET", "/deliveries")

    def wait_for_deliveries(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """See ``StandinApp.wait_for_deliveries``."""
        return self._call("GET", "/deliveries", wait=count, timeout=timeout)

    def webhooks(self) -> dict[str, str]:
        """See ``StandinApp.webhooks``."""
        return self._call("GET", "/webhooks")

    def calls(self) -> dict[str, int]:
        """See ``StandinApp.calls``."""
        return self._call("GET", "/calls")

    def live_ids(
        self, version: str | None = None, *, tournament: Tournament = None
    ) -> frozenset[str]:
        """See ``StandinApp.live_ids``."""
        return frozenset(self._call("GET", "/live-ids", version=version, tournament=tournament))
