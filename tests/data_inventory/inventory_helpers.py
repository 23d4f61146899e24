"""Find entries in the parsed inventory YAML by id, to mutate copies of it in tests."""
from __future__ import annotations


def department(data: dict, department_id: str) -> dict:
    return next(d for d in data["departments"] if d["id"] == department_id)


def system(data: dict, system_id: str) -> dict:
    return next(s for d in data["departments"] for s in d["systems"] if s["id"] == system_id)


def dataset(data: dict, system_id: str, dataset_id: str) -> dict:
    return next(ds for ds in system(data, system_id)["datasets"] if ds["id"] == dataset_id)


def field(data: dict, system_id: str, dataset_id: str, name: str) -> dict:
    return next(f for f in dataset(data, system_id, dataset_id)["fields"] if f["name"] == name)
