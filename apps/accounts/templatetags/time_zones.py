"""``{{ user.time_zone|time_zone_label }}``: "Москва (UTC+03:00)" rather than "Europe/Moscow"."""

from django import template

from apps.accounts.forms import time_zone_label

register = template.Library()
register.filter("time_zone_label", time_zone_label)
