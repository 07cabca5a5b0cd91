"""Free text as CNAB alphanumeric fields take it: uppercase ASCII without accents, exactly the field's width.

FEBRABAN's layout (item "Campos alfanuméricos") asks for uppercase letters without accents or special
characters, left-aligned and blank-filled; banks reject or garble anything else. Accents are dropped by
decomposing (NFKD) and removing the combining marks, so "Ç" becomes "C" and "º"/"ª" become "O"/"A"; what has no
ASCII form becomes a blank, so one odd character never shifts the following fields.

>>> cnab_text_one("José da Conceição, nº 12", 26)
'JOSE DA CONCEICAO, NO 12  '
>>> cnab_text(pd.Series(["Ação", None, "Straße 1ª"]), 8).tolist()
['ACAO    ', '        ', 'STRASSE ']
>>> cnab_text_block(pd.Series(["Ação", None, "Straße 1ª"]), 8).tobytes()
b'ACAO            STRASSE '
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa

# Letters with no decomposition in Unicode but an obvious ASCII spelling in Portuguese-speaking names.
_TRANSLATE = str.maketrans(
    {"Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Œ": "OE", "œ": "oe", "Đ": "D", "đ": "d", "Ł": "L", "ł": "l",
     "ß": "ss", "Þ": "TH", "þ": "th", "ð": "d", "Ð": "D", "ı": "i"}
)
_COMBINING = r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_NOT_PRINTABLE_ASCII = r"[^\x20-\x7e]"
_COMBINING_RE = re.compile(_COMBINING)
_NOT_PRINTABLE_ASCII_RE = re.compile(_NOT_PRINTABLE_ASCII)


def cnab_text_one(value: object, width: int) -> str:
    """One value as a CNAB alphanumeric field of `width` characters (None and NaN are blank).

    >>> cnab_text_one("Avenida São João\\t1.000 – apto 5º", 40)
    'AVENIDA SAO JOAO 1.000   APTO 5O        '
    >>> cnab_text_one("Œuvre Ångström", 5)
    'OEUVR'
    >>> cnab_text_one(None, 3)
    '   '
    """
    if value is None or (isinstance(value, float) and value != value):
        return " " * width
    text = unicodedata.normalize("NFKD", str(value))
    text = _COMBINING_RE.sub("", text).translate(_TRANSLATE).upper()
    text = _NOT_PRINTABLE_ASCII_RE.sub(" ", text)
    return text[:width].ljust(width)


def cnab_text(series: pd.Series, width: int) -> pd.Series:
    """Every value of `series` as a CNAB alphanumeric field of `width` characters (vectorised).

    Missing values become blanks; the index is kept.

    >>> cnab_text(pd.Series(["maçã", "ÀÉÎÕÜ ç", 12]), 5).tolist()
    ['MACA ', 'AEIOU', '12   ']
    """
    text = series.astype(object).where(series.notna(), "").astype(str)
    # Plain ASCII (most names and addresses once typed on a keyboard) needs no decomposition.
    needs_unicode = ~text.str.fullmatch(r"[\x20-\x7e]*").astype(bool)
    if needs_unicode.any():
        special = text[needs_unicode].str.normalize("NFKD").str.replace(_COMBINING, "", regex=True)
        text = text.copy()
        text[needs_unicode] = special.str.translate(_TRANSLATE)
    text = text.str.upper()
    if needs_unicode.any():
        text = text.str.replace(_NOT_PRINTABLE_ASCII, " ", regex=True)
    return text.str.slice(0, width).str.ljust(width)


# --- the same text as fixed-width bytes, for the writer's byte matrices --------------------------------------------

def _latin1_table() -> tuple[np.ndarray, np.ndarray]:
    """What `cnab_text` makes of each Latin-1 character, where that is one character (nearly all: "É" -> "E",
    "º" -> "O", "a" -> "A"); "ß" or "Æ" spell two, and the values holding them go through `cnab_text` itself."""
    table, one_to_one = np.zeros(256, dtype=np.uint8), np.zeros(256, dtype=bool)
    for code in range(256):
        text = cnab_text_one(chr(code), 3)
        if text[1:] == "  ":
            table[code], one_to_one[code] = ord(text[0]), True
    return table, one_to_one


_TABLE, _ONE_TO_ONE = _latin1_table()
_TABLE_BYTES = _TABLE.tobytes()
_SPACE = 0x20


def cnab_text_block(series: pd.Series, width: int) -> np.ndarray:
    """`cnab_text(series, width)` as an (n, width) uint8 matrix of its ASCII bytes, without a Python string per value
    (see `TextColumn`)."""
    return TextColumn(series).block(width)


class TextColumn:
    """A column of free text, written as CNAB text a block of rows at a time (`block`), exactly as `cnab_text`
    makes it.

    The values are worked on as one buffer: decoded from UTF-8 and encoded to Latin-1 at once (one byte a
    character), translated through `_TABLE` (every character of Latin-1 but a few, "ß" or "Æ", becomes one), then
    each value is cut or blank-filled to the width. The values holding any other character (outside Latin-1, or
    spelt with two letters) go through `cnab_text` itself.
    """

    def __init__(self, series: pd.Series) -> None:
        self._series = series.reset_index(drop=True)
        self._array = _arrow_strings(self._series)

    def __len__(self) -> int:
        return len(self._series)

    def block(self, width: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows `start:stop` as an (rows, width) uint8 matrix."""
        stop = len(self._series) if stop is None else min(stop, len(self._series))
        rows = max(stop - start, 0)
        if width <= 0 or rows == 0:
            return np.zeros((rows, max(width, 0)), dtype=np.uint8)
        if self._array is None:
            return _encode(cnab_text(self._series.iloc[start:stop], width).to_numpy(dtype=str), width)
        array = self._array.slice(start, rows)
        byte_offsets, data = _buffers(array)
        raw = data.tobytes()
        offsets, slow = byte_offsets, _NO_ROWS
        if raw.isascii():
            chars = np.frombuffer(raw.translate(_TABLE_BYTES), dtype=np.uint8)
        else:
            text = raw.decode("utf-8")
            try:
                latin = text.encode("latin-1")
            except UnicodeEncodeError:  # "?" for what Latin-1 lacks: those values take the slow path
                latin = text.encode("latin-1", "replace")
                slow = np.searchsorted(byte_offsets, np.flatnonzero(data >= 0xC4), side="right") - 1
            # a character's offset: its byte's, less the continuation bytes (10xxxxxx) before it
            continuations = np.zeros(len(data) + 1, dtype=np.int64)
            np.cumsum((data & 0xC0) == 0x80, out=continuations[1:])
            offsets = byte_offsets - continuations[byte_offsets]
            translated = latin.translate(_TABLE_OR_MARK)
            chars = np.frombuffer(translated, dtype=np.uint8)
            if _MARK in translated:  # spelt with two letters ("ß" is "SS")
                two_letters = np.searchsorted(offsets, np.flatnonzero(chars == _MARK[0]), side="right") - 1
                slow = np.concatenate([slow, two_letters])
        block = fixed_width(chars, offsets, width)
        if len(slow):
            slow = np.unique(slow)
            values = self._series.iloc[start + slow]
            block[slow] = _encode(cnab_text(values, width).to_numpy(dtype=str), width)
        return block


_NO_ROWS = np.zeros(0, dtype=np.intp)
_MARK = b"\xff"
"""Where `_TABLE_OR_MARK` meets a character `_TABLE` cannot do (`_TABLE` only yields printable ASCII)."""
_TABLE_OR_MARK = bytes(int(code) if one else _MARK[0] for code, one in zip(_TABLE, _ONE_TO_ONE, strict=True))


def _arrow_strings(series: pd.Series) -> pa.LargeStringArray | None:
    """The values as str, missing ones empty, in Arrow; None when Arrow cannot hold them."""
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype(object).where(series.notna(), "").astype(str)
    try:
        array = pa.array(series, from_pandas=True)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.null_count:
            array = array.fill_null("")
        if array.type != pa.large_string():
            array = array.cast(pa.large_string())
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return array


def _buffers(array: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """(offsets from 0, UTF-8 bytes) of an Arrow large_string array."""
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset:array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    return offsets - offsets[0], data[offsets[0]:offsets[-1]]


_LANE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_SPACES = np.uint64(0x2020202020202020)


def fixed_width(chars: np.ndarray, offsets: np.ndarray, width: int) -> np.ndarray:
    """Values laid end to end (`chars`, value i at `offsets[i]:offsets[i + 1]`) as an (n, width) matrix, each cut or
    blank-filled to the width.

    >>> fixed_width(np.frombuffer(b"ABCDEFG", dtype=np.uint8), np.array([0, 2, 2, 7]), 3).tobytes()
    b'AB    CDE'
    """
    n = len(offsets) - 1
    if width == 0 or n == 0:
        return np.zeros((n, width), dtype=np.uint8)
    lanes = -(-width // 8)
    source = np.concatenate([chars, np.full(lanes * 8, _SPACE, dtype=np.uint8)])
    # every window of 8 * lanes bytes of the source, as one item: the rows are a plain take of these items
    windows = np.ndarray((len(chars) + 1,), dtype=f"V{lanes * 8}", buffer=source, strides=(1,))
    words = windows[offsets[:-1]].view(np.uint64).reshape(n, lanes)
    # blank what lies beyond each value, 8 bytes at a time: lane k keeps min(length - 8k, 8) bytes (lane by lane,
    # as 1-d loops: numpy's inner loops over a few lanes would cost more than the work)
    lengths = np.diff(offsets)
    shortest = lengths.min()
    for lane in range(lanes):
        if shortest >= 8 * (lane + 1):  # every value fills this lane
            continue
        masks = _LANE_MASKS[np.clip(lengths - 8 * lane, 0, 8)]
        words[:, lane] &= masks
        words[:, lane] |= _SPACES & ~masks
    return words.view(np.uint8)[:, :width]


def _encode(values: np.ndarray, width: int) -> np.ndarray:
    """CNAB text (ASCII, `width` characters each) -> (n, width) bytes."""
    codes = np.asarray(values, dtype=f"U{width}").view(np.uint32).reshape(-1, width)
    out = codes.astype(np.uint8)
    out[codes == 0] = _SPACE
    return out
