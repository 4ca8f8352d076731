"""Exceptions raised by the data layer, each carrying a message that says what to do."""

from __future__ import annotations


class MissingDataError(FileNotFoundError):
    """A prepared data file is missing."""


class CorruptDataError(ValueError):
    """A prepared data file exists but is truncated, mis-shaped or of the wrong dtype."""


class ChecksumError(ValueError):
    """A downloaded or supplied archive does not match its published checksum."""


class DownloadError(OSError):
    """A file could not be fetched; the message names the URL, checksum and manual path."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the extraction directory."""
