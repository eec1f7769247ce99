"""`make demo` against another Numerai endpoint: where its webhook listens, the address the
endpoint is given for it, and what a refused key means, each as one actionable line.

An endpoint on another machine cannot call ``http://127.0.0.1:<port>``: it needs a public
URL that reaches this machine (a tunnel, a forwarded port) and, behind it, a fixed address
for the webhook to listen on.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from numerai_bot.errors import ConfigError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_BIND = "127.0.0.1:0"  # any free port on loopback: enough for an endpoint on this machine


@dataclass(frozen=True)
class WebhookAddress:
    """Where the demo's webhook listens, and the URL registered with Numerai (None: the
    listening address itself)."""

    bind: tuple[str, int]
    public_url: str | None = None


def webhook_address(api_url: str | None, public_url: str | None, bind: str) -> WebhookAddress:
    """The webhook's address for playing against ``api_url`` (None: the demo's stand-in).

    Raises :class:`ConfigError` with the one line a user needs when the endpoint could not
    reach the webhook, or the address cannot work.
    """
    host, _, port_text = bind.rpartition(":")
    if not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"--webhook-bind {bind!r} must be HOST:PORT, e.g. 0.0.0.0:8080")
    listen = (host.strip("[]"), int(port_text))
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--webhook-url {public_url!r} must be an http(s) URL")
        if listen[1] == 0:
            raise ConfigError(
                "--webhook-url needs a fixed port to forward to: add --webhook-bind HOST:PORT "
                "(the address the tunnel or forwarded port delivers to)"
            )
        return WebhookAddress(listen, public_url)
    endpoint_host = urlsplit(api_url).hostname if api_url else None
    if endpoint_host is not None and endpoint_host not in LOOPBACK:
        raise ConfigError(
            f"{api_url} cannot call a webhook on this machine's 127.0.0.1: give the public URL "
            "that reaches it, --webhook-url https://… (or DEMO_WEBHOOK_URL), and where to "
            "listen, --webhook-bind HOST:PORT (or DEMO_WEBHOOK_BIND)"
        )
    return WebhookAddress(listen)


def keys_refused(api_url: str, reason: str) -> str:
    """The one line for an endpoint that refused the keys: which keys, where to set them."""
    return (
        f"{api_url} refused the API key in NUMERAI_PUBLIC_ID / NUMERAI_SECRET_KEY ({reason}): "
        "set both to a key of that account (numer.ai: Account, API keys; scopes upload "
        "submissions, read submission info, read user info) and run the demo again"
    )
