"""A notice whose boleto is due later than its debt says so, in the text and the HTML, and why: the debt's date had
passed, or left too few days to pay. A notice due on the debt's own date says nothing of it."""

from __future__ import annotations

import email
import email.policy
from datetime import date, timedelta

import pandas as pd

from billing_pipeline.sample import write_sample


def _brazilian(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def test_a_moved_due_date_is_told_with_the_original_one_and_why(billing_env, tmp_path, cli):
    source = tmp_path / "debts.csv"
    write_sample(source, rows=3, seed=12)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    today = date.today()
    frame["debtDueDate"] = ["2020-01-10", str(today + timedelta(days=1)), str(today + timedelta(days=60))]
    frame.to_csv(source, index=False)

    assert cli("process", source).json["notified"] == 3

    messages = {}
    for path in billing_env.outbox_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        messages[message["To"].addresses[0].addr_spec] = message
    past, near, ahead = (frame.iloc[i] for i in range(3))
    for debt, reason in ((past, "já havia passado"), (near, "deixava poucos dias para o pagamento")):
        boleto = cli("boleto", "show", debt["debtId"]).json
        assert boleto["original_due_date"] == debt["debtDueDate"] != boleto["due_date"]
        told = (f"{_brazilian(boleto['due_date'])} (o vencimento original, {_brazilian(debt['debtDueDate'])}, "
                f"{reason})")
        message = messages[debt["email"]]
        assert f"Vencimento: {told}\n" in message.get_body(("plain",)).get_content()
        assert f"<strong>{_brazilian(boleto['due_date'])}</strong> {told[11:]}</td>" in message.get_body(
            ("html",)).get_content()
    text = messages[ahead["email"]].get_body(("plain",)).get_content()
    assert f"Vencimento: {_brazilian(ahead['debtDueDate'])}\n" in text
    assert "vencimento original" not in text
    assert "vencimento original" not in messages[ahead["email"]].get_body(("html",)).get_content()
