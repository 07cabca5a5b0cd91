"""BILLING_NOTICE_PDF=link: notices (first ones and reminders) carry a signed link to the boleto instead of the PDF,
through a real SMTP server (aiosmtpd), and a real `billing api` (uvicorn) serves the link without a token while
refusing, as JSON with a stable code, every link it did not sign. And the file outbox holds the messages and nothing
else."""

from __future__ import annotations

import email
import os
import re
import zipfile
from datetime import timedelta
from email import policy
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from billing_pipeline import stages
from billing_pipeline.mail.compose import Composed, Notice, compose
from billing_pipeline.mail.links import link_signature
from billing_pipeline.mail.senders import STALE_PART_SECONDS, FileOutboxSender, TransientSendError
from billing_pipeline.settings import Settings, SettingsError
from billing_pipeline.stages.notify import attachments_for, message_for, notify_stage
from billing_pipeline.store import outbox
from billing_pipeline_tests.support.api_server import ApiServer
from billing_pipeline_tests.support.files import store_sample, write_sample_file
from billing_pipeline_tests.support.smtp import SmtpSink
from billing_pipeline_tests.test_reminders import FIRST_DUE, at, spread_file

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TOKEN = "test-token-links"
SECRET = "demo-only-link-secret-for-the-tests-0123456789"
LINK = re.compile(r"https?://\S+/boletos/[0-9a-f-]{36}\.pdf\?sig=[A-Za-z0-9_-]{43}")


def _linked(settings: Settings, public_url: str, **changes) -> Settings:
    return settings.replace(notice_pdf="link", public_url=public_url, link_secret=SECRET, **changes)


def _links(message: email.message.EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    [in_text] = LINK.findall(text)
    [in_html] = re.findall(r'href="([^"]+)"', html)
    return in_text, in_html


@pytest.fixture
def api(settings: Settings, tmp_path: Path):
    server = ApiServer.for_settings(settings, tmp_path, tokens=(TOKEN,), BILLING_LINK_SECRET=SECRET)
    yield server
    server.stop()


@ON_SQLITE  # what is tested here does not depend on the store
def test_a_linked_notice_has_no_attachment_and_its_link_gives_the_pdf_the_operator_route_gives(
        settings, engine, tmp_path, api):
    sample = write_sample_file(tmp_path / "debts.csv", rows=12, seed=19)
    [key] = store_sample(engine, settings, sample, through="boleto_pdfs").chunk_keys
    with zipfile.ZipFile(Path(settings.boleto_archive_path(key))) as archive:
        archived = {name.removesuffix(".pdf"): archive.read(name) for name in archive.namelist()}
    # The notices must not read the PDF archive at all: one they could not open would fail every message.
    Path(settings.boleto_archive_path(key)).write_bytes(b"not a zip")
    api.start()
    with SmtpSink() as sink:
        linked = _linked(settings, api.url, smtp_url=sink.url, smtp_rate=0)
        outcome = notify_stage(engine, linked, chunk_key=key)
        accepted = list(sink.handler.accepted)
    assert (outcome.sent, outcome.failed, outcome.still_pending) == (12, 0, 0)

    debt_ids = set()
    with api.client() as operator, api.client(token=None) as debtor:
        for message in accepted:
            assert message.get_content_type() == "multipart/alternative"
            assert not list(message.iter_attachments())
            in_text, in_html = _links(message)
            assert in_text == in_html and in_text.startswith(f"{api.url}/boletos/")
            debt_id = urlsplit(in_text).path.removeprefix("/boletos/").removesuffix(".pdf")
            assert message["Message-ID"].startswith(f"<{debt_id}.")
            debt_ids.add(debt_id)

            public = debtor.get(in_text)
            assert public.status_code == 200, public.text
            assert public.headers["content-type"] == "application/pdf"
            assert public.headers["cache-control"] == "private, no-store"
            assert public.content.startswith(b"%PDF")
            assert public.content == operator.get(f"/debts/{debt_id}/boleto.pdf").content == archived[debt_id]
        assert debtor.get(f"/debts/{debt_id}/boleto.pdf").status_code == 401  # the operator route keeps its token
    assert len(debt_ids) == 12
    api.stop()
    logged = api.log.read_text()
    assert f"/boletos/{debt_id}.pdf?sig=<hidden>" in logged  # the access log has the request, not its key
    assert link_signature(SECRET, debt_id) not in logged


@ON_SQLITE
def test_only_the_links_it_signed_are_served_and_every_refusal_is_json_with_a_stable_code(
        settings, engine, tmp_path, api):
    sample = write_sample_file(tmp_path / "debts.csv", rows=3, seed=20)
    [key] = store_sample(engine, settings, sample, through="boleto_pdfs").chunk_keys
    first, second = [row.boleto.debt_id for row in _pending(engine, key)][:2]
    api.start()

    def sig(debt_id: str) -> str:
        return link_signature(SECRET, debt_id)

    def refusal(client, path: str, **params: str) -> tuple[int, str]:
        response = client.get(path, params=params)
        body = response.json()
        assert set(body) == {"error", "message"} and "Traceback" not in body["message"], body
        return response.status_code, body["error"]

    tampered = sig(first)[:-1] + ("A" if sig(first)[-1] != "A" else "B")
    unknown = "00000000-0000-4000-8000-000000000000"
    with api.client(token=None) as debtor:
        assert debtor.get(f"/boletos/{first}.pdf", params={"sig": sig(first)}).status_code == 200
        assert debtor.get(f"/boletos/{first.upper()}.pdf", params={"sig": sig(first)}).status_code == 200
        assert refusal(debtor, f"/boletos/{first}.pdf") == (403, "invalid_link")
        assert refusal(debtor, f"/boletos/{first}.pdf", sig="") == (403, "invalid_link")
        assert refusal(debtor, f"/boletos/{first}.pdf", sig=tampered) == (403, "invalid_link")
        assert refusal(debtor, f"/boletos/{first}.pdf", sig=sig(second)) == (403, "invalid_link")
        assert refusal(debtor, f"/boletos/{first}.pdf", sig=link_signature("another-secret" * 3, first)) == (
            403, "invalid_link")
        assert refusal(debtor, f"/boletos/{first}.pdf", sig="é" * 43) == (403, "invalid_link")
        assert refusal(debtor, f"/boletos/{unknown}.pdf", sig=sig(unknown)) == (404, "not_found")
        assert refusal(debtor, f"/boletos/{unknown}.pdf") == (403, "invalid_link")  # says nothing of the debt
        assert refusal(debtor, "/boletos/12345.pdf", sig=sig("12345")) == (400, "invalid_request")
        assert refusal(debtor, f"/debts/{first}/boleto.pdf") == (401, "unauthorized")
        assert refusal(debtor, f"/debts/{first}/boleto") == (401, "unauthorized")
        assert refusal(debtor, "/files") == (401, "unauthorized")
    with api.client() as operator:
        assert operator.get(f"/debts/{first}/boleto.pdf").status_code == 200


@ON_SQLITE
def test_without_a_link_secret_the_link_route_serves_nothing(settings, engine, tmp_path):
    sample = write_sample_file(tmp_path / "debts.csv", rows=2, seed=21)
    [key] = store_sample(engine, settings, sample, through="boleto_pdfs").chunk_keys
    debt_id = _pending(engine, key)[0].boleto.debt_id
    with ApiServer.for_settings(settings, tmp_path, tokens=(TOKEN,)) as server, server.client(token=None) as client:
        response = client.get(f"/boletos/{debt_id}.pdf", params={"sig": link_signature("", debt_id)})
        assert (response.status_code, response.json()["error"]) == (404, "links_disabled")


@ON_SQLITE
def test_reminders_carry_the_link_too(settings, engine, tmp_path):
    spread_file(engine, settings, tmp_path, rows=20)  # first notices to the file outbox, attached
    with SmtpSink() as sink:
        linked = _linked(settings, "https://boletos.example.com/cobranca/", smtp_url=sink.url, smtp_rate=0)
        for boleto_zip in Path(settings.boletos_dir).glob("*.zip"):
            boleto_zip.write_bytes(b"not a zip")  # reminders must not read the archives either
        stages.remind_stage(engine, linked, now=at(FIRST_DUE - timedelta(days=3)))
        accepted = list(sink.handler.accepted)
    assert accepted and all(".reminder_d-3@" in message["Message-ID"] for message in accepted)
    for message in accepted:
        assert not list(message.iter_attachments())
        in_text, in_html = _links(message)
        assert in_text == in_html and in_text.startswith("https://boletos.example.com/cobranca/boletos/")
        debt_id = urlsplit(in_text).path.rsplit("/", 1)[1].removesuffix(".pdf")
        assert parse_qs(urlsplit(in_text).query) == {"sig": [link_signature(SECRET, debt_id)]}
        assert "Se você já pagou" in message.get_body(("plain",)).get_content()


@ON_SQLITE
def test_a_linked_message_is_a_fraction_of_an_attached_one_and_the_file_outbox_holds_exactly_it(
        settings, engine, tmp_path):
    sample = write_sample_file(tmp_path / "debts.csv", rows=5, seed=22)
    [key] = store_sample(engine, settings, sample, through="boleto_pdfs").chunk_keys
    rows = _pending(engine, key)
    written: dict[str, dict[str, bytes]] = {}
    for mode, chosen in (("attach", settings), ("link", _linked(settings, "https://boletos.example.com"))):
        sender, attachments = FileOutboxSender(tmp_path / mode), attachments_for(engine, chosen)
        for row in rows:
            message = message_for(row, chosen, attachments)
            sender.send(message)
            assert Path(sender.path_for(message)).read_bytes() == message.data  # the message, nothing more
        attachments.close()
        written[mode] = {path.name: path.read_bytes() for path in (tmp_path / mode).iterdir()}
    assert set(written["link"]) == set(written["attach"]) and len(written["link"]) == 5  # no leftovers
    for name, data in written["link"].items():
        opened = email.message_from_bytes(data, policy=policy.default)
        assert not list(opened.iter_attachments())  # what an operator opening the file sees is the e-mail
        assert len(data) * 2 < len(written["attach"][name])
        assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")


def _message(message_id: str = "<m1@smart-billing.invalid>") -> Composed:
    notice = Notice(debt_id="8f14e45f-ceea-467f-a0e6-1f3c5a7e9b2d", recipient="ana@example.com", name="Ana",
                    document="***.456.789-**", amount="1,00", due_date="10/01/2027", linha="3419", nosso_numero="1")
    return compose(notice, message_id, "c@example.com", "ACME", "c", False, pdf_url="https://b.example.com/x")


def test_a_failed_outbox_write_leaves_no_part_file(tmp_path):
    sender, message = FileOutboxSender(tmp_path / "outbox"), _message()
    occupied = Path(sender.path_for(message))
    occupied.mkdir()  # the rename onto it fails after the whole message was written
    (occupied / "x").write_text("x")
    with pytest.raises(TransientSendError, match="cannot write"):
        sender.send(message)
    assert sorted(path.name for path in (tmp_path / "outbox").iterdir()) == [occupied.name]
    (occupied / "x").unlink()
    occupied.rmdir()
    sender.send(message)
    assert [path.name for path in (tmp_path / "outbox").iterdir()] == [occupied.name]
    assert occupied.read_bytes() == message.data


def test_opening_the_outbox_removes_the_parts_of_writes_killed_long_ago_only(tmp_path):
    outbox_dir = tmp_path / "outbox"
    outbox_dir.mkdir()
    stale, fresh = outbox_dir / ".a.eml.part", outbox_dir / ".b.eml.part"
    stale.write_bytes(b"x" * 5000)
    fresh.write_bytes(b"y")  # another worker's write in flight
    (outbox_dir / "c.eml").write_bytes(b"sent")
    old = stale.stat().st_mtime - 2 * STALE_PART_SECONDS
    os.utime(stale, (old, old))
    sender = FileOutboxSender(outbox_dir)
    assert sender.removed_parts == 1
    assert sorted(path.name for path in outbox_dir.iterdir()) == [".b.eml.part", "c.eml"]


@pytest.mark.parametrize(("variables", "complaint"), [
    ({"BILLING_NOTICE_PDF": "link"}, "BILLING_PUBLIC_URL must be set"),
    ({"BILLING_NOTICE_PDF": "link", "BILLING_PUBLIC_URL": "https://b.example.com"}, "BILLING_LINK_SECRET must be set"),
    ({"BILLING_NOTICE_PDF": "link", "BILLING_PUBLIC_URL": "https://b.example.com", "BILLING_LINK_SECRET": "short"},
     "BILLING_LINK_SECRET is too short (5 characters)"),
    ({"BILLING_PUBLIC_URL": "boletos.example.com"}, "BILLING_PUBLIC_URL must be an http(s) address"),
    ({"BILLING_PUBLIC_URL": "https://b.example.com/?x=1"}, "BILLING_PUBLIC_URL must be an http(s) address"),
    ({"BILLING_NOTICE_PDF": "links"}, "BILLING_NOTICE_PDF must be one of attach, link"),
])
def test_link_settings_are_refused_with_the_variable_named(variables, complaint):
    with pytest.raises(SettingsError, match=re.escape(complaint)) as refused:
        Settings.from_env(variables)
    assert "short" not in str(refused.value).replace("too short", "")  # the secret itself is never echoed


def test_the_link_secret_is_never_printed():
    settings = Settings.from_env({"BILLING_NOTICE_PDF": "link", "BILLING_PUBLIC_URL": "https://b.example.com",
                                  "BILLING_LINK_SECRET": SECRET})
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def _pending(engine, key: str) -> list[outbox.OutgoingNotice]:
    outbox.create_rows(engine, chunk_key=key)
    return outbox.rows_to_send(engine, chunk_key=key)
