"""Swedish legal time: periods per lag (1930:173) §1, closed days and moved deadlines per §2,
and local time in Europe/Stockholm."""

from samverkan.calendar._dates import TIMEZONE, local_datetime, to_date
from samverkan.calendar.legal import LAW_SECTION_2, Due, legal_due, why_closed
from samverkan.calendar.periods import MAX_PERIOD_DAYS, InvalidPeriod, Period, add_period, parse_period, subtract_period
from samverkan.calendar.swedish import (
    CHRISTMAS_EVE,
    FIRST_YEAR,
    LAST_YEAR,
    MIDSUMMER_EVE,
    NEW_YEARS_EVE,
    OutsideCalendar,
    add_business_days,
    business_days_between,
    holiday_name,
    holiday_name_en,
    is_business_day,
    is_non_business_day,
    is_public_holiday,
    next_business_day,
    previous_business_day,
)

__all__ = [
    "CHRISTMAS_EVE",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MIDSUMMER_EVE",
    "NEW_YEARS_EVE",
    "LAW_SECTION_2",
    "MAX_PERIOD_DAYS",
    "TIMEZONE",
    "Due",
    "InvalidPeriod",
    "OutsideCalendar",
    "Period",
    "add_business_days",
    "add_period",
    "business_days_between",
    "holiday_name",
    "holiday_name_en",
    "is_business_day",
    "is_non_business_day",
    "is_public_holiday",
    "legal_due",
    "local_datetime",
    "next_business_day",
    "parse_period",
    "previous_business_day",
    "subtract_period",
    "to_date",
    "why_closed",
]
