"""Privacy review items and the reviewers' approvals (a JSON file beside the released exports).

An export held by the mosaic check raises an item; a named reviewer approves it (who and when are recorded)
and the approval holds for that shape of the data (citystat.open_data.privacy.shape_fingerprint).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from citystat.release_folders import write_whole


class ReviewLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.items: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))["items"] if self.path.exists() else {}

    def approved(self, export_id: str, fingerprint: str) -> dict | None:
        item = self.items.get(export_id)
        if item and item.get("status") == "approved" and item.get("fingerprint") == fingerprint:
            return item
        return None

    def raise_item(self, export_id: str, fingerprint: str, reason: str) -> dict:
        """A pending item for this export and shape (an older approval for another shape no longer counts)."""
        item = self.items.get(export_id)
        if not item or item.get("fingerprint") != fingerprint or item.get("status") != "pending":
            item = {"fingerprint": fingerprint, "status": "pending", "raised_at": _now()}
        item["reason"] = reason
        self.items[export_id] = item
        self.save()
        return item

    def approve(self, export_id: str, reviewer: str) -> dict:
        item = self.items.get(export_id)
        if not item or item.get("status") != "pending":
            pending = ", ".join(sorted(k for k, v in self.items.items() if v.get("status") == "pending")) or "none"
            raise KeyError(f"no pending privacy review item for {export_id!r} (pending: {pending})")
        if not reviewer.strip():
            raise ValueError("the reviewer's name is required")
        item.update(status="approved", approved_by=reviewer.strip(), approved_at=_now())
        self.save()
        return item

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(self.path, json.dumps({"items": self.items}, indent=2, sort_keys=True))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
