"""The stage's dashboard (GetDashboard) and the state of its alarms (DescribeAlarms).

An alarm in ALARM fails the smoke: a stage that is already alarming is not healthy, whatever
the round trip says. INSUFFICIENT_DATA is normal on a fresh stage and only counted.
"""

from __future__ import annotations

import json
from collections import Counter

import boto3
import botocore.exceptions

from infra.smoke.absent import Missing, Off
from infra.smoke.results import Result, fail, first_line, off, ok
from infra.smoke.target import Monitoring

AWS_ERRORS = (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError)


def read_dashboard(monitoring: Monitoring | Off | Missing) -> Result:
    if isinstance(monitoring, Off):
        return off("dashboard", monitoring.reason)
    if isinstance(monitoring, Missing):
        return fail("dashboard", monitoring.reason)
    try:
        found = boto3.client("cloudwatch").get_dashboard(DashboardName=monitoring.dashboard)
        widgets = json.loads(found["DashboardBody"]).get("widgets", [])
    except AWS_ERRORS as error:
        return fail("dashboard", f"{monitoring.dashboard}: {first_line(error)}")
    except ValueError as error:
        return fail("dashboard", f"{monitoring.dashboard}: body is not JSON ({error})")
    return ok("dashboard", f"{monitoring.dashboard}: {len(widgets)} widgets")


def alarm_states(monitoring: Monitoring | Off | Missing) -> Result:
    if isinstance(monitoring, Off):
        return off("alarms", monitoring.reason)
    if isinstance(monitoring, Missing):
        return fail("alarms", monitoring.reason)
    states: dict[str, str] = {}
    try:
        pages = (
            boto3.client("cloudwatch")
            .get_paginator("describe_alarms")
            .paginate(
                AlarmNamePrefix=monitoring.alarm_prefix,
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
            )
        )
        for page in pages:
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
    except AWS_ERRORS as error:
        return fail("alarms", f"{monitoring.alarm_prefix}*: {first_line(error)}")
    counts = ", ".join(f"{n} {state}" for state, n in sorted(Counter(states.values()).items()))
    summary = f"{len(states)} alarms {monitoring.alarm_prefix}*" + (
        f" ({counts})" if counts else ""
    )
    firing = sorted(name for name, state in states.items() if state == "ALARM")
    if firing:
        return fail("alarms", f"in ALARM: {', '.join(firing)}; {summary}")
    return ok("alarms", f"{summary}, none in ALARM")
