"""Log records without terminal colour codes, so that OUTPUT_DIR/log.txt is plain text."""
import logging
import re

__all__ = ["StripAnsiCodes", "plain_text_logs"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class StripAnsiCodes(logging.Filter):
    """A logger filter removing ANSI escape sequences from each record's message.

    detectron2's ``default_setup`` logs the config file highlighted by pygments for a terminal; the codes went into
    log.txt as well. A logger-level filter runs before every handler, so the file (and the console) get plain text;
    the console's coloured level names come from its formatter and stay.
    """

    def filter(self, record):
        message = record.getMessage()
        if "\x1b" in message:
            record.msg, record.args = _ANSI.sub("", message), ()
        return True


def plain_text_logs(logger):
    """Add one :class:`StripAnsiCodes` to ``logger`` (idempotent); returns the logger."""
    if not any(isinstance(f, StripAnsiCodes) for f in logger.filters):
        logger.addFilter(StripAnsiCodes())
    return logger
