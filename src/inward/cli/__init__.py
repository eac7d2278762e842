"""The `inward` command line: thin click commands over the library.

inward tasks list | show TASK          inward properties list        inward prompts show TASK [-p PROP]
inward data check DIR                  inward models list | install NAME | info NAME
inward object -m MODEL -t TASKS        inward hypothetical -m MODEL -t TASKS -p PROPS     inward score ...
inward dataset build self|cross|shift  inward train -m BASE --data FILE --out NAME
inward run EXPERIMENT.yaml             inward report RUN                          inward demo
"""

from __future__ import annotations

import sys

import click

# Importing the command modules registers their commands on `cli`.
from inward.cli import (
    catalog,
    experiments_cmd,
    interop_cmd,
    models_cmd,
    runs_cmd,
    store_cmd,
    training_cmd,
)
from inward.cli._app import cli
from inward.errors import UserError

_COMMAND_MODULES = (catalog, experiments_cmd, interop_cmd, models_cmd, runs_cmd, store_cmd, training_cmd)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and exit status 2."""
    _quiet_libraries()
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


def _quiet_libraries() -> None:
    """Our own progress bars say what is happening; the libraries' load bars and deprecation notes are noise."""
    import os
    import warnings

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers(\.|$)")
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


__all__ = ["cli", "main"]
