"""Riverton's street address book: the addresses 311 callers, fire calls and vacant parcels refer to.

One fixed book per seed (independent of scale), so the same ``address_id`` means the same place in
every system and repeat complaints at one address are possible.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from demo_city.record_ids import format_ids
from demo_city.reference import CITY_CENTER, DISTRICTS, ZIPCODES

N_ADDRESSES = 40_000
STREET_STEMS = [
    "Oak", "Maple", "Pine", "Cedar", "Elm", "Walnut", "Chestnut", "Willow", "Magnolia", "Hickory",
    "Main", "Church", "Market", "Mill", "River", "Lake", "Hill", "Park", "Spring", "Bridge",
    "Washington", "Lincoln", "Jefferson", "Madison", "Jackson", "Franklin", "Monroe", "Adams", "Grant", "Harrison",
    "Peachtree", "Piedmont", "Ponce", "Highland", "Boulevard", "Auburn", "Decatur", "Memorial", "Glenwood", "Moreland",
    "Cherokee", "Euclid", "Virginia", "Lenox", "Collier", "Howell", "Marietta", "Simpson", "Fairburn", "Cascade",
]  # fmt: skip
STREET_SUFFIXES = ["St", "Ave", "Rd", "Dr", "Blvd", "Ln", "Way", "Pl", "Ct", "Pkwy"]
# District centres as offsets (degrees) from the city centre, so districts are geographically coherent
DISTRICT_OFFSETS = {"north": (0.07, 0.0), "central": (0.0, 0.0), "south": (-0.07, 0.0), "east": (0.0, 0.08), "west": (0.0, -0.08)}


@dataclass(frozen=True)
class AddressBook:
    address_id: np.ndarray  # "ADDR-012345"
    address: np.ndarray  # "1234 Oak St"
    street: np.ndarray  # "Oak St"
    district_idx: np.ndarray  # index into DISTRICTS
    lat: np.ndarray
    lon: np.ndarray

    @property
    def zipcode(self) -> np.ndarray:
        return np.asarray([ZIPCODES[d] for d in DISTRICTS])[self.district_idx]


def street_names() -> np.ndarray:
    return np.asarray([f"{stem} {suffix}" for stem in STREET_STEMS for suffix in STREET_SUFFIXES[:4]])


@lru_cache(maxsize=4)
def address_book(seed: int) -> AddressBook:
    rng = np.random.default_rng([seed, 0xADD2])
    streets = street_names()
    street_district = rng.integers(0, len(DISTRICTS), len(streets))
    street_idx = rng.integers(0, len(streets), N_ADDRESSES)
    house = rng.integers(1, 200, N_ADDRESSES) * 10 + rng.integers(0, 10, N_ADDRESSES)
    district_idx = street_district[street_idx]
    centre = np.asarray([DISTRICT_OFFSETS[d] for d in DISTRICTS])[district_idx]
    lat = np.round(CITY_CENTER[0] + centre[:, 0] + rng.normal(0, 0.022, N_ADDRESSES), 6)
    lon = np.round(CITY_CENTER[1] + centre[:, 1] + rng.normal(0, 0.026, N_ADDRESSES), 6)
    ids = format_ids("ADDR-", np.arange(1, N_ADDRESSES + 1), 6)
    address = np.strings.add(np.strings.add(house.astype(str), " "), streets[street_idx])
    return AddressBook(ids, address, streets[street_idx], district_idx, lat, lon)
