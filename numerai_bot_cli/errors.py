"""The CLI's one error type: what went wrong and what to do next, never a traceback."""

from __future__ import annotations


class CliError(Exception):
    """A failure the operator can act on; ``hint`` says what to do next."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message}\n  next: {self.hint}" if self.hint else self.message
