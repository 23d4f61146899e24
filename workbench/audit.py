"""Every write goes through here: the record is saved and the audit log gets who, when, what, before and after."""
from __future__ import annotations

import json

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from workbench.models import AuditEntry


def _json(instance) -> str:
    return json.dumps(model_to_dict(instance), default=str, sort_keys=True) if instance is not None else ""


def now():
    """The moment of a write: aware UTC, to the second (stored as 'YYYY-MM-DD HH:MM:SS', the inventory's format)."""
    return timezone.now().replace(microsecond=0)


def save_with_audit(actor: str, what: str, instance, before=None):
    """Save ``instance`` (a new row) and its audit entry in one transaction; ``before``: the row it supersedes."""
    with transaction.atomic():
        instance.save()
        AuditEntry(at=now(), actor=actor, what=what,
                   record=f"{type(instance).__name__}:{instance.pk}", before=_json(before), after=_json(instance)).save()
    return instance
