"""`make demo` against an endpoint on another machine: it is given a public URL for the
webhook (and where to listen), or told in one line that it needs one."""

from __future__ import annotations

import re

import pytest

from numerai_bot.errors import ConfigError
from scripts.demo import main as demo
from scripts.demo_endpoint import keys_refused, webhook_address


def test_the_stand_in_and_an_endpoint_on_this_machine_need_no_public_url() -> None:
    assert webhook_address(None, None, "127.0.0.1:0").bind == ("127.0.0.1", 0)
    local = webhook_address("http://127.0.0.1:8000/graphql", None, "127.0.0.1:0")
    assert local.public_url is None


def test_an_endpoint_elsewhere_without_a_public_url_is_told_how_to_give_one() -> None:
    with pytest.raises(ConfigError) as refused:
        webhook_address("https://api-tournament.numer.ai", None, "127.0.0.1:0")
    line = str(refused.value)
    assert "\n" not in line and "--webhook-url" in line and "--webhook-bind" in line


def test_a_public_url_is_registered_and_the_webhook_listens_where_asked() -> None:
    address = webhook_address(
        "https://api-tournament.numer.ai", "https://bot.example.net", "0.0.0.0:8080"
    )
    assert address.bind == ("0.0.0.0", 8080) and address.public_url == "https://bot.example.net"


@pytest.mark.parametrize(
    ("public_url", "bind", "words"),
    [
        ("https://bot.example.net", "127.0.0.1:0", "fixed port"),
        ("bot.example.net", "0.0.0.0:8080", "http(s) URL"),
        (None, "8080", "HOST:PORT"),
    ],
)
def test_an_address_that_cannot_work_is_one_line(public_url, bind, words) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        webhook_address("https://api-tournament.numer.ai", public_url, bind)


def test_the_demo_stops_before_anything_starts_without_a_reachable_webhook(
    monkeypatch, capsys, tmp_path
) -> None:
    monkeypatch.setenv("NUMERAI_API_URL", "https://api-tournament.numer.ai")
    monkeypatch.setenv("NUMERAI_PUBLIC_ID", "PUBLIC")
    monkeypatch.setenv("NUMERAI_SECRET_KEY", "SECRET")
    monkeypatch.delenv("DEMO_WEBHOOK_URL", raising=False)
    assert demo(["--workdir", str(tmp_path / "demo")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: https://api-tournament.numer.ai cannot call a webhook")
    assert not (tmp_path / "demo").exists()


def test_refused_keys_say_which_keys_and_where_to_set_them() -> None:
    line = keys_refused("https://api.example", "You must be authenticated")
    assert "NUMERAI_PUBLIC_ID" in line and "NUMERAI_SECRET_KEY" in line
    assert "API keys" in line and "You must be authenticated" in line and "\n" not in line
