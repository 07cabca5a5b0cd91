"""A debtor's notice: pt-BR text and HTML from Jinja2 templates, the boleto PDF attached, no amount in the subject."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Notice:
    debt_id: str
    recipient: str
    name: str
    document: str  # masked CPF/CNPJ
    amount: str  # 1.234,56
    due_date: str  # dd/mm/yyyy
    linha: str  # formatted linha digitável
    nosso_numero: str


@dataclass(frozen=True)
class Composed:
    message_id: str
    sender: str  # envelope sender (bare address)
    recipient: str
    data: bytes  # the RFC 5322 message, CRLF line ends


@lru_cache(maxsize=1)
def _templates() -> tuple[jinja2.Template, jinja2.Template]:
    text_environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                                          keep_trailing_newline=True)
    html_environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return text_environment.get_template("notice.txt.j2"), html_environment.get_template("notice.html.j2")


def subject(beneficiary: str, due_date: str) -> str:
    return f"Seu boleto de {beneficiary} vence em {due_date}"


def compose(notice: Notice, message_id: str, from_address: str, beneficiary: str, contact: str, demo: bool,
            pdf: bytes) -> Composed:
    """Assembled directly as MIME (multipart/mixed: text + HTML alternatives, then the PDF), every part base64.

    The standard library's EmailMessage builds the same structure in ~3 ms per message; at a million notices that
    is an hour of CPU, so the structure is written out here and the tests parse it back with `email`."""
    values = {**notice.__dict__, "beneficiary": beneficiary, "contact": contact, "demo": demo}
    text_template, html_template = _templates()
    boundary = "=_sb_" + hashlib.sha1(message_id.encode()).hexdigest()
    headers = [
        f"Message-ID: {message_id}",
        f"Date: {formatdate(localtime=False)}",
        f"From: {_address_header(from_address)}",
        f"To: {formataddr((notice.name, notice.recipient), charset='utf-8')}",
        f"Subject: {Header(('[DEMO] ' if demo else '') + subject(beneficiary, notice.due_date), 'utf-8').encode()}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}-m"',
    ]
    parts = [
        "\r\n".join(headers), "", "This is a MIME message.",
        f"--{boundary}-m", f'Content-Type: multipart/alternative; boundary="{boundary}-a"', "",
        f"--{boundary}-a", 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: base64", "",
        _base64(text_template.render(values).encode()),
        f"--{boundary}-a", 'Content-Type: text/html; charset="utf-8"', "Content-Transfer-Encoding: base64", "",
        _base64(html_template.render(values).encode()),
        f"--{boundary}-a--", "",
        f"--{boundary}-m", "Content-Type: application/pdf",
        f'Content-Disposition: attachment; filename="boleto-{notice.debt_id}.pdf"',
        "Content-Transfer-Encoding: base64", "",
        _base64(pdf),
        f"--{boundary}-m--", "",
    ]
    return Composed(message_id, parseaddr(from_address)[1], notice.recipient, "\r\n".join(parts).encode("ascii"))


def _base64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n").rstrip("\r\n")


def _address_header(address: str) -> str:
    name, email = parseaddr(address)
    return formataddr((name, email), charset="utf-8")
