"""Seeded random generators: every random choice of the simulation derives from the seed."""

import random


def seeded(*keys: object) -> random.Random:
    """A generator seeded by `keys` (seed, purpose, name...): stable across runs and machines.

    String seeds are hashed with SHA-512 by `random`, so neither PYTHONHASHSEED nor the order in
    which generators are created changes what they draw.
    """
    return random.Random(":".join(str(key) for key in keys))  # noqa: S311 - simulation, not secrets
