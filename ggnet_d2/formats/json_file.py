"""Every JSON file of the project is parsed here, by msgspec, so a broken file is reported the same way everywhere.

Errors name the file and the position (line, column, byte). JSON has no NaN or Infinity, but Python's ``json.dump``
writes them (``NaN``, ``Infinity``, ``-Infinity``) and msgspec refuses them; a file holding them is decoded with each
such token read as the float it stands for, so the checks of the format (the loaders' per-record checks, the
prediction format's finite-number check) name the record that holds it instead of the parser failing at a byte.
"""
import contextlib
import mmap
import os
import re

import msgspec

__all__ = ["FormatError", "load_json", "decode_json", "mapped_file", "describe_decode_error"]


class FormatError(ValueError):
    """A file that is not in its expected format; the message names the file and where it goes wrong."""


# A JSON string (kept as it is), or a NaN / Infinity token in value position (after '[', ',' or ':', before ',', ']'
# or '}'); matching strings first keeps the same characters inside a string untouched.
_NON_FINITE = re.compile(rb'("(?:[^"\\]|\\.)*")|([\[,:]\s*)(-?Infinity|NaN)(?=\s*[,\]}])')
_SENTINEL = "\x00"  # prefix of a string standing for a non-finite token (JSON text cannot hold a raw NUL)


@contextlib.contextmanager
def mapped_file(path):
    """The file's bytes, memory-mapped (no copy of a file of hundreds of MB); ``b""`` for an empty file.

    Raises:
        FormatError: naming the file when it cannot be opened.
    """
    try:
        f = open(path, "rb")
    except OSError as e:
        raise FormatError(f"{path}: cannot open it ({e.strerror or e})") from None
    with f:
        raw = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""
        try:
            yield raw
        finally:
            if isinstance(raw, mmap.mmap):
                raw.close()


def _line_column(raw, byte):
    head = bytes(raw[:byte])
    return head.count(b"\n") + 1, byte - (head.rfind(b"\n") + 1) + 1


def describe_decode_error(path, raw, error):
    """``"<path>: not valid JSON (<reason> at line L column C, byte B)"`` for a msgspec DecodeError."""
    text = str(error)
    found = re.search(r"\(byte (\d+)\)", text)
    if found:
        byte, reason = int(found.group(1)), text[:found.start()].strip().replace("JSON is malformed: ", "")
    else:  # "Input data was truncated": at the end of the file
        byte, reason = len(raw), "the file ends early" if "truncated" in text else text
    line, column = _line_column(raw, byte)
    return f"{path}: not valid JSON ({reason} at line {line} column {column}, byte {byte})"


def _restore(value):
    """The decoded value with each sentinel string of a non-finite token turned back into its float."""
    if isinstance(value, list):
        return [_restore(v) for v in value]
    if isinstance(value, dict):
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, str) and value.startswith(_SENTINEL):
        return float(value[1:])
    return value


def _with_sentinels(raw):
    """The JSON text with every NaN / Infinity token written as a sentinel string; None when it has none."""
    found = []

    def sentinel(match):
        if match.group(1) is not None:
            return match.group(1)
        found.append(match.group(3))
        return match.group(2) + b'"\\u0000' + match.group(3) + b'"'

    patched = _NON_FINITE.sub(sentinel, bytes(raw))
    return patched if found else None


def decode_json(path, raw, decoder=None):
    """Decode JSON bytes with ``decoder`` (a ``msgspec.json.Decoder``; default: untyped, to dicts and lists).

    NaN / Infinity tokens: an untyped decode returns them as floats; a typed decoder sees a string there, so its
    ValidationError points at the field that holds one (:func:`load_json` and the prediction format name it).

    Raises:
        FormatError: naming the file and position for text that is not JSON (a truncated file included).
        msgspec.ValidationError: from a typed ``decoder`` (its message carries the JSON path).
    """
    decode = decoder.decode if decoder is not None else msgspec.json.decode
    try:
        return decode(raw)
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError as e:
        patched = _with_sentinels(raw)
        if patched is None:
            raise FormatError(describe_decode_error(path, raw, e)) from None
        try:
            value = decode(patched)
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError:
            raise FormatError(describe_decode_error(path, raw, e)) from None
        return value if decoder is not None else _restore(value)


def load_json(path):
    """Parse a JSON file into dicts, lists, str, int and float (NaN / Infinity tokens as floats).

    Raises:
        FormatError: naming the file and position for a file that cannot be read or is not JSON.
    """
    with mapped_file(path) as raw:
        return decode_json(path, raw)
