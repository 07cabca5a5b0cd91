"""QR codes for the boleto's PIX box in tens of microseconds: segno's symbol, precomputed as XOR tables.

segno builds a QR code module by module in pure Python: about 5 ms for a BR Code even with its version and mask
fixed (its mask evaluation skipped), ten times a whole PDF's budget. With the version, the error correction
level (M) and the mask fixed, though, a QR code is an affine function over GF(2) of its data codewords: the
Reed-Solomon codewords are GF(256)-linear in them, interleaving and placement only move bits, and the function
patterns, the mask, the format and the version information are the same for every code. So `FixedQrEncoder`
takes from segno, once, the symbol of an all-zero message and where each message bit lands; computes each data
codeword bit's effect on the whole symbol; and then builds every code as the XOR of one table entry per data
nibble. The tests check its modules against segno.make's for the same version, level and mask.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

import numpy as np
from segno import consts, encoder

ERROR_LEVEL = consts.ERROR_LEVEL_M
MASK = 4  # any mask is valid (ISO/IEC 18004 7.8.2); a fixed one spares the penalty evaluation of every code
_MODE_BYTE = 0b0100
_PAD_CODEWORDS = bytes((0xEC, 0x11))
# The XOR of each run of 8 codewords is kept: a receiver's payloads share their key, name and city, and the
# padding of a payload length, so most runs repeat from boleto to boleto. 4096 runs are about 2 MB.
_CHUNK, _MEMO_ENTRIES = 8, 4096
# segno's tables, typed (its consts module is not annotated): bits of data by version and level, the blocks.
_CAPACITY_BITS = cast("dict[int, dict[int, int]]", consts.SYMBOL_CAPACITY)
_BLOCKS = cast("dict[int, dict[int, tuple[Any, ...]]]", consts.ECC)


def version_for_length(length: int) -> int:
    """The smallest version whose level-M byte mode holds `length` bytes: fix it for the longest payload a
    receiver's boletos can carry, and every shorter payload fits it too.

    >>> version_for_length(176), version_for_length(240)
    (9, 11)
    """
    for version in range(1, 41):
        count_bits = consts.CHAR_COUNT_INDICATOR_LENGTH[consts.MODE_BYTE][encoder.version_range(version)]
        if 4 + count_bits + 8 * length <= _CAPACITY_BITS[version][ERROR_LEVEL]:
            return version
    raise ValueError(f"{length} bytes do not fit any QR code at level M")


class FixedQrEncoder:
    """QR codes of one version at level M with one mask, byte mode, module for module as segno draws them."""

    def __init__(self, version: int, mask: int = MASK):
        self.version, self.mask = version, mask
        self.size = encoder.calc_matrix_size(version)
        blocks = _BLOCKS[version][ERROR_LEVEL]
        self._capacity_bits = _CAPACITY_BITS[version][ERROR_LEVEL]
        self._data_codewords = self._capacity_bits // 8
        self._count_bits = consts.CHAR_COUNT_INDICATOR_LENGTH[consts.MODE_BYTE][encoder.version_range(version)]
        final_bits = len(encoder.make_final_message(version, ERROR_LEVEL, encoder.Buffer([0] * self._capacity_bits)))

        base = self._symbol([0] * final_bits)
        # Where message bit i lands: each pass writes bit k of i + 1 into every message module (0: not a message
        # module), so a dozen passes of segno's own placement give the whole permutation.
        landing = np.zeros(self.size * self.size, dtype=np.int64)
        for k in range((final_bits + 1).bit_length()):
            plane = self._symbol([((i + 1) >> k) & 1 for i in range(final_bits)]) ^ base
            landing |= plane.astype(np.int64) << k
        module_of_bit = np.empty(final_bits, dtype=np.int64)
        placed = landing > 0
        module_of_bit[landing[placed] - 1] = np.flatnonzero(placed)

        # The symbol as an int, row after row, each row after a light separator bit and one more at the end: a
        # run of dark modules then starts and ends where the int's bits change, which two shifts find.
        size = self.size
        self._bits = size * (size + 1) + 1
        spread = (np.arange(size * size) // size) * (size + 1) + np.arange(size * size) % size + 1
        effects = _message_effects(blocks, final_bits)  # (data bits, message bits): what each data bit flips
        symbol_effects = np.zeros((effects.shape[0], self._bits), dtype=np.uint8)
        symbol_effects[:, spread[module_of_bit]] = effects
        packed = np.packbits(symbol_effects, axis=1)
        spread_base = np.zeros(self._bits, dtype=np.uint8)
        spread_base[spread] = base
        self._base = int.from_bytes(np.packbits(spread_base).tobytes(), "big")
        self._symbol_bytes = packed.shape[1]
        self._nibbles = [_nibble_table(packed[4 * n:4 * n + 4]) for n in range(self._data_codewords * 2)]
        self._memo: dict[tuple[int, bytes], int] = {}

    def _symbol(self, message: list[int]) -> np.ndarray:
        width = self.size
        matrix = encoder.make_matrix(width, width)
        encoder.add_finder_patterns(matrix, width, width)
        encoder.add_alignment_patterns(matrix, width, width)
        encoder.add_codewords(matrix, message, self.version)
        _, matrix = encoder.find_and_apply_best_mask(matrix, width, width, self.mask)
        encoder.add_format_info(matrix, self.version, ERROR_LEVEL, self.mask)
        encoder.add_version_info(matrix, self.version)
        return np.frombuffer(b"".join(matrix), dtype=np.uint8).copy()

    def codewords(self, data: bytes) -> bytes:
        """The data codewords of one byte-mode segment: mode, count, data, terminator, then the padding."""
        header_bits = 4 + self._count_bits
        bits = header_bits + 8 * len(data)
        if bits > self._capacity_bits or len(data) >= 1 << self._count_bits:
            raise ValueError(f"{len(data)} bytes do not fit a version {self.version}-M QR code")
        stream = ((_MODE_BYTE << self._count_bits | len(data)) << 8 * len(data)) | int.from_bytes(data, "big")
        terminator = min(self._capacity_bits - bits, 4)
        stream, bits = stream << terminator, bits + terminator
        # segno then always adds padding bits, a whole zero codeword when the stream already ends on a boundary;
        # readers stop at the terminator, and matching segno keeps every module comparable with it.
        padding = 8 - bits % 8
        stream, bits = stream << padding, bits + padding
        written = stream.to_bytes(bits // 8, "big")[:self._data_codewords]
        pad = self._data_codewords - len(written)
        return written + (_PAD_CODEWORDS * (pad // 2 + 1))[:pad]

    def matrix(self, data: bytes) -> np.ndarray:
        """The symbol's modules (1 = dark), size x size, without the quiet zone."""
        modules = self._unpacked(self._symbol_of(data))[:self._bits - 1]
        return modules.reshape(self.size, self.size + 1)[:, 1:]

    def dark_runs(self, data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, first column, width) of every run of dark modules, row by row: one rectangle each to draw."""
        symbol = self._symbol_of(data)
        first = np.flatnonzero(self._unpacked(symbol & ~(symbol >> 1)))  # dark, its left neighbour light
        last = np.flatnonzero(self._unpacked(symbol & ~(symbol << 1)))  # dark, its right neighbour light
        rows, columns = np.divmod(first, self.size + 1)
        return rows, columns - 1, last - first + 1

    def _unpacked(self, symbol: int) -> np.ndarray:
        return np.unpackbits(np.frombuffer(symbol.to_bytes(self._symbol_bytes + 1, "big")[1:], dtype=np.uint8))

    def _symbol_of(self, data: bytes) -> int:
        codewords = self.codewords(data)
        memo = self._memo
        if len(memo) > _MEMO_ENTRIES:
            memo.clear()
        symbol = self._base
        for start in range(0, len(codewords), _CHUNK):
            key = (start, codewords[start:start + _CHUNK])
            part = memo.get(key)
            if part is None:
                part = 0
                for table, digit in zip(self._nibbles[2 * start:2 * start + 2 * _CHUNK], key[1].hex(), strict=True):
                    part ^= table[digit]
                memo[key] = part
            symbol ^= part
        return symbol


@lru_cache(maxsize=8)
def fixed_encoder(version: int, mask: int = MASK) -> FixedQrEncoder:
    """Building the tables takes a few tens of milliseconds: once per version and process."""
    return FixedQrEncoder(version, mask)


def _message_effects(blocks, final_bits: int) -> np.ndarray:
    """(data codeword bits, final message bits): the bits of the final message (ISO/IEC 18004 7.6: data
    codewords interleaved across blocks, then their Reed-Solomon codewords interleaved) one data bit sets."""
    layout = [(ec.num_data, ec.num_total - ec.num_data) for ec in blocks for _ in range(ec.num_blocks)]
    data_total = sum(data for data, _ in layout)
    # The final message's codeword index of each block's data and error codewords.
    data_index: list[list[int]] = [[] for _ in layout]
    error_index: list[list[int]] = [[] for _ in layout]
    at = 0
    for offset in range(max(data for data, _ in layout)):
        for block, (data, _) in enumerate(layout):
            if offset < data:
                data_index[block].append(at)
                at += 1
    for offset in range(max(error for _, error in layout)):
        for block, (_, error) in enumerate(layout):
            if offset < error:
                error_index[block].append(at)
                at += 1
    effects = np.zeros((data_total * 8, final_bits), dtype=np.uint8)
    bit_weights = 0x80 >> np.arange(8)
    row = 0
    for block, (data, error) in enumerate(layout):
        error_bits = (8 * np.array(error_index[block])[:, None] + np.arange(8)).ravel()
        for offset in range(data):
            unit = np.frombuffer(_error_codewords_of_unit(data, error, offset), dtype=np.uint8)
            for bit, weight in enumerate(bit_weights):
                effects[row, 8 * data_index[block][offset] + bit] = 1
                effects[row, error_bits] = np.unpackbits(_GF_PRODUCTS[weight, unit])
                row += 1
    return effects


def _error_codewords_of_unit(data: int, error: int, offset: int) -> bytearray:
    """The Reed-Solomon codewords of a block whose only non-zero data codeword is a 1 at `offset` (segno's
    generator polynomials and Galois tables, its synthetic division)."""
    generator = consts.GEN_POLY[error]
    block = bytearray(data + error)
    block[offset] = 1
    for k in range(data):
        coefficient = block[k]
        if coefficient:
            log = consts.GALIOS_LOG[coefficient]
            for n in range(error):
                block[k + n + 1] ^= consts.GALIOS_EXP[log + generator[n]]
    return block[data:]


def _gf_products() -> np.ndarray:
    """GF(256) multiplication as a 256 x 256 table, from segno's log and antilog tables."""
    log = np.array([0, *consts.GALIOS_LOG[1:256]], dtype=np.int64)
    exp = np.array(consts.GALIOS_EXP[:255], dtype=np.uint8)
    products = exp[(log[:, None] + log[None, :]) % 255]
    products[0, :] = products[:, 0] = 0
    return products


_GF_PRODUCTS = _gf_products()


def _nibble_table(bit_effects: np.ndarray) -> dict[str, int]:
    """The symbol bits each of the 16 values of one nibble flips, from the effects of its 4 bits (MSB first),
    keyed by the nibble's hex digit: the codewords' bytes.hex() then walks the tables directly."""
    table = [np.zeros(bit_effects.shape[1], dtype=np.uint8)]
    for value in range(1, 16):
        lowest = value & -value
        table.append(table[value ^ lowest] ^ bit_effects[3 - (lowest.bit_length() - 1)])
    return {f"{value:x}": int.from_bytes(entry.tobytes(), "big") for value, entry in enumerate(table)}
