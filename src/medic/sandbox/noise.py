"""Deterministic randomness: every draw is a hash of the seed and what it is for.

No generator state means any value can be computed on its own, in any order, by any
thread: a query for one window returns exactly what a query for a larger window
returned for the same instants.
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache

__all__ = ["gauss", "gauss_pair", "signed", "token", "uniform"]

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no 0/1/3).
_K8S_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# Names, placements and baselines are asked for again and again; step noise is not.
@lru_cache(maxsize=1 << 16)
def _digest(seed: int, parts: tuple[object, ...]) -> bytes:
    text = "\x1f".join([str(seed), *(str(p) for p in parts)])
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def uniform(seed: int, *parts: object) -> float:
    """In [0, 1)."""
    return int.from_bytes(_digest(seed, parts)[:8], "big") / 2.0**64


def signed(seed: int, *parts: object) -> float:
    """In [-1, 1)."""
    return 2.0 * uniform(seed, *parts) - 1.0


def gauss(seed: int, *parts: object) -> float:
    """Standard normal (Box-Muller), clipped to +-4 so one draw never looks like a fault."""
    raw = _digest(seed, parts)
    u1 = (int.from_bytes(raw[:8], "big") + 1) / (2.0**64 + 1)
    u2 = int.from_bytes(raw[8:], "big") / 2.0**64
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return max(-4.0, min(4.0, z))


def token(seed: int, length: int, *parts: object) -> str:
    """A name fragment like Kubernetes generates (`7d9f8b6c4`, `x2k9p`)."""
    number = int.from_bytes(_digest(seed, parts), "big")
    out = []
    for _ in range(length):
        number, index = divmod(number, len(_K8S_ALPHABET))
        out.append(_K8S_ALPHABET[index])
    return "".join(out)


def gauss_pair(seed: int, *parts: object) -> tuple[float, float]:
    """Two independent standard normals from one draw (both halves of Box-Muller)."""
    raw = _digest(seed, parts)
    u1 = (int.from_bytes(raw[:8], "big") + 1) / (2.0**64 + 1)
    u2 = int.from_bytes(raw[8:], "big") / 2.0**64
    r = math.sqrt(-2.0 * math.log(u1))
    angle = 2.0 * math.pi * u2
    return max(-4.0, min(4.0, r * math.cos(angle))), max(-4.0, min(4.0, r * math.sin(angle)))
