"""Where retornos come in: the retorno inbox (`<inbox>/retorno/`), and a CNAB 240 file dropped into the inbox
itself beside the CSVs, told apart by its first line. The CSV look leaves such a file to this one."""

from __future__ import annotations

from billing_pipeline.ingest import inbox
from billing_pipeline.ingest.inbox import is_retorno
from billing_pipeline.settings import Settings
from billing_pipeline.stages.progress import InboxLook

_IN_RETORNO_INBOX = "retorno/"


def look_for_retornos(settings: Settings, previous_looks: dict[str, list[int]], now_ns: int) -> InboxLook:
    """Complete retornos: every file of the retorno inbox, and the inbox's own files that are CNAB 240, each
    complete as an inbox CSV is (the same size and mtime twice, or an old mtime; a listed object)."""
    settle = settings.inbox_poll_seconds
    in_retorno_inbox = inbox.scan(settings.retorno_inbox_dir)
    beside_csvs = inbox.scan(settings.inbox_dir)
    # The retorno inbox's looks are kept under "retorno/<name>": no name in the inbox itself has a slash.
    retorno_looks = {name.removeprefix(_IN_RETORNO_INBOX): look for name, look in previous_looks.items()
                     if name.startswith(_IN_RETORNO_INBOX)}
    settled_in = inbox.stable(in_retorno_inbox, retorno_looks, now_ns, settle)
    settled_beside = inbox.stable(beside_csvs, previous_looks, now_ns, settle)
    waiting = {_IN_RETORNO_INBOX + entry.path.name: entry.look for entry in in_retorno_inbox
               if entry not in settled_in}
    waiting.update({entry.path.name: entry.look for entry in beside_csvs if entry not in settled_beside})
    return InboxLook(settled_in + [entry for entry in settled_beside if is_retorno(entry)], waiting)
