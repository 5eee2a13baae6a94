"""The argument parser shared by every command, with the habits of git and systemctl.

- Usage errors raise :class:`UsageError` (one line, exit 2) instead of exiting, without repeating
  the ``callrec: error:`` prefix that the caller prints.
- A mistyped command or subcommand gets a "did you mean" from the names that exist.
- ``--config`` is accepted before and after the command and its subcommand; so is ``--json``
  wherever a subcommand has it. Both are declared with ``default=SUPPRESS`` on every parser, so a
  later parser never resets what an earlier one parsed.
- Every command and subcommand has a description in ``--help`` (its one-line help when none is
  given), and abbreviated long options are not expanded (``--conf`` is not ``--config``).
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Iterator

from callrec.errors import UsageError

__all__ = ["Parser", "finish_parser", "EXAMPLES"]

EXAMPLES = """\
examples:
  callrec calls list                       today's calls so far
  callrec calls list --from -7d --json     the last seven days, as JSON
  callrec health report                    yesterday's report (the last complete day)
  callrec health check                     monitoring plugin: exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
  callrec case open --reason TEXT --from yesterday --to today
  callrec verify                           integrity of the vault and its access log

Every command takes --config FILE (default: $CALLREC_CONFIG, else /etc/callrec/callrec.toml).
Times without an offset are local time in the configured zone.
"""

_RELATIVE_OR_NUMBER = re.compile(r"^-\d+[dhm]?$|^-\d*\.\d+$")
_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)'")


class Parser(argparse.ArgumentParser):
    """argparse that raises a one-line :class:`UsageError` instead of exiting."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        if kwargs.get("description"):  # module docstrings are reST: ``x`` reads 'x' in a terminal
            kwargs["description"] = kwargs["description"].replace("``", "'")
        super().__init__(*args, **kwargs)
        # Relative times such as ``--from -7d`` are values, not options (argparse treats only
        # negative numbers that way by default).
        self._negative_number_matcher = _RELATIVE_OR_NUMBER

    def error(self, message: str) -> None:  # type: ignore[override]
        where = self.prog.removeprefix("callrec").strip()
        hint = _suggestion(self, message)
        help_cmd = f"callrec {where} --help" if where else "callrec --help"
        raise UsageError(f"{where + ': ' if where else ''}{message}{hint} (see '{help_cmd}')")


def _suggestion(parser: argparse.ArgumentParser, message: str) -> str:
    typed = _INVALID_CHOICE.search(message)
    if not typed:
        return ""
    offered = message.partition("(choose from")[2]  # an option's choices, e.g. --role's role names
    names = [name for action in _subparser_actions(parser) for name in action.choices] + re.findall(r"'([^']*)'", offered)
    close = difflib.get_close_matches(typed.group(1), names, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _subparser_actions(parser: argparse.ArgumentParser) -> Iterator[argparse._SubParsersAction]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield action


def _has_option(parser: argparse.ArgumentParser, option: str) -> bool:
    return option in parser._option_string_actions


def _finish(parser: argparse.ArgumentParser) -> bool:
    """Children first (descriptions from their one-line help), then this parser's ``--config`` and,
    where it or a command below has one, ``--json``. Returns whether ``--json`` is here."""
    below = False
    for action in _subparser_actions(parser):
        for choice in action._choices_actions:
            child = action.choices[choice.dest]
            if child.description is None and choice.help:
                child.description = choice.help
        for child in dict.fromkeys(action.choices.values()):  # an alias names the same parser again
            below = _finish(child) or below
    if not _has_option(parser, "--config"):
        parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                            help="config file (default: $CALLREC_CONFIG, else /etc/callrec/callrec.toml)")
    if _has_option(parser, "--json"):
        parser._option_string_actions["--json"].default = argparse.SUPPRESS
        return True
    if below:
        parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                            help="machine-readable output (see docs/cli.md for the schema)")
    return below


def finish_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Give every parser a description, ``--config`` and (where below it a command has one) ``--json``."""
    _finish(parser)
    return parser
