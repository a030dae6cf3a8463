"""``ScheduleV2`` events with ``ScheduleExpressionTimezone``: EventBridge Scheduler evaluates cron
and at() expressions on that zone's wall clock (rates are durations). ``GET /_stratus/schedules``
on the AWS port gives each schedule's next fire time in UTC; the test computes the expected time
independently with Python's ``zoneinfo`` (the IANA database) and compares. A zone the database
does not know is reported when Stratus starts, and that schedule is not run; a plain ``Schedule``
event (an EventBridge rule) stays UTC.

Source: the EventBridge Scheduler user guide, "Schedule types" (time zones, daylight saving time:
a cron time skipped when the clocks go forward does not run, a repeated one runs once)."""

from __future__ import annotations

import datetime
import json
import shutil
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ddb6_support import AppServer

pytestmark = pytest.mark.stratus_only

HANDLERS = Path(__file__).resolve().parent / "apps" / "triggers" / "handlers"

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Clock:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: tz-clock
      Runtime: python3.11
      CodeUri: handlers/
      Handler: app.record
      Events:
        NewYorkMorning:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 9 * * ? *)
            ScheduleExpressionTimezone: America/New_York
        KolkataWeekdays:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(30 6 ? * MON-FRI *)
            ScheduleExpressionTimezone: Asia/Kolkata
        TokyoOnce:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: at(2099-01-01T00:00:00)
            ScheduleExpressionTimezone: Asia/Tokyo
        UtcScheduler:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 9 * * ? *)
        RuleStaysUtc:
          Type: Schedule
          Properties:
            Schedule: cron(0 9 * * ? *)
        Nowhere:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 9 * * ? *)
            ScheduleExpressionTimezone: Mars/Olympus_Mons
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("schedule-tz")
    (root / "template.yaml").write_text(TEMPLATE)
    shutil.copytree(HANDLERS, root / "handlers", ignore=shutil.ignore_patterns("__pycache__"))
    app = AppServer(root)
    try:
        app.start()
        yield app
    finally:
        app.stop()


def _schedules(server: AppServer) -> dict[str, dict]:
    with urllib.request.urlopen(f"{server.endpoint}/_stratus/schedules", timeout=10) as response:
        listing = json.loads(response.read())
    return {s["event"]: s for s in listing["schedules"]}


def _next_wall_clock(zone: str, hour: int, minute: int, weekdays: set[int] | None = None) -> str:
    """The first instant after now at which ``zone``'s clock reads hour:minute (on one of
    ``weekdays``, Monday=0), in UTC, as Stratus prints it."""
    tz = ZoneInfo(zone)
    now = datetime.datetime.now(datetime.timezone.utc)
    day = now.astimezone(tz).date()
    for offset in range(0, 15):
        candidate = datetime.datetime.combine(day + datetime.timedelta(days=offset), datetime.time(hour, minute), tz)
        if weekdays is not None and candidate.weekday() not in weekdays:
            continue
        instant = candidate.astimezone(datetime.timezone.utc)
        if instant > now:
            return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise AssertionError("no fire time within two weeks")


def test_cron_and_at_are_read_on_the_zone_wall_clock(server):
    schedules = _schedules(server)
    new_york = schedules["NewYorkMorning"]
    assert new_york["timezone"] == "America/New_York"
    assert new_york["expression"] == "cron(0 9 * * ? *)"
    assert new_york["next"] == _next_wall_clock("America/New_York", 9, 0)
    kolkata = schedules["KolkataWeekdays"]
    assert kolkata["timezone"] == "Asia/Kolkata"
    assert kolkata["next"] == _next_wall_clock("Asia/Kolkata", 6, 30, weekdays={0, 1, 2, 3, 4})
    # 2099-01-01T00:00 in Tokyo (UTC+9) is 2098-12-31T15:00 UTC.
    assert schedules["TokyoOnce"]["next"] == "2098-12-31T15:00:00Z"


def test_without_a_zone_scheduler_and_rule_schedules_are_utc(server):
    schedules = _schedules(server)
    expected = _next_wall_clock("UTC", 9, 0)
    assert schedules["UtcScheduler"]["timezone"] is None
    assert schedules["UtcScheduler"]["next"] == expected
    assert schedules["RuleStaysUtc"]["timezone"] is None
    assert schedules["RuleStaysUtc"]["next"] == expected


def test_an_unknown_zone_is_reported_and_its_schedule_not_run(server):
    assert "Nowhere" not in _schedules(server)
    output = server.output()
    assert "unknown ScheduleExpressionTimezone 'Mars/Olympus_Mons'" in output, output
    # The summary names each schedule's zone.
    assert "schedule NewYorkMorning (cron(0 9 * * ? *), America/New_York)" in output, output
