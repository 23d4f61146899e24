"""The simulated departmental systems of Riverton, a fictional mid-size city (see docs/contracts.md)."""
