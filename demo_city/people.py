"""Fictional people for the PII columns (names, e-mails, phones); drawn from short lists, never real persons.

Phone numbers use the 555-01xx block, which North American numbering reserves for fiction.
"""
from __future__ import annotations

import numpy as np

FIRST_NAMES = [
    "Aisha", "Ben", "Carmen", "Darnell", "Elena", "Farid", "Grace", "Hector", "Imani", "Jamal",
    "Keisha", "Luis", "Maya", "Nathan", "Olivia", "Priya", "Quentin", "Rosa", "Samuel", "Tanya",
    "Umar", "Valerie", "Walter", "Xiomara", "Yusuf", "Zoe", "Andre", "Bianca", "Curtis", "Denise",
    "Ethan", "Fatima", "Gordon", "Hannah", "Isaac", "Janelle", "Kevin", "Lena", "Marcus", "Nadia",
]
LAST_NAMES = [
    "Alvarez", "Brooks", "Chen", "Dawson", "Ellis", "Foster", "Garcia", "Hughes", "Ibrahim", "Jackson",
    "Kim", "Lopez", "Mitchell", "Nguyen", "Owens", "Patel", "Quinn", "Robinson", "Singh", "Thompson",
    "Underwood", "Vasquez", "Washington", "Xu", "Young", "Zimmerman", "Baker", "Coleman", "Diaz", "Evans",
    "Franklin", "Gibson", "Harris", "Irving", "Johnson", "King", "Lewis", "Morgan", "Nelson", "Ortiz",
]

CITY_EMAIL_DOMAIN = "riverton.gov"


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` full names ("First Last") as an object array."""
    first = np.asarray(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.asarray(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    return first + " " + last


def email(full_name: str, domain: str = CITY_EMAIL_DOMAIN) -> str:
    first, _, last = full_name.partition(" ")
    return f"{first[0]}.{last}@{domain}".lower().replace(" ", "")


def phone(rng: np.random.Generator) -> str:
    return f"{rng.choice(['404', '470', '678'])}-555-01{int(rng.integers(0, 100)):02d}"
