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
    DayAdmin = admin.ModelAdmin[CalendarDay]
    YearAdmin = admin.ModelAdmin[CalendarYear]
    AnyAdmin = admin.ModelAdmin[Any]
else:
    DayForm = forms.ModelForm
    DayAdmin = YearAdmin = AnyAdmin = admin.ModelAdmin


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


@admin.register(CalendarDay)
class CalendarDayAdmin(DayAdmin):
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

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = None
            if change:
                before = _day_snapshot(CalendarDay.objects.select_for_update().get(pk=obj.pk))
            obj.source = CalendarYear.Source.ADMIN
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action="calendar.day_changed",
                obj=obj,
                before=before,
                after=_day_snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        with transaction.atomic():
            before = _day_snapshot(obj)
            pk = obj.pk
            super().delete_model(request, obj)
            audit_record(
                actor=request.user,
                action="calendar.day_changed",
                object_type=CalendarDay._meta.label_lower,
                object_id=str(pk),
                before=before,
                after=None,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        with transaction.atomic():
            for day in queryset.select_for_update().order_by("date"):
                self.delete_model(request, day)


@admin.register(CalendarYear)
class CalendarYearAdmin(YearAdmin):
    list_display = ["year", "official", "source", "notice", "updated_at"]
    list_filter = ["official", "source"]
    search_fields = ["year", "notice"]
    ordering = ["-year"]
    readonly_fields = ["source", "created_at", "updated_at"]
    actions = ["mark_official"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A year added here starts unofficial: its days are entered first, then it is marked.
        return {**super().get_changeform_initial_data(request), "official": False}

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        with transaction.atomic():
            before = None
            if change:
                before = _year_snapshot(CalendarYear.objects.select_for_update().get(pk=obj.pk))
            if not change:
                obj.source = CalendarYear.Source.ADMIN
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action="calendar.year_changed",
                obj=obj,
                before=before,
                after=_year_snapshot(obj),
            )

    def delete_model(self, request: HttpRequest, obj: CalendarYear) -> None:
        with transaction.atomic():
            before, pk = _year_snapshot(obj), obj.pk
            super().delete_model(request, obj)
            audit_record(
                actor=request.user,
                action="calendar.year_changed",
                object_type=CalendarYear._meta.label_lower,
                object_id=str(pk),
                before=before,
                after=None,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        with transaction.atomic():
            for year in queryset.select_for_update().order_by("year"):
                self.delete_model(request, year)

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
