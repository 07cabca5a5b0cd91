"""The static BR Code of a boleto: EMV QR Code MPM as the BCB's "Manual de Padrões para Iniciação do Pix" defines it.

A payload is a run of TLV fields (two-digit id, two-digit length, value) closed by a CRC16-CCITT over everything
before it, its own id and length included. The manual's example of a static code without an amount:

>>> example = brcode("123e4567-e12b-12d1-a456-426655440000", "Fulano de Tal", "BRASILIA", None, "***",
...                  one_time=False, upper=False)
>>> example
'00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D'
>>> parse_brcode(example)["26"]["01"]
'123e4567-e12b-12d1-a456-426655440000'

A boleto's code carries its amount and a txid of its own, and says it is for one payment (point of initiation 12):

>>> code = brcode("52998224725", "Cobranças São João", "São Paulo", 123456, "10900000024")
>>> code
'00020101021226330014br.gov.bcb.pix01115299822472552040000530398654071234.565802BR5918COBRANCAS SAO JOAO6009SAO PAULO6215051110900000024630481BD'
>>> fields = parse_brcode(code)
>>> fields["54"], fields["59"], fields["60"], fields["62"]["05"]
('1234.56', 'COBRANCAS SAO JOAO', 'SAO PAULO', '10900000024')
"""

from __future__ import annotations

import binascii
import re
import unicodedata
import uuid
from dataclasses import dataclass
from functools import lru_cache

from billing_pipeline import government_id
from billing_pipeline.issued_boleto import IssuedBoleto
from billing_pipeline.money import MAX_AMOUNT_CENTS

GUI = "br.gov.bcb.pix"
MERCHANT_NAME_LENGTH, MERCHANT_CITY_LENGTH, TXID_LENGTH = 25, 15, 25
KEY_LENGTH = 77  # the DICT's longest key: an e-mail address
PAYLOAD_LENGTH = 512  # EMV QRCPS: the longest payload a reader must accept
UNREFERENCED_TXID = "***"  # the manual's txid for a code that names no charge
_TEMPLATES = frozenset({"26", "62"})  # the templates a BR Code of ours nests (merchant account, additional data)
_TXID_CHARACTERS = re.compile(r"[^A-Za-z0-9]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+55[1-9][0-9]\d{8,9}")
_RANDOM_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class PixReceiver:
    """Who a boleto's BR Code pays: a PIX key of the beneficiary, and the name and city the payer's app shows."""

    key: str
    merchant_name: str
    merchant_city: str


def tlv(tag: str, value: str) -> str:
    """One EMV field: id, length in two digits, value.

    >>> tlv("58", "BR"), tlv("59", "")
    ('5802BR', '5900')
    """
    if len(value) > 99:
        raise ValueError(f"field {tag} is {len(value)} characters long; EMV allows 99")
    return f"{tag}{len(value):02d}{value}"


def crc16(data: str) -> str:
    """CRC16-CCITT (polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR: the CRC-16/CCITT-FALSE
    the standard library's crc_hqx computes from 0xFFFF) as 4 upper-case hex digits: the value of field 63,
    computed over the payload up to and including "6304".

    >>> crc16("123456789")
    '29B1'
    """
    return f"{binascii.crc_hqx(data.encode('ascii'), 0xFFFF):04X}"


@lru_cache(maxsize=256)  # a receiver's name and city, for every boleto
def ascii_text(text: str, length: int, *, upper: bool = True) -> str:
    """Accents stripped, ASCII only, spaces collapsed, cut to `length`: names and cities as every app reads them.

    >>> ascii_text("  Cobranças  São João Ltda.  ", 25), ascii_text("Ribeirão Preto", 15, upper=False)
    ('COBRANCAS SAO JOAO LTDA.', 'Ribeirao Preto')
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = " ".join("".join(c for c in plain if c.isprintable()).split())
    return (plain.upper() if upper else plain)[:length].rstrip()


def pix_amount(cents: int) -> str:
    """Field 54: reais with two decimals and a point, no thousands separator.

    >>> pix_amount(123456), pix_amount(5), pix_amount(999999999999)
    ('1234.56', '0.05', '9999999999.99')
    """
    if cents <= 0:
        raise ValueError(f"a PIX amount must be positive, got {cents} centavos")
    reais, centavos = divmod(cents, 100)
    return f"{reais}.{centavos:02d}"


def txid(reference: str) -> str:
    """Field 62.05 from a boleto's reference (its nosso número): its letters and digits, the last 25 of them.

    >>> txid("109/00000002-4"), txid("---")
    ('109000000024', '***')
    """
    return _TXID_CHARACTERS.sub("", reference)[-TXID_LENGTH:] or UNREFERENCED_TXID


def brcode(key: str, merchant_name: str, merchant_city: str, amount_cents: int | None, reference_label: str, *,
           one_time: bool = True, upper: bool = True) -> str:
    """The whole payload, CRC included. `one_time` marks a code for a single payment (point of initiation 12)."""
    body = "".join((
        tlv("00", "01"),
        tlv("01", "12") if one_time else "",
        tlv("26", tlv("00", GUI) + tlv("01", key)),
        tlv("52", "0000"),
        tlv("53", "986"),
        tlv("54", pix_amount(amount_cents)) if amount_cents is not None else "",
        tlv("58", "BR"),
        tlv("59", ascii_text(merchant_name, MERCHANT_NAME_LENGTH, upper=upper)),
        tlv("60", ascii_text(merchant_city, MERCHANT_CITY_LENGTH, upper=upper)),
        tlv("62", tlv("05", reference_label)),
        "6304",
    ))
    return body + crc16(body)


def boleto_brcode(receiver: PixReceiver, boleto: IssuedBoleto) -> str:
    """The copia-e-cola payload of this boleto: its amount, its nosso número as the txid, CRC16 at the end. The
    same boleto always gives the same code, so a PDF rendered again carries the same QR."""
    return brcode(receiver.key, receiver.merchant_name, receiver.merchant_city, boleto.amount_cents,
                  txid(boleto.nosso_numero))


def longest_brcode(receiver: PixReceiver) -> str:
    """The longest payload this receiver's boletos can carry (the largest amount a barcode holds, a full txid):
    the QR code's version is chosen once to fit it."""
    return brcode(receiver.key, receiver.merchant_name, receiver.merchant_city, MAX_AMOUNT_CENTS, "X" * TXID_LENGTH)


def parse_brcode(payload: str) -> dict[str, str | dict[str, str]]:
    """The fields of a payload by id, templates (26, 62) as nested dicts; raises ValueError on a malformed
    payload or a CRC that does not verify.

    >>> parse_brcode("00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    ...              "5913Fulano de Tal6008BRASILIA62070503***63041D3E")
    Traceback (most recent call last):
    ...
    ValueError: the BR Code's CRC is 1D3E; its content gives 1D3D
    """
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise ValueError("a BR Code ends with its CRC, field 63 of 4 characters")
    expected = crc16(payload[:-4])
    if payload[-4:].upper() != expected:
        raise ValueError(f"the BR Code's CRC is {payload[-4:]}; its content gives {expected}")
    fields: dict[str, str | dict[str, str]] = {}
    for tag, value in _fields(payload):
        fields[tag] = dict(_fields(value)) if tag in _TEMPLATES else value
    if fields.get("00") != "01":
        raise ValueError("a BR Code starts with field 00 (payload format) = 01")
    return fields


def _fields(text: str) -> list[tuple[str, str]]:
    fields, at = [], 0
    while at < len(text):
        tag, length = text[at:at + 2], text[at + 2:at + 4]
        if not (tag.isdigit() and length.isdigit()) or at + 4 + int(length) > len(text):
            raise ValueError(f"malformed BR Code field at character {at}: {text[at:at + 8]!r}")
        fields.append((tag, text[at + 4:at + 4 + int(length)]))
        at += 4 + int(length)
    return fields


def pix_key_problem(key: str) -> str | None:
    """Why `key` is not a PIX key as the DICT stores it, or None when it is one: a CPF or CNPJ (digits only), an
    e-mail address, a phone number as +55 and its digits (E.164), or a random key (a UUID, lower case).

    >>> [pix_key_problem(k) for k in ("52998224725", "11222333000181", "pix@example.com.br", "+5511987654321",
    ...                                "123e4567-e12b-12d1-a456-426655440000")]
    [None, None, None, None, None]
    >>> pix_key_problem("52998224724")
    'neither a valid CPF nor a valid CNPJ'
    >>> pix_key_problem("529.982.247-25")
    'a CPF or CNPJ key is written with its digits only: 52998224725'
    >>> pix_key_problem("11987654321")
    'neither a valid CPF nor a valid CNPJ'
    >>> pix_key_problem("Pix@Example.com"), pix_key_problem("joão@exemplo.com.br")[:16]
    ('an e-mail key is written in lower case: pix@example.com', 'a PIX key is ASC')
    >>> pix_key_problem("(11) 98765-4321")
    'not a CPF, CNPJ, e-mail, +55 phone number (E.164) or random key (UUID)'
    """
    if not key:
        return "empty"
    if len(key) > KEY_LENGTH:
        return f"longer than the {KEY_LENGTH} characters a PIX key may have"
    if not key.isascii():
        return "a PIX key is ASCII: an e-mail key with accents is not one the DICT accepts"
    if "@" in key:
        if not _EMAIL.fullmatch(key):
            return "not an e-mail address"
        return None if key == key.lower() else f"an e-mail key is written in lower case: {key.lower()}"
    if key.startswith("+"):
        return None if _PHONE.fullmatch(key) else "a phone key is +55, the area code and the number, digits only"
    if _RANDOM_KEY.fullmatch(key.lower()):
        return None if key == key.lower() else f"a random key is written in lower case: {key.lower()}"
    normalised = government_id.normalise(key)
    if normalised.isalnum() and len(normalised) in (11, 14):
        if government_id.kind(normalised) is None:
            return "neither a valid CPF nor a valid CNPJ"
        return None if normalised == key else f"a CPF or CNPJ key is written with its digits only: {normalised}"
    try:
        uuid.UUID(key)
    except ValueError:
        return "not a CPF, CNPJ, e-mail, +55 phone number (E.164) or random key (UUID)"
    return "a random key is written as 8-4-4-4-12 hexadecimal digits"


def receiver_problems(receiver: PixReceiver) -> list[str]:
    """What keeps this receiver's BR Codes from being valid, as sentences naming the settings."""
    problems = []
    key_problem = pix_key_problem(receiver.key)
    if key_problem:
        problems.append(f"BILLING_PIX_KEY {receiver.key!r}: {key_problem}")
    if not ascii_text(receiver.merchant_name, MERCHANT_NAME_LENGTH):
        problems.append("the PIX merchant name (BILLING_PIX_MERCHANT_NAME, else BILLING_BENEFICIARY_NAME) has no "
                        "letters left once unaccented")
    city = ascii_text(receiver.merchant_city, 99)
    if not city or len(city) > MERCHANT_CITY_LENGTH:
        problems.append(f"BILLING_PIX_MERCHANT_CITY must have 1 to {MERCHANT_CITY_LENGTH} characters once "
                        f"unaccented: {receiver.merchant_city!r}")
    if not problems and len(longest_brcode(receiver)) > PAYLOAD_LENGTH:
        problems.append(f"the PIX payload would exceed {PAYLOAD_LENGTH} characters")
    return problems
