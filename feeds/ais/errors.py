"""Errors of the AIS adapters."""

from __future__ import annotations


class AisFormatError(ValueError):
    """A file (or mapping file) that cannot be read as AIS at all; the message names the file.

    Raised for missing or unreadable files, unrecognised formats, a CSV without the columns its
    format needs, and an invalid column-mapping file. Bad rows inside a readable file never
    raise: they are rejected with the rule they broke.
    """
