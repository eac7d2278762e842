"""The `inward` command line: thin click commands over the library.

    inward tasks list | show TASK          inward properties list        inward prompts show TASK [-p PROP]
    inward data check DIR                  inward models list | install NAME | info NAME
    inward object -m MODEL -t TASKS        inward meta -m MODEL -t TASKS -p PROPS     inward score ...
    inward demo
"""

from __future__ import annotations

import sys

import click

from inward.cli._app import cli
from inward.errors import UserError

# Importing the command modules registers their commands on `cli`.
from inward.cli import catalog as _catalog  # noqa: E402,F401
from inward.cli import models_cmd as _models  # noqa: E402,F401
from inward.cli import runs_cmd as _runs  # noqa: E402,F401
from inward.cli import training_cmd as _training  # noqa: E402,F401
from inward.cli import experiments_cmd as _experiments  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and exit status 2."""
    try:
        cli.main(args=argv, prog_name="inward", standalone_mode=False)
    except UserError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)


__all__ = ["cli", "main"]
