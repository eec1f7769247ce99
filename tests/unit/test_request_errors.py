"""Every requests/urllib3 error the Numerai client meets becomes a typed error that names
the failure's class and never the URL (a presigned URL's query is a credential)."""

from __future__ import annotations

import pytest
import requests

from numerai_bot.adapters.numerai_client import NumeraiClient
from numerai_bot.errors import NumeraiError
from numerai_bot.retry import RetryPolicy

SIGNED = "X-Amz-Signature=5f1e0c9d8b7a&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE"


class RaisingSession(requests.Session):
    """A session whose every request raises ``error`` quoting a presigned URL."""

    def __init__(self, error: type[requests.RequestException] | type[ValueError]) -> None:
        super().__init__()
        self.error = error

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        raise self.error(f"Invalid URL 'https://bucket.s3.amazonaws.com/live?{SIGNED}'")


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.TooManyRedirects,
        requests.exceptions.ChunkedEncodingError,
        ValueError,  # urllib3's LocationParseError
    ],
)
def test_a_request_error_in_an_api_call_is_typed_and_carries_no_url(error) -> None:
    client = NumeraiClient("PUBLIC", "SECRET", retry=RetryPolicy(attempts=1))
    client._session = RaisingSession(error)
    with pytest.raises(NumeraiError) as raised:
        client.current_round()
    assert error.__name__ in str(raised.value)
    assert "X-Amz" not in str(raised.value) and "5f1e0c9d8b7a" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
