"""The FEBRABAN check digits, for one number (a digit string) or many at once (a matrix of digits, one row each).

Digit matrices are uint8 so that a chunk's 44-digit barcodes stay small in memory; weights run from the
rightmost digit leftwards, as the banks' manuals state them.
"""

from __future__ import annotations

import numpy as np


def digits_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers -> (n, width) uint8 matrix of decimal digits, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((np.asarray(values, dtype=np.int64)[:, None] // powers) % 10).astype(np.uint8)


def string_digits(text: str) -> np.ndarray:
    return (np.frombuffer(text.encode("ascii"), dtype=np.uint8) - 48)[None, :]


def matrix_strings(digits: np.ndarray) -> np.ndarray:
    """(n, k) digit matrix -> array of n strings of k characters."""
    return ascii_strings(digits + np.uint8(48))


def ascii_strings(codes: np.ndarray) -> np.ndarray:
    """(n, k) matrix of ASCII codes -> array of n strings."""
    width = codes.shape[1]
    return np.ascontiguousarray(codes, dtype=np.uint8).view(f"S{width}").ravel().astype(f"U{width}")


def _cyclic_weights(width: int, cycle: list[int]) -> np.ndarray:
    from_right = np.array([cycle[i % len(cycle)] for i in range(width)], dtype=np.int32)
    return from_right[::-1].copy()


def mod10_many(digits: np.ndarray) -> np.ndarray:
    """Módulo 10 (weights 2,1,2,1… from the right; a two-digit product adds its digits; 10 -> 0)."""
    weights = _cyclic_weights(digits.shape[1], [2, 1])
    doubled = (weights == 2).astype(np.int32)
    # digit sum of 2*d is 2*d - 9 exactly when d >= 5
    total = digits @ weights - 9 * ((digits >= 5).astype(np.int32) @ doubled)
    return ((10 - total % 10) % 10).astype(np.uint8)


def mod11_sum_many(digits: np.ndarray, cycle: list[int]) -> np.ndarray:
    return digits @ _cyclic_weights(digits.shape[1], cycle)


def general_dv_many(digits43: np.ndarray) -> np.ndarray:
    """The barcode's general check digit: módulo 11, weights 2..9; results 0, 10 and 11 become 1."""
    result = 11 - mod11_sum_many(digits43, list(range(2, 10))) % 11
    return np.where((result == 0) | (result >= 10), 1, result).astype(np.uint8)


def mod11_zero_many(digits: np.ndarray) -> np.ndarray:
    """Módulo 11 with weights 2..9, 11 - remainder, where 10 and 11 become 0 (Caixa's and Santander's DVs)."""
    result = 11 - mod11_sum_many(digits, list(range(2, 10))) % 11
    return np.where(result >= 10, 0, result).astype(np.uint8)


def mod10(number: str) -> int:
    return int(mod10_many(string_digits(number))[0])


def general_dv(number43: str) -> int:
    return int(general_dv_many(string_digits(number43))[0])


def mod11_sum(number: str, cycle: list[int]) -> int:
    return int(mod11_sum_many(string_digits(number), cycle)[0])
