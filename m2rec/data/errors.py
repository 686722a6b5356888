"""The one exception type that the data commands raise for problems a user can fix.

Every message is a single line that names the file (and line, or URL) and says what to do, so the
command line and the runner can print it as is instead of a traceback.
"""
from __future__ import annotations


class DataError(Exception):
    """A raw file, download or output folder problem, described in one line with the fix."""


class DownloadError(DataError):
    """A download that could not start or finish; the message names the URL and the manual command."""
