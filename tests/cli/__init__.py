"""Tests of the numerai-bot operator CLI against the local stand-ins."""
