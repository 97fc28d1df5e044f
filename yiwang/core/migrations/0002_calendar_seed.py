"""Seed the working-day calendar with the State Council arrangements for 2004–2026.

The data comes from the chinese-calendar package (PyPI ``chinesecalendar``), read once here. The
year range is fixed so that a newer package (with, say, 2027) cannot change what this migration
did: later years are entered by administrators in the Django admin and marked official there.
Every holiday date (also those falling on a weekend, so that a date shows its holiday's name) and
every make-up working day (调休) gets a row; ordinary weekdays and weekends have none.
"""

from django.db import migrations

FIRST_YEAR = 2004
LAST_YEAR = 2026

# chinese-calendar names its holidays in English; the platform shows them in Chinese.
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarDay = apps.get_model("core", "CalendarDay")

    def in_range(day):
        return FIRST_YEAR <= day.year <= LAST_YEAR

    rows = [
        CalendarDay(date=day, kind="holiday", name=CHINESE_NAMES.get(name, name), source="seed")
        for day, name in chinese_calendar.holidays.items()
        if in_range(day)
    ] + [
        CalendarDay(date=day, kind="workday", name=CHINESE_NAMES.get(name, name), source="seed")
        for day, name in chinese_calendar.workdays.items()
        if in_range(day)
    ]
    # An administrator may already have entered a date (re-running after a reverse): keep theirs.
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    new_rows = sorted((r for r in rows if r.date not in existing), key=lambda r: r.date)
    CalendarDay.objects.bulk_create(new_rows)
    known_years = set(CalendarYear.objects.values_list("year", flat=True))
    CalendarYear.objects.bulk_create(
        CalendarYear(year=year, official=True, source="seed", notice="")
        for year in range(FIRST_YEAR, LAST_YEAR + 1)
        if year not in known_years
    )


def unseed(apps, schema_editor):
    CalendarYear = apps.get_model("core", "CalendarYear")
    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarDay.objects.filter(source="seed").delete()
    CalendarYear.objects.filter(source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
