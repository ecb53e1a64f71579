"""The subcommands of the `cfai` command, one module each; `cfai.cli` parses the arguments and runs them.

    models     the catalog as a table          ask      one question, reasoning apart from the answer
    demo       a tour of both adapters          emulator serve the local Workers AI emulator

`target` decides where `ask` and `demo` send requests (Cloudflare with credentials, else the emulator) and
`spinner` shows that a request is under way. Each module imports what it needs when its command runs, so that
`cfai --version` loads none of it. A `CommandError` is printed as one line and ends the command with its status.
"""

from __future__ import annotations


class CommandError(Exception):
    """A failure to report as one line, without a traceback; `status` is the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def emulator_extra_missing(error: ImportError) -> CommandError:
    """What to say when the emulator cannot start because the `emulator` extra is not installed."""
    return CommandError(f"the emulator needs its extra ({error.name} is missing): pip install 'cfai[emulator]'")
