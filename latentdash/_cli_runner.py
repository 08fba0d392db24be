"""The one runner behind every command line (`latentdash ...` and `python app.py`).

- logging: WARNING and above on stderr as `LEVEL logger: message` (`-v`: INFO too); the status
  lines of the STATUS logger (e.g. "latentdash: preparing fashion-vae-16 on fashion-mnist-test
  ...") always go to stderr, plainly, next to the progress bars;
- a LatentdashError (anything the user can fix) prints one line `error: <message>`: exit status 2;
- Ctrl-C prints one line `interrupted`: exit status 130 (128 + SIGINT), for every command alike:
  for `serve` it is the normal way to stop, for the others it means the work was cut short (files
  are written atomically, so what was being written is not there; see fileio.atomic_write).
"""

from __future__ import annotations

import argparse
import logging
import sys

from .errors import LatentdashError

STATUS_LOGGER = "latentdash.status"
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record (not at set-up time)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    status = logging.getLogger(STATUS_LOGGER)
    status.setLevel(logging.INFO)
    if not any(isinstance(h, _StderrHandler) for h in status.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("latentdash: %(message)s"))
        status.addHandler(handler)
    status.propagate = False


def run_cli(parser: argparse.ArgumentParser, argv=None) -> int:
    """Parse argv, set up logging and run the chosen command (`func` default of the parser or
    sub-parser, taking the parsed namespace); returns the exit status."""
    a = parser.parse_args(argv)
    setup_logging(getattr(a, "verbose", False))
    try:
        return int(a.func(a) or 0)
    except LatentdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
