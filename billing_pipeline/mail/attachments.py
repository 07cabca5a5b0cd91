"""The boleto PDF each notice carries, read from its chunk's archive."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from contextlib import ExitStack

from billing_pipeline.storage.location import AnyPath
from billing_pipeline.storage.objects import open_stream


class Attachments:
    """Each chunk's archive is opened once and kept open while its notices are sent. A PDF an archive lacks (its
    chunk's PDFs were never written, or the archive was removed) comes from `render_missing`."""

    def __init__(self, archive_of: Callable[[str], AnyPath], render_missing: Callable[[str], bytes]):
        self._archive_of, self._render_missing = archive_of, render_missing
        self._archives: dict[str, zipfile.ZipFile | None] = {}
        self._streams = ExitStack()

    def pdf(self, chunk_key: str, debt_id: str) -> bytes:
        if chunk_key not in self._archives:
            path = self._archive_of(chunk_key)
            self._archives[chunk_key] = (zipfile.ZipFile(self._streams.enter_context(open_stream(path)))
                                         if path.exists() else None)
        archive = self._archives[chunk_key]
        if archive is not None:
            try:
                return archive.read(f"{debt_id}.pdf")
            except KeyError:
                pass
        return self._render_missing(debt_id)

    def close(self) -> None:
        for archive in self._archives.values():
            if archive is not None:
                archive.close()
        self._streams.close()
