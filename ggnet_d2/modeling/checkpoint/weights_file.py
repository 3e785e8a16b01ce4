"""Reading a weights file with an error that says what the file is, when it is not a usable checkpoint.

torch's own failures name neither the file nor the problem (``UnpicklingError: Memo value not found`` for a text
file, ``PytorchStreamReader failed finding central directory`` for a cut download) and advise ``weights_only=False``,
which would run arbitrary code from an untrusted file; :func:`load_weights_file` sniffs the file first and translates
what torch raises.
"""
import pickle
import re
import zipfile

import torch

__all__ = ["WeightsFileError", "check_weights_file", "load_weights_file", "translate_load_error"]

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip archive) format, torch >= 1.6
_PICKLE_PROTOCOL = b"\x80"  # torch's legacy format and .pkl files start with a pickle protocol 2+ opcode
# What torch.load / pickle raise on a damaged file (RuntimeError: zip reader; EOFError / UnpicklingError: pickle)
LOAD_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile, UnicodeDecodeError,
               AttributeError, ImportError, IndexError, KeyError, TypeError)


class WeightsFileError(ValueError):
    """A weights file (MODEL.WEIGHTS, a converter input) that is not a usable checkpoint: ``path`` and ``what``."""

    def __init__(self, path, what):
        super().__init__(f"{path}: {what}")
        self.path, self.what = path, what


def _describe_head(head):
    text = head.split(b"\n", 1)[0][:60]
    try:
        line = text.decode("utf-8")
    except UnicodeDecodeError:
        return f"its first bytes are {head[:16]!r}"
    return f"it looks like text ({line!r}...)" if line.isprintable() else f"its first bytes are {head[:16]!r}"


def check_weights_file(path):
    """Raise :class:`WeightsFileError` when ``path`` cannot be a torch checkpoint: missing, empty, neither a zip
    archive nor a pickle, or a zip archive without its end (a cut download). Reads the first bytes and, for zip
    archives, the central directory at the end."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as e:
        raise WeightsFileError(path, f"cannot be read ({e.strerror or e})") from None
    if not head:
        raise WeightsFileError(path, "the file is empty")
    if head.startswith(_ZIP_MAGIC):
        if not zipfile.is_zipfile(path):
            raise WeightsFileError(path, "truncated: a zip archive (torch.save's format) without its central "
                                         "directory, i.e. its end is missing (an interrupted download or copy?)")
        return
    if not head.startswith(_PICKLE_PROTOCOL):
        raise WeightsFileError(path, f"not a PyTorch checkpoint (neither a torch.save zip archive nor a pickle): "
                                     f"{_describe_head(head)}")


def translate_load_error(path, error):
    """A :class:`WeightsFileError` for an exception torch.load / pickle raised on ``path`` (torch's advice to load
    with ``weights_only=False`` left out)."""
    text = str(error)
    unsupported = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if unsupported:
        return WeightsFileError(path, f"holds Python objects besides tensors ({unsupported.group(1)}), which are not "
                                      "loaded from files that might run code; if you trust the file, convert it "
                                      "once with tools/convert_weights.py and use its output")
    if isinstance(error, EOFError) or re.search(r"truncated|Ran out of input|unexpected EOF", text):
        return WeightsFileError(path, f"truncated: the data ends early ({type(error).__name__})")
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = re.sub(r"\s*(Please file an issue|In PyTorch 2\.6|\(1\) ).*", "", first)
    return WeightsFileError(path, f"damaged or not a PyTorch checkpoint ({type(error).__name__}: {first[:200]})")


def load_weights_file(path, weights_only=True):
    """``torch.load(path, map_location="cpu")`` after :func:`check_weights_file`, torch's errors translated.

    Args:
        path (str): the file.
        weights_only (bool): torch's safe loader (tensors and plain containers only); False only for files the user
            chose to convert (tools/convert_weights.py).

    Raises:
        WeightsFileError: naming ``path`` and what was found.
    """
    check_weights_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except LOAD_ERRORS as e:
        raise translate_load_error(path, e) from None
