"""Record ids with a dataset prefix (``SR-0000123``), formatted for whole arrays at once."""
from __future__ import annotations

import numpy as np


def format_ids(prefix: str, numbers, width: int) -> np.ndarray:
    """``prefix`` + zero-padded ``numbers`` (wider numbers keep all their digits)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size == 0:
        return np.empty(numbers.shape, dtype=f"<U{len(prefix) + width}")
    return np.strings.add(prefix, np.strings.zfill(numbers.astype(str), width))
