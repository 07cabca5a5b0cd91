"""How a boleto and its debt are named in a CNAB title, so a retorno finds them again.

Two free fields of the P segment carry our identifiers, and banks echo both back in the T segment:

- *seu número* (P 63-77, 15 characters; T 59-73): the boleto's sequence number in decimal. Sequences are unique
  per beneficiary account, so this is too, and a person reading the bank's portal sees the same number as on the
  boleto.
- *uso da empresa* / identificação do título na empresa (P 196-220, 25 characters; T 106-130): the debt's UUID.
  A UUID is 128 bits and 2**128 < 36**25, so it fits as exactly 25 base-36 digits (0-9, A-Z); uppercase because
  banks uppercase free text, and without padding so any value that is not 25 such characters is not ours.

Both directions are vectorised (numpy over a uint8 matrix, 32-bit limbs held in uint64), because a remessa or a
retorno can hold a million titles.

>>> company_use(["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"]).tolist()
['0000000000000000000000000', 'F5LXX1ZZ5PNORYNQGLHZMSP33']
>>> debt_ids_from_company_use(["F5LXX1ZZ5PNORYNQGLHZMSP33", "F5LXX1ZZ5PNORYNQGLHZMSP34", "12345", None]).tolist()
['ffffffff-ffff-ffff-ffff-ffffffffffff', None, None, None]
>>> seu_numero([1, 42, 999_999_999_999_999]).tolist()
['1', '42', '999999999999999']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

SEU_NUMERO_WIDTH = 15
COMPANY_USE_WIDTH = 25
_MAX_SEU_NUMERO = 10**SEU_NUMERO_WIDTH - 1

_BASE36 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)
_HEX_COLUMNS = np.array([i for i in range(36) if i not in _DASHES])
_UINT32_MASK = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
# 36**6 < 2**32: a remainder below it shifted by 32 bits plus a limb still fits in uint64, so one division step
# yields six base-36 digits at once (4 steps + 1 digit = 25).
_CHUNK = 36**6
_CHUNK_U64 = np.uint64(_CHUNK)


def _lookup(alphabet: bytes, *, ignore_case: bool = False) -> npt.NDArray[np.int16]:
    table = np.full(256, -1, dtype=np.int16)
    for value, char in enumerate(alphabet):
        table[char] = value
        if ignore_case:
            table[ord(chr(char).lower())] = value
            table[ord(chr(char).upper())] = value
    return table


_BASE36_VALUE = _lookup(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def seu_numero(sequences: Iterable[int] | npt.ArrayLike) -> npt.NDArray[np.object_]:
    """The seu número of each boleto: its sequence in decimal, no padding (banks pad or not as they like).

    >>> seu_numero(np.array([7, 123456], dtype=np.int64)).tolist()
    ['7', '123456']
    >>> seu_numero([10**15])
    Traceback (most recent call last):
    ...
    ValueError: seu número has 15 characters at most; sequence 1000000000000000 does not fit
    """
    values = np.asarray(sequences, dtype=np.int64)
    if values.size:
        if (values < 0).any():
            raise ValueError(f"a boleto sequence is not negative; got {int(values.min())}")
        if (values > _MAX_SEU_NUMERO).any():
            raise ValueError(
                f"seu número has {SEU_NUMERO_WIDTH} characters at most; sequence {int(values.max())} does not fit"
            )
    return values.astype(str).astype(object)


def _ascii_rows(texts: list[str], width: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8]]:
    """Which texts are `width` ASCII characters, and those rows as a uint8 matrix (one join, no per-row numpy)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    fits = lengths == width
    chosen = texts if fits.all() else [text for text, ok in zip(texts, fits, strict=True) if ok]
    try:
        buffer = "".join(chosen).encode("ascii")
    except UnicodeEncodeError:
        ascii_rows = np.fromiter((text.isascii() for text in texts), dtype=bool, count=len(texts))
        fits &= ascii_rows
        buffer = "".join(text for text, ok in zip(texts, fits, strict=True) if ok).encode("ascii")
    return fits, np.frombuffer(buffer, dtype=np.uint8).reshape(-1, width)


def _split_fixed(matrix: npt.NDArray[np.uint8]) -> npt.NDArray[np.object_]:
    """The rows of an ASCII matrix as Python strs (through numpy's UCS-4 strings, not a Python loop)."""
    count, width = matrix.shape
    if count == 0:
        return np.zeros(0, dtype=object)
    return np.ascontiguousarray(matrix, dtype="<u4").view(f"<U{width}").ravel().astype(object)


def _as_texts(values: Iterable[Any]) -> list[str]:
    texts = list(values)
    try:
        "".join(texts)  # the cheap check that every value is already a str
    except TypeError:
        texts = [value if isinstance(value, str) else str(value) for value in texts]
    return texts


def _uuid_limbs(debt_ids: Iterable[Any]) -> list[npt.NDArray[np.uint64]]:
    """The four 32-bit limbs of each UUID, most significant first."""
    texts = _as_texts(debt_ids)
    fits, matrix = _ascii_rows(texts, 36)
    dashed = fits.all() and bool((matrix[:, list(_DASHES)] == ord("-")).all())
    packed = b""
    if dashed:
        try:
            # bytes.fromhex skips whitespace, so a blank instead of a digit shows up as a short result.
            packed = bytes.fromhex(matrix.tobytes().decode("ascii").replace("-", ""))
        except ValueError:
            packed = b""
    if len(packed) != 16 * len(texts):
        for text in texts:
            if len(text) != 36 or text.count("-") != 4 or [i for i, c in enumerate(text) if c == "-"] != list(_DASHES):
                break
            try:
                bytes.fromhex(text.replace("-", ""))
            except ValueError:
                break
        raise ValueError(f"debt id {text!r} is not a canonical UUID (8-4-4-4-12 hexadecimal digits)")
    words = np.frombuffer(packed, dtype=">u4").reshape(len(texts), 4).astype(np.uint64)
    return [words[:, i].copy() for i in range(4)]


def company_use(debt_ids: Iterable[Any]) -> npt.NDArray[np.object_]:
    """Each debt id (a canonical UUID, any case, or a uuid.UUID) as 25 uppercase base-36 characters.

    Raises ValueError for a value that is not a canonical UUID: debt ids come from our own store.

    >>> company_use(["0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2b3c4"]).tolist()
    ['0OH7G2LLXZNXDUHFPWBKFF4JO']
    >>> company_use(["0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2b3c"])
    Traceback (most recent call last):
    ...
    ValueError: debt id '0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2b3c' is not a canonical UUID (8-4-4-4-12 hexadecimal digits)
    """
    limbs = _uuid_limbs(debt_ids)
    count = limbs[0].shape[0]
    out = np.empty((count, COMPANY_USE_WIDTH), dtype=np.uint8)
    column = COMPANY_USE_WIDTH
    for _ in range(4):
        remainder = np.zeros(count, dtype=np.uint64)
        for i in range(4):
            current = (remainder << _SHIFT32) | limbs[i]
            limbs[i] = current // _CHUNK_U64
            remainder = current - limbs[i] * _CHUNK_U64
        for _ in range(6):
            column -= 1
            quotient = remainder // np.uint64(36)
            out[:, column] = _BASE36[(remainder - quotient * np.uint64(36)).astype(np.intp)]
            remainder = quotient
    # What is left is below 36 because 2**128 < 36**25: the leading digit.
    out[:, 0] = _BASE36[limbs[3].astype(np.intp)]
    return _split_fixed(out)


def debt_ids_from_company_use(values: Iterable[Any]) -> npt.NDArray[np.object_]:
    """Back from uso da empresa to the canonical lowercase UUID; None where the value is not one of ours.

    Ours are exactly 25 uppercase base-36 characters below 2**128 (blanks around them are ignored, since a
    bank may pad or strip the field).

    >>> debt_ids_from_company_use(["0OH7G2LLXZNXDUHFPWBKFF4JO ", "ZZZZZZZZZZZZZZZZZZZZZZZZZ", "0oh7g2llxznxduhfpwbkff4jo"]).tolist()
    ['0b7c2d1e-9f3a-4c5b-8d6e-7f8091a2b3c4', None, None]
    """
    texts = [value if type(value) is str else "" for value in values]
    result = np.full(len(texts), None, dtype=object)
    if not texts:
        return result
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    for row in np.flatnonzero(lengths != COMPANY_USE_WIDTH):
        texts[row] = texts[row].strip()
    fits, matrix = _ascii_rows(texts, COMPANY_USE_WIDTH)
    rows = np.flatnonzero(fits)
    # Column-major, so each digit position is one contiguous run.
    digits = _BASE36_VALUE[np.ascontiguousarray(matrix.T)]
    valid = digits.min(axis=0) >= 0
    # Least significant limb first while multiplying up: one leading digit, then four groups of six.
    limbs: list[npt.NDArray[np.uint64]] = [np.zeros(len(rows), dtype=np.uint64) for _ in range(4)]
    thirty_six = np.uint64(36)
    for start, stop in [(0, 1)] + [(1 + 6 * i, 7 + 6 * i) for i in range(4)]:
        # A -1 (not base 36) wraps around in uint64; those rows are not valid anyway.
        carry: npt.NDArray[np.uint64] = digits[start].astype(np.uint64)
        for column in range(start + 1, stop):
            carry = (carry * thirty_six + digits[column].astype(np.uint64)).astype(np.uint64, copy=False)
        multiplier = np.uint64(36 ** (stop - start))
        for i in range(4):
            current = limbs[i] * multiplier + carry
            limbs[i] = (current & _UINT32_MASK).astype(np.uint64, copy=False)
            carry = (current >> _SHIFT32).astype(np.uint64, copy=False)
        valid &= carry == 0
    words = np.stack(limbs[::-1], axis=1).astype(">u4")
    hexdigits = np.frombuffer(words.tobytes().hex().encode("ascii"), dtype=np.uint8).reshape(len(rows), 32)
    text = np.full((len(rows), 36), ord("-"), dtype=np.uint8)
    text[:, _HEX_COLUMNS] = hexdigits
    result[rows[valid]] = _split_fixed(text[valid])
    return result
