"""The process's command runner (built once from settings, kept on `app.state`) and paths."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request

from services.settings import ROOT, Settings
from services.system.commands import CommandRunner


def command_runner(request: Request) -> CommandRunner:
    runner: CommandRunner | None = getattr(request.app.state, "commands", None)
    if runner is None:
        settings: Settings = request.app.state.settings
        runner = CommandRunner(
            allowed=settings.system_command_allowlist,
            timeout=settings.system_command_timeout,
            max_output=settings.system_command_max_output,
            concurrency=settings.system_command_concurrency,
            cwd=ROOT,
        )
        request.app.state.commands = runner
    return runner


def repo_path(raw: str) -> Path:
    """A configured path; relative ones are taken from the repository root, as legacy does."""
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path
