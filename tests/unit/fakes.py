"""In-memory stand-ins for unit tests of the core (integration tests use the HTTP ones)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from numerai_bot.errors import RoundClosed, UploadError
from numerai_bot.numerai_client import RoundInfo


class FakeNumerai:
    """Answers like Numerai from memory; records uploads."""

    def __init__(self, data_dir: Path, models: dict[str, str], round_number: int = 500) -> None:
        self.data_dir = data_dir
        self.models = dict(models)
        self.round_number: int | None = round_number
        self.uploads: list[dict] = []
        self.downloads = 0
        self.fail_uploads_for: set[str] = set()
        self.close_in = dt.timedelta(hours=1)

    def current_round(self) -> RoundInfo:
        if self.round_number is None:
            raise RoundClosed("Current round not open for submissions")
        now = dt.datetime.now(dt.UTC)
        close = now + self.close_in
        return RoundInfo(self.round_number, now - dt.timedelta(minutes=5), close, close)

    def set_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline

    def model_ids(self) -> dict[str, str]:
        return dict(self.models)

    def download_dataset(self, filename: str, dest: Path, round_number: int | None) -> Path:
        self.downloads += 1
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.data_dir.parent / filename, dest)
        return dest

    def upload_submission(
        self, model_id: str, csv_bytes: bytes, filename: str, trigger_id: str | None
    ) -> str:
        if model_id in self.fail_uploads_for:
            raise UploadError("upload PUT got HTTP 403; nothing was stored")
        self.uploads.append({"model_id": model_id, "body": csv_bytes, "trigger_id": trigger_id})
        return f"sub-{len(self.uploads)}"
