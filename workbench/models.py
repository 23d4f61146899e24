"""The workbench's records. Every table but the profiles is append-only: a change is a new row, so the history of a
commitment, a submission or a comment is its rows, and the pipeline ingests them as they are (inventory system
``perf_workbench``: tables ``workbench_flagaction``, ``workbench_commentary``). The audit log cannot be changed at all:
database triggers refuse UPDATE and DELETE on it."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OFFICE = "office", "performance office"
    LIAISON = "liaison", "department liaison"
    VIEWER = "viewer", "deputy mayor / viewer"


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=16, choices=Role.choices)
    department_code = models.CharField(max_length=16, blank=True, help_text="A liaison's department; blank otherwise.")

    def can_see(self, department_code: str | None) -> bool:
        return self.role != Role.LIAISON or (department_code is not None and department_code == self.department_code)

    @property
    def can_act(self) -> bool:
        """Commit, follow up, escalate, raise flags, submit values (viewers read and comment)."""
        return self.role in (Role.OFFICE, Role.LIAISON)


class AppendOnly(models.Model):
    """Rows are added, never changed: a correction is a new row."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{type(self).__name__} rows are append-only")


class FlagAction(AppendOnly):
    """One step on a flag: raised by hand, committed, followed up, escalated, resolved or dismissed. The status is
    the one metrics.flag_actions uses (open / acknowledged / escalated / resolved)."""

    class Kind(models.TextChoices):
        RAISE = "raise", "raised by hand"
        COMMIT = "commit", "commitment"
        FOLLOW_UP = "follow_up", "follow-up"
        ESCALATE = "escalate", "escalated"
        RESOLVE = "resolve", "resolved"
        DISMISS = "dismiss", "dismissed"

    class FollowUp(models.TextChoices):
        DONE = "done", "done"
        SLIPPED = "slipped", "slipped"
        NOT_STARTED = "not started", "not started"

    flag_id = models.CharField(max_length=200, db_index=True)
    kpi_id = models.CharField(max_length=100)
    period = models.CharField(max_length=7)
    department_code = models.CharField(max_length=16)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16)
    owner = models.CharField(max_length=200, blank=True)
    action = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True)
    follow_up = models.CharField(max_length=16, choices=FollowUp.choices, blank=True)
    escalated_to = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    actor = models.CharField(max_length=150)
    acted_at = models.DateTimeField()

    def summary(self) -> str:
        """The action in words, as metrics.flag_actions.action carries it."""
        from citystat.kpi.flags import workbench_action_text

        return workbench_action_text(self.kind, self.owner, self.action, self.due_date, self.follow_up,
                                     self.escalated_to, self.reason)


class Commentary(AppendOnly):
    """A line of context for one KPI and month; the latest line written is the one shown."""

    kpi_id = models.CharField(max_length=100)
    department_code = models.CharField(max_length=16)
    period = models.CharField(max_length=7)
    comment = models.CharField(max_length=500)
    author = models.CharField(max_length=150)
    written_at = models.DateTimeField()


class Submission(AppendOnly):
    """A KPI value a department submits; a correction is a later row for the same KPI and month, with its reason.
    Each row is also written to the KPI submissions drop folder, the route every submitted value takes."""

    kpi_id = models.CharField(max_length=100)
    department_code = models.CharField(max_length=16)
    period = models.CharField(max_length=7)
    value = models.FloatField()
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    data_source = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True)
    correction_reason = models.CharField(max_length=500, blank=True)
    submitted_by = models.CharField(max_length=150)
    submitted_at = models.DateTimeField()
    drop_file = models.CharField(max_length=200)


class AuditEntry(models.Model):
    """Who wrote what, when, and the record before and after. Triggers (migration 0002) refuse UPDATE and DELETE."""

    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    what = models.CharField(max_length=200)
    record = models.CharField(max_length=200)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the audit log is append-only")
