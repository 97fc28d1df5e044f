"""Django admin for core: the working-day calendar (edited by administrators each winter, when the
State Council publishes next year's arrangement), and read-only views of the audit trail and
the outbox.

Every calendar change made here writes an audit row in the same transaction. Marking a year
official is an explicit act (an admin action or the checkbox), never a side effect of saving a
day, because an official year switches deadlines from the weekends-only rule to its table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import audit_record
from yiwang.core.models import AuditEntry, CalendarDay, CalendarYear, OutboxMessage

# The stubs make these generic; at run time Django's classes are not subscriptable (and
# django-stubs-ext is a development dependency only).
if TYPE_CHECKING:
    DayForm = forms.ModelForm[CalendarDay]
    AnyAdmin = admin.ModelAdmin[Any]
else:
    DayForm = forms.ModelForm
    AnyAdmin = admin.ModelAdmin


def _day_snapshot(day: CalendarDay) -> dict[str, Any]:
    return {"date": day.date.isoformat(), "kind": day.kind, "name": day.name, "source": day.source}


def _year_snapshot(year: CalendarYear) -> dict[str, Any]:
    return {
        "year": year.year,
        "official": year.official,
        "source": year.source,
        "notice": year.notice,
    }


class CalendarDayForm(DayForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        day, kind = cleaned.get("date"), cleaned.get("kind")
        # A holiday may fall on a weekend (it carries the holiday's name), but a make-up working
        # day on a weekday would change nothing and most likely is a typo in the date.
        if day is not None and kind == CalendarDay.Kind.WORKDAY and day.weekday() < 5:
            raise forms.ValidationError(
                _("调休上班日应为周六或周日：%(date)s 本来就是工作日。"),
                code="workday_on_weekday",
                params={"date": day.isoformat()},
            )
        return cleaned


class YearListFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


class AuditedAdmin(AnyAdmin):
    """Every save and delete made here writes its audit row in the same transaction, with the
    row as it was (locked) and as it is. Subclasses name the action and the snapshot."""

    audit_action: str
    delete_order: str

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def prepare_save(self, obj: Any, change: bool) -> None:
        """Set derived fields before the row is saved."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = None
            if change:
                stored = type(obj).objects.select_for_update().get(pk=obj.pk)
                before = self.audit_snapshot(stored)
            self.prepare_save(obj, change)
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=self.audit_action,
                obj=obj,
                before=before,
                after=self.audit_snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            before, pk = self.audit_snapshot(obj), obj.pk
            super().delete_model(request, obj)
            audit_record(
                actor=request.user,
                action=self.audit_action,
                object_type=obj._meta.label_lower,
                object_id=str(pk),
                before=before,
                after=None,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for row in queryset.select_for_update().order_by(self.delete_order):
                self.delete_model(request, row)


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "kind", "name", "source", "updated_at"]
    list_filter = [YearListFilter, "kind", "source"]
    search_fields = ["name", "date"]
    date_hierarchy = "date"
    ordering = ["-date"]
    readonly_fields = ["source", "created_at", "updated_at"]

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        return "一二三四五六日"[obj.date.weekday()]

    audit_action = "calendar.day_changed"
    delete_order = "date"

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return _day_snapshot(obj)

    def prepare_save(self, obj: Any, change: bool) -> None:
        obj.source = CalendarYear.Source.ADMIN


@admin.register(CalendarYear)
class CalendarYearAdmin(AuditedAdmin):
    list_display = ["year", "official", "source", "notice", "updated_at"]
    list_filter = ["official", "source"]
    search_fields = ["year", "notice"]
    ordering = ["-year"]
    readonly_fields = ["source", "created_at", "updated_at"]
    actions = ["mark_official"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A year added here starts unofficial: its days are entered first, then it is marked.
        return {**super().get_changeform_initial_data(request), "official": False}

    audit_action = "calendar.year_changed"
    delete_order = "year"

    def audit_snapshot(self, obj: Any) -> dict[str, Any]:
        return _year_snapshot(obj)

    def prepare_save(self, obj: Any, change: bool) -> None:
        if not change:
            obj.source = CalendarYear.Source.ADMIN

    @admin.action(description=_("标记为已载入国务院放假安排"), permissions=["change"])
    def mark_official(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        marked = []
        with transaction.atomic():
            for year in queryset.select_for_update().order_by("year"):
                if year.official:
                    continue
                before = _year_snapshot(year)
                year.official = True
                year.save(update_fields=["official", "updated_at"])
                audit_record(
                    actor=request.user,
                    action="calendar.year_marked_official",
                    obj=year,
                    before=before,
                    after=_year_snapshot(year),
                )
                marked.append(year.year)
        if marked:
            self.message_user(
                request,
                _("已标记为正式：%(years)s") % {"years": "、".join(map(str, marked))},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("所选年份均已是正式日历，未作更改。"), messages.INFO)


class ReadOnlyAdmin(AnyAdmin):
    """Rows that only code writes: administrators may look, never add, change or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "actor_label", "object_type", "object_id", "reason"]
    date_hierarchy = "created_at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "topic", "status", "attempts", "available_at", "sent_at"]
    list_filter = ["status", "topic"]
    search_fields = ["topic"]
    date_hierarchy = "created_at"
