"""The workbench's screens. Every view resolves the department of what it shows or changes on the server (from the
snapshot's flag or the KPI registry, never from the request) and refuses a liaison anything outside their own."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from workbench import snapshot, submitting
from workbench.audit import now, save_with_audit
from workbench.forms import CloseForm, CommentaryForm, CommitForm, EscalateForm, FollowUpForm, RaiseFlagForm, SubmissionForm
from workbench.models import AuditEntry, Commentary, FlagAction, Profile, Role, Submission

MANUAL = "manual"
OPEN_STATUSES = ("open", "acknowledged", "escalated")


def profile_of(request) -> Profile:
    try:
        return request.user.profile
    except Profile.DoesNotExist:
        raise PermissionDenied("this account has no workbench role (see `citystat workbench create-user`)") from None


def _scope(profile: Profile) -> str | None:
    """The one department a liaison may see; None: every department."""
    return profile.department_code if profile.role == Role.LIAISON else None


def _refuse_other_departments_kpi(request, profile: Profile) -> None:
    """A posted KPI of another department is refused outright (403), before any form check: a liaison's crafted
    request gets the same answer whatever else it carries."""
    department = snapshot.department_of_kpi(request.POST.get("kpi_id", ""))
    if department is not None and not profile.can_see(department):
        raise PermissionDenied("another department's KPI")


def _kpi_choices(profile: Profile, submitted_only: bool = False) -> list[tuple[str, str]]:
    kpis = snapshot.registry().kpis.values()
    return [(k.id, f"{k.name} ({k.department_code})") for k in sorted(kpis, key=lambda k: (k.department_code, k.id))
            if profile.can_see(k.department_code) and (not submitted_only or k.source == "submitted")]


@dataclass
class FlagView:
    flag_id: str
    kpi_id: str
    period: str
    department_code: str
    message: str
    origin: str  # automated | manual
    status: str
    actions: list[FlagAction] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        kind = self.flag_id.rsplit(":", 1)[-1]
        return "raised by hand" if kind == MANUAL else kind

    @property
    def commitment(self) -> FlagAction | None:
        commits = [a for a in self.actions if a.kind == FlagAction.Kind.COMMIT]
        return commits[-1] if commits else None

    @property
    def last_follow_up(self) -> str | None:
        ups = [a for a in self.actions if a.kind == FlagAction.Kind.FOLLOW_UP]
        return ups[-1].follow_up if ups else None

    @property
    def days_overdue(self) -> int | None:
        """Days past the committed due date while the flag is open and the commitment not reported done."""
        c = self.commitment
        if c is None or c.due_date is None or self.status not in OPEN_STATUSES or self.last_follow_up == "done":
            return None
        late = (timezone.localdate() - c.due_date).days  # the city's today
        return late if late > 0 else None


def _manual_flag_id(kpi_id: str, period: str) -> str:
    return f"{kpi_id}:{period}:{MANUAL}"


def resolve_flag(flag_id: str) -> FlagView | None:
    """The flag with its department from the snapshot (automated) or the KPI registry (raised by hand)."""
    actions = list(FlagAction.objects.filter(flag_id=flag_id).order_by("acted_at", "id"))
    found = snapshot.flag(flag_id)
    if found is not None:
        status = actions[-1].status if actions else found["status"]
        return FlagView(flag_id, found["kpi_id"], found["period"], found["department_code"], found["message"],
                        "automated", status, actions)
    raised = [a for a in actions if a.kind == FlagAction.Kind.RAISE]
    if not raised:
        return None
    first = raised[0]
    return FlagView(flag_id, first.kpi_id, first.period, first.department_code, first.summary(), MANUAL,
                    actions[-1].status, actions)


def _visible_flags(profile: Profile) -> list[FlagView]:
    scope = _scope(profile)
    actions: dict[str, list[FlagAction]] = {}
    for a in FlagAction.objects.order_by("acted_at", "id"):
        actions.setdefault(a.flag_id, []).append(a)
    views = []
    for f in snapshot.flags(scope):
        own = actions.get(f["flag_id"], [])
        views.append(FlagView(f["flag_id"], f["kpi_id"], f["period"], f["department_code"], f["message"], "automated",
                              own[-1].status if own else f["status"], own))
    for flag_id, own in actions.items():
        if own[0].kind == FlagAction.Kind.RAISE and profile.can_see(own[0].department_code):
            views.append(FlagView(flag_id, own[0].kpi_id, own[0].period, own[0].department_code, own[0].summary(),
                                  MANUAL, own[-1].status, own))
    return [v for v in views if v.status in OPEN_STATUSES]


@login_required
def flags(request):
    profile = profile_of(request)
    listed = sorted(_visible_flags(profile), key=lambda v: (-(v.days_overdue or 0), v.period), reverse=False)
    return render(request, "workbench/flags.html", {"flags": listed, "profile": profile})


def _deputies() -> list[str]:
    return list(User.objects.filter(profile__role=Role.VIEWER, is_active=True).order_by("username")
                .values_list("username", flat=True))


ACTION_FORMS = {"commit": CommitForm, "follow_up": FollowUpForm, "escalate": EscalateForm, "resolve": CloseForm,
                "dismiss": CloseForm}
STATUS_AFTER = {"commit": "acknowledged", "escalate": "escalated", "resolve": "resolved", "dismiss": "resolved"}
OFFICE_ONLY = {"resolve", "dismiss"}


def _forms(data=None, kind=None) -> dict:
    built = {}
    for name, form_class in ACTION_FORMS.items():
        bound = data if name == kind else None
        kwargs = {"deputies": _deputies()} if form_class is EscalateForm else {}
        built[name] = form_class(bound, prefix=name, **kwargs)
    return built


@login_required
@require_http_methods(["GET", "POST"])
def flag_detail(request, flag_id: str):
    profile = profile_of(request)
    view = resolve_flag(flag_id)
    if view is None or not profile.can_see(view.department_code):
        raise Http404("no such flag")  # another department's flag is not even confirmed to exist
    forms = _forms()
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in ACTION_FORMS:
            raise PermissionDenied("unknown action")
        if not profile.can_act or (kind in OFFICE_ONLY and profile.role != Role.OFFICE):
            raise PermissionDenied("your role cannot do this")
        forms = _forms(request.POST, kind)
        form = forms[kind]
        if form.is_valid():
            data = form.cleaned_data
            follow_status = view.status if kind == "follow_up" else STATUS_AFTER[kind]
            action = FlagAction(flag_id=view.flag_id, kpi_id=view.kpi_id, period=view.period,
                                department_code=view.department_code, kind=kind, status=follow_status,
                                owner=data.get("owner", ""), action=data.get("action", ""), due_date=data.get("due_date"),
                                follow_up=data.get("follow_up", ""), escalated_to=data.get("escalated_to", ""),
                                reason=data.get("reason", ""), actor=request.user.username, acted_at=now())
            save_with_audit(request.user.username, f"flag {kind}", action, view.actions[-1] if view.actions else None)
            messages.success(request, f"{action.get_kind_display()} recorded for {view.flag_id}")
            return redirect("flag", flag_id=view.flag_id)
    return render(request, "workbench/flag.html", {"flag": view, "forms": forms, "profile": profile,
                                                   "office": profile.role == Role.OFFICE})


@login_required
@require_http_methods(["GET", "POST"])
def raise_flag(request):
    profile = profile_of(request)
    if not profile.can_act:
        raise PermissionDenied("your role cannot raise flags")
    if request.method == "POST":
        _refuse_other_departments_kpi(request, profile)
    form = RaiseFlagForm(request.POST or None, kpis=_kpi_choices(profile))
    if request.method == "POST" and form.is_valid():
        kpi_id, period = form.cleaned_data["kpi_id"], form.cleaned_data["period"]
        department = snapshot.department_of_kpi(kpi_id)
        if not profile.can_see(department):
            raise PermissionDenied("another department's KPI")
        flag_id = _manual_flag_id(kpi_id, period)
        if FlagAction.objects.filter(flag_id=flag_id).exists():
            form.add_error("period", f"{kpi_id} {period} already has a flag raised by hand")
        else:
            action = FlagAction(flag_id=flag_id, kpi_id=kpi_id, period=period, department_code=department,
                                kind=FlagAction.Kind.RAISE, status="open", reason=form.cleaned_data["reason"],
                                actor=request.user.username, acted_at=now())
            save_with_audit(request.user.username, "flag raised by hand", action)
            messages.success(request, f"flag {flag_id} raised")
            return redirect("flag", flag_id=flag_id)
    return render(request, "workbench/raise.html", {"form": form, "profile": profile})


@login_required
@require_http_methods(["GET", "POST"])
def submissions(request):
    profile = profile_of(request)
    choices = _kpi_choices(profile, submitted_only=True)
    form = SubmissionForm(request.POST or None, kpis=choices)
    if request.method == "POST":
        if not profile.can_act:
            raise PermissionDenied("your role cannot submit values")
        _refuse_other_departments_kpi(request, profile)
        if form.is_valid():
            saved = _save_submission(request, profile, form)
            if saved is not None:
                messages.success(request, f"{saved.kpi_id} {saved.period} = {saved.value:g} saved")
                return redirect("submissions")
    scope = _scope(profile)
    rows = Submission.objects.order_by("-submitted_at", "-id")
    if scope is not None:
        rows = rows.filter(department_code=scope)
    return render(request, "workbench/submissions.html", {"form": form, "rows": rows[:200], "profile": profile})


def _save_submission(request, profile: Profile, form: SubmissionForm) -> Submission | None:
    data = dict(form.cleaned_data)  # add_error drops a field from cleaned_data; keep what was posted
    department = snapshot.department_of_kpi(data["kpi_id"])
    if not profile.can_see(department):
        raise PermissionDenied("another department's KPI")
    row = {"kpi_id": data["kpi_id"], "department_code": department, "period": data["period"], "value": data["value"],
           "numerator": data["numerator"], "denominator": data["denominator"]}
    for field_name, problem in submitting.problems(row):
        form.add_error(field_name if field_name in form.fields else None, problem)
    earlier = Submission.objects.filter(kpi_id=data["kpi_id"], period=data["period"]).order_by("-submitted_at", "-id").first()
    if earlier is not None and not data["correction_reason"].strip():
        form.add_error("correction_reason", f"{data['kpi_id']} {data['period']} was already submitted "
                                            f"({earlier.value:g} on {timezone.localtime(earlier.submitted_at):%Y-%m-%d}): give the reason for the correction")
    if earlier is None and data["correction_reason"].strip():
        form.add_error("correction_reason", "nothing to correct: this month was not submitted yet")
    if form.errors:
        return None
    at = now()
    submission = Submission(**row, data_source=data["data_source"], note=data["note"],
                            correction_reason=data["correction_reason"], submitted_by=request.user.username,
                            submitted_at=at, drop_file=submitting.drop_file_name(at))
    with transaction.atomic():
        save_with_audit(request.user.username, "correction" if earlier else "submission", submission, earlier)
        path = submitting.write_drop_file(submission)  # the transaction commits only once the file is there
    messages.info(request, f"written for the pipeline as {path.name}")
    return submission


@login_required
@require_http_methods(["GET", "POST"])
def commentary(request):
    profile = profile_of(request)
    if request.method == "POST":
        _refuse_other_departments_kpi(request, profile)
    form = CommentaryForm(request.POST or None, kpis=_kpi_choices(profile))
    if request.method == "POST" and form.is_valid():
        kpi_id = form.cleaned_data["kpi_id"]
        department = snapshot.department_of_kpi(kpi_id)
        if not profile.can_see(department):
            raise PermissionDenied("another department's KPI")
        earlier = Commentary.objects.filter(kpi_id=kpi_id, period=form.cleaned_data["period"]).order_by("-written_at", "-id").first()
        line = Commentary(kpi_id=kpi_id, department_code=department, period=form.cleaned_data["period"],
                          comment=form.cleaned_data["comment"], author=request.user.username, written_at=now())
        save_with_audit(request.user.username, "commentary", line, earlier)
        messages.success(request, f"commentary saved for {kpi_id} {line.period}")
        return redirect("commentary")
    scope = _scope(profile)
    rows = Commentary.objects.order_by("-written_at", "-id")
    if scope is not None:
        rows = rows.filter(department_code=scope)
    return render(request, "workbench/commentary.html", {"form": form, "rows": rows[:200], "profile": profile})


@login_required
def audit(request):
    profile = profile_of(request)
    if profile.role != Role.OFFICE:
        raise PermissionDenied("the audit log is the performance office's")
    return render(request, "workbench/audit.html", {"rows": AuditEntry.objects.order_by("-id")[:500], "profile": profile})
