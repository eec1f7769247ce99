"""``NumeraiStandin``: a local Numerai tournament API for tests, in-process or as a process.

    with NumeraiStandin(tmp_path, live_rows=200, n_features=60) as standin:
        numerapi.base_api.API_TOURNAMENT_URL = standin.url
        napi = numerapi.NumerAPI(standin.public_id, standin.secret_key)
        napi.get_current_round()

The object owns the data folder, the tournament state (:class:`~standins.numerai.app.StandinApp`)
and an HTTP server on a daemon thread. Its knob methods (``fail_next``, ``close_round`` ...)
are also reachable over HTTP under ``/_standin/`` for a stand-in running in another process.
"""

from __future__ import annotations

import threading

from standins.numerai.app import StandinApp
from standins.numerai.http_server import StandinHTTPServer


class NumeraiStandin(StandinApp):
    """The stand-in, served over HTTP on a daemon thread between :meth:`start` and :meth:`stop`."""

    _server: StandinHTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> NumeraiStandin:
        """Generate missing data, then serve on a daemon thread. Returns ``self``."""
        if self._server is not None:
            return self
        self.data.ensure(self.state.current_number)
        self._server = StandinHTTPServer(self._address, self)
        host, port = self._server.server_address[:2]
        self.served_at = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns within ~50 ms
            name="numerai-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (running webhook deliveries get a moment)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self.sender.join(1.0)
        self._server = None
        self._thread = None
        self.served_at = None

    def __enter__(self) -> NumeraiStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
