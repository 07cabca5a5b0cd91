"""Every public CNAB 240 fixture (../shared/data/cnab240, see its SOURCES.md) read by our reader.

The expected figures were taken from the files by plain string slicing at the FEBRABAN positions (Santander's
shifted T at 41-53 / 78-92), independently of the reader, and are hard-coded here per file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from billing_pipeline.cnab.reader import looks_like_cnab240, read_cnab

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "data" / "cnab240"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="the public CNAB fixtures (../shared) are absent")

# file: (titles, sum of valor nominal, movement codes, first nosso números, sum of U valor pago, sequences)
RETORNOS = {
    "retorno_001_bb__laravel-boleto.ret": (5, 12880, ["06"] * 5, ["32948600000000196", "32948600000000236"], 12880,
                                           [196, 236, 244, 249, 5048]),
    "retorno_001_bb_stripped__brcobranca.ret": (35, 2188094, ["17"] * 35, ["14499570000020673"], 2188094, None),
    "retorno_033_santander__laravel-boleto.ret": (1, 1000, ["17"], ["0000000001040"], 1100, [104]),
    "retorno_033_santander_stripped__brcobranca.ret": (2, 2000, ["02", "06"], ["0000000001406"] * 2, 2000,
                                                       [140, 140]),
    "retorno_104_caixa__laravel-boleto.ret": (9, 112000, ["06"] * 9, ["24000000011136997", "24000000011138197"],
                                              101000, None),
    "retorno_341_itau__python-cnab.ret": (2, 30000, ["02", "02"], ["109000000050", "109900000044"], 0,
                                          [5, 90000004]),
    "retorno_748_sicredi__brcobranca.ret": (2, 1990, ["02", "28"], ["172000595", "172000595"], 0, None),
    "retorno_756_sicoob__opencnabphp.ret": (5, 2600, ["11", "06", "03", "03", "03"],
                                            ["000000501801014", "000000050001014"], 0, None),
    "retorno_756_sicoob_stripped__brcobranca.ret": (3, 600, ["06"] * 3, ["000000008301011", "000000011601011"], 600,
                                                    None),
}

# file: (titles, amounts, payer names, due dates, sequences or None)
REMESSAS = {
    "remessa_001_bb__brcobranca.rem": (1, [19990], ["PABLO DIEGO JOSE FRANCISCO DE PAULA JUAN"], ["2015-07-14"], [123]),
    "remessa_033_santander__brcobranca.rem": (1, [19990], ["PABLO DIEGO JOSE FRANCISCO DE PAULA JUAN"],
                                              ["2015-07-14"], [1234567]),
    "remessa_104_caixa_sigcb__brcobranca.rem": (1, [19990], ["PABLO DIEGO JOSE FRANCISCO DE PAULA JUAN"],
                                                ["2015-07-14"], [123]),
    "remessa_341_itau__python-cnab.rem": (2, [10000, 20000], ["DAVI OLIVEIRA CAMPOS", "SERGIO OLIVEIRA CAMPOS"],
                                          ["2012-06-30", "2012-07-01"], [90000000, 1]),
    "remessa_748_sicredi__brcobranca.rem": (1, [5000], ["PABLO DIEGO JOSE FRANCISCO DE PAULA JUAN"], ["2007-07-14"],
                                            None),
    "remessa_756_sicoob__brcobranca.rem": (1, [5000], ["PABLO DIEGO JOSE FRANCISCO DE PAULA JUAN"], ["2015-07-14"],
                                           None),
}


def test_every_fixture_is_in_a_table():
    assert sorted(p.name for p in FIXTURES.glob("*.re?")) == sorted([*RETORNOS, *REMESSAS])


@pytest.mark.parametrize("name", sorted(RETORNOS))
def test_retorno_fixture_titles_amounts_and_movements(name):
    count, total, movements, nossos, paid, sequences = RETORNOS[name]
    data = (FIXTURES / name).read_bytes()
    assert looks_like_cnab240(data[:300])
    cnab = read_cnab(data)
    titles = cnab.titles
    assert cnab.kind == "retorno" and cnab.bank_code == name.split("_")[1]
    assert len(titles) == count
    assert int(titles["amount_cents"].sum()) == total
    assert titles["movement_code"].tolist() == movements
    assert titles["nosso_numero"].tolist()[: len(nossos)] == nossos
    assert int(titles["paid_cents"].sum()) == paid
    assert (titles["u_line_number"] == titles["line_number"] + 1).all()
    assert titles["movement_text"].str.len().min() > 0
    if sequences is not None:  # the banks we write: the nosso número's sequence read back
        assert titles["sequence"].tolist() == sequences
    if name.split("_")[1] in ("748", "756"):  # read with the generic layout: their nosso número is their own
        assert titles["sequence"].isna().all()


def test_retorno_details_read_at_their_fields():
    caixa = read_cnab((FIXTURES / "retorno_104_caixa__laravel-boleto.ret").read_bytes())
    first = caixa.titles.iloc[0]
    assert first["reasons"] == "02,01,01" and first["fee_cents"] == 125
    assert first["payment_date"] == pd.Timestamp("2014-01-06") and first["credit_date"] == pd.Timestamp("2014-01-07")
    assert caixa.titles["discount_cents"].tolist()[:3] == [0, 0, 1000]
    sicredi = read_cnab((FIXTURES / "retorno_748_sicredi__brcobranca.ret").read_bytes())
    assert sicredi.titles["reasons"].tolist() == ["A4", "05"]
    assert sicredi.titles["payer_document"].tolist() == ["44952927838"] * 2
    assert sicredi.titles["payer_name"].tolist() == ["SURFISTAO MEDINA"] * 2
    assert sicredi.titles["reason_texts"].iloc[0].startswith("A4: ")
    bb = read_cnab((FIXTURES / "retorno_001_bb__laravel-boleto.ret").read_bytes())
    assert bb.titles["credited_cents"].tolist() == [3500, 2500, 1000, 1000, 2380]
    assert bb.titles["fee_cents"].tolist() == [500] * 5
    assert bb.nsa == 257 and bb.agencia == "0328" and bb.convenio == "3294860"
    assert bb.titles["payer_name"].tolist() == [""] * 5  # BB writes zeros there


def test_fixture_oddities_are_warnings():
    warnings = {name: read_cnab((FIXTURES / name).read_bytes()).warnings for name in RETORNOS}
    assert any("cut to 240" in w for w in warnings["retorno_001_bb__laravel-boleto.ret"])
    assert any("padded" in w for w in warnings["retorno_001_bb_stripped__brcobranca.ret"])
    for santander in ("retorno_033_santander__laravel-boleto.ret", "retorno_033_santander_stripped__brcobranca.ret"):
        assert any("detail lines only" in w for w in warnings[santander])
    assert any("another movement code" in w for w in warnings["retorno_756_sicoob__opencnabphp.ret"])
    assert any("malformed" in w for w in warnings["retorno_756_sicoob_stripped__brcobranca.ret"])
    assert warnings["retorno_104_caixa__laravel-boleto.ret"] == []


@pytest.mark.parametrize("name", sorted(REMESSAS))
def test_remessa_fixture_read_back(name):
    count, amounts, payers, dues, sequences = REMESSAS[name]
    cnab = read_cnab((FIXTURES / name).read_bytes())
    titles = cnab.titles
    assert cnab.kind == "remessa" and len(titles) == count
    assert titles["amount_cents"].tolist() == amounts
    assert titles["payer_name"].tolist() == payers
    assert titles["due_date"].tolist() == [pd.Timestamp(d) for d in dues]
    assert (titles["movement_code"] == "01").all()
    if sequences is not None:
        assert titles["sequence"].tolist() == sequences
    else:
        assert titles["sequence"].isna().all()
    assert cnab.warnings == []


def test_remessa_fixture_payer_fields():
    itau = read_cnab((FIXTURES / "remessa_341_itau__python-cnab.rem").read_bytes()).titles.iloc[0]
    assert (itau["payer_document"], itau["cep"], itau["city"], itau["uf"]) == \
        ("36644661874", "14092530", "RIBEIRAO PRETO", "SP")
    assert itau["address"] == "RUA ARLINDO CATELLI 735 AP 12" and itau["district"] == "JD PALMARES"
