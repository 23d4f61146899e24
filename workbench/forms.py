"""The workbench's forms. Choices offered are limited to what the signed-in person may act on; the views check
again on every POST (a crafted request is refused whatever the form offered)."""
from __future__ import annotations

import re

from django import forms

from workbench.models import FlagAction

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _period(value: str) -> str:
    value = (value or "").strip()
    if not PERIOD.match(value):
        raise forms.ValidationError("a month is written YYYY-MM")
    return value


class CommitForm(forms.Form):
    owner = forms.CharField(max_length=200, help_text="Who does it.")
    action = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Action committed")
    due_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class FollowUpForm(forms.Form):
    follow_up = forms.ChoiceField(choices=[("", "choose…"), *FlagAction.FollowUp.choices],  # no default: say it
                                  label="At this meeting the commitment is")
    reason = forms.CharField(max_length=2000, required=False, label="Note")


class EscalateForm(forms.Form):
    escalated_to = forms.ChoiceField(choices=(), label="Deputy mayor")
    reason = forms.CharField(max_length=2000)

    def __init__(self, *args, deputies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalated_to"].choices = [(d, d) for d in deputies]


class CloseForm(forms.Form):
    """Resolve or dismiss, always with a reason."""
    reason = forms.CharField(max_length=2000)


class RaiseFlagForm(forms.Form):
    kpi_id = forms.ChoiceField(choices=(), label="KPI")
    period = forms.CharField(max_length=7, help_text="YYYY-MM")
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Why this move matters more than its threshold says.")

    def __init__(self, *args, kpis: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi_id"].choices = kpis

    def clean_period(self):
        return _period(self.cleaned_data["period"])


class SubmissionForm(forms.Form):
    kpi_id = forms.ChoiceField(choices=(), label="KPI")
    period = forms.CharField(max_length=7, help_text="YYYY-MM")
    value = forms.FloatField()
    numerator = forms.FloatField(required=False)
    denominator = forms.FloatField(required=False)
    data_source = forms.CharField(max_length=200, label="Source of the data")
    note = forms.CharField(max_length=500, required=False)
    correction_reason = forms.CharField(max_length=500, required=False,
                                        help_text="Required when the month was already submitted: why it changes.")

    def __init__(self, *args, kpis: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi_id"].choices = kpis

    def clean_period(self):
        return _period(self.cleaned_data["period"])


class CommentaryForm(forms.Form):
    kpi_id = forms.ChoiceField(choices=(), label="KPI")
    period = forms.CharField(max_length=7, help_text="YYYY-MM")
    comment = forms.CharField(max_length=500)

    def __init__(self, *args, kpis: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi_id"].choices = kpis

    def clean_period(self):
        return _period(self.cleaned_data["period"])
