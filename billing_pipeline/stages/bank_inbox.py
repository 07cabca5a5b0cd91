"""Where retornos come in: the retorno inbox (`<inbox>/retorno/`), and a CNAB 240 file dropped into the inbox
itself beside the CSVs, told apart by its first line. The CSV look leaves such a file to this one."""

from __future__ import annotations

from billing_pipeline.ingest import inbox
from billing_pipeline.ingest.inbox import InboxEntry, is_retorno
from billing_pipeline.settings import Settings
from billing_pipeline.stages.progress import InboxLook

_IN_RETORNO_INBOX = "retorno/"


def look_for_retornos(settings: Settings, previous_looks: dict[str, list[int]], now_ns: int) -> InboxLook:
    """Complete retornos: every file of the retorno inbox, and the inbox's own files that are CNAB 240, each
    complete as an inbox CSV is (the same size and mtime twice, or an old mtime; a listed object)."""
    in_retorno_inbox = inbox.scan(settings.retorno_inbox_dir)
    beside_csvs = inbox.scan(settings.inbox_dir)
    looks = {_IN_RETORNO_INBOX + entry.path.name: entry for entry in in_retorno_inbox}
    looks.update({entry.path.name: entry for entry in beside_csvs})
    previous = {name: look for name, look in previous_looks.items() if name in looks}
    settled = {id(entry) for entry in _stable(looks, previous, now_ns, settings.inbox_poll_seconds)}
    ready = [entry for entry in in_retorno_inbox if id(entry) in settled]
    ready += [entry for entry in beside_csvs if id(entry) in settled and is_retorno(entry)]
    waiting = {name: entry.look for name, entry in looks.items() if id(entry) not in settled}
    return InboxLook(ready, waiting)


def _stable(looks: dict[str, InboxEntry], previous: dict[str, list[int]], now_ns: int,
            settle_seconds: float) -> list[InboxEntry]:
    # inbox.stable compares by the entry's own name: looked up here under the key it was seen by.
    return [entry for name, entry in looks.items()
            if inbox.stable([entry], {entry.path.name: previous[name]} if name in previous else {}, now_ns,
                            settle_seconds)]
