#!/usr/bin/env python3
"""Writes recurrence.json: preview requests and the answers python-dateutil and zoneinfo give.

The Rust test `recurrence_oracle.rs` answers the same requests with our engine and compares.
dateutil expands on naive (wall-clock) date-times from DTSTART, as the preview contract says;
zoneinfo with fold=0 turns a wall-clock time into an instant with the offset in force before a
transition, which moves a time in a gap forward by the gap and takes the earlier of two times
at a fold. UNTIL, exceptions, the window and the limit are applied here as the contract states,
not by dateutil.

Run: python3 domain/tests/oracle/recurrence.py   (needs python-dateutil; the seed is fixed)
"""

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from dateutil import rrule as du

SEED = 20261130
CASES = 600
ZONES = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "America/Santiago",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
FREQS = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY, "YEARLY": du.YEARLY}
WEEKDAYS = [du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU]
LOCAL = "%Y-%m-%dT%H:%M:%S"


def transitions(zone, years):
    """Local dates on which the zone's offset changes."""
    zi = ZoneInfo(zone)
    out = []
    for year in years:
        day = datetime(year, 1, 1, 12)
        prev = day.replace(tzinfo=zi).utcoffset()
        for _ in range(366):
            day += timedelta(days=1)
            off = day.replace(tzinfo=zi).utcoffset()
            if off != prev:
                out.append(day.date() - timedelta(days=1))
            prev = off
    return out


def odd_times(zone, day):
    """Wall-clock times of `day` that do not exist or happen twice in `zone`."""
    zi = ZoneInfo(zone)
    out = []
    for q in range(96):
        local = datetime(day.year, day.month, day.day) + timedelta(minutes=15 * q)
        early = local.replace(tzinfo=zi, fold=0)
        late = local.replace(tzinfo=zi, fold=1)
        back = early.astimezone(timezone.utc).astimezone(zi).replace(tzinfo=None)
        if back != local or early.utcoffset() != late.utcoffset():
            out.append(local)
    return out


def instant(zone, local):
    return local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(timezone.utc)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_rule(rng, start):
    freq = rng.choice(list(FREQS))
    parts = [f"FREQ={freq}"]
    kwargs = {"freq": FREQS[freq], "dtstart": start}
    interval = rng.choice([1, 1, 1, 2, 3])
    if interval != 1 or rng.random() < 0.2:
        parts.append(f"INTERVAL={interval}")
    kwargs["interval"] = interval
    by_month = []
    if freq in ("MONTHLY", "YEARLY", "DAILY") and rng.random() < 0.3:
        by_month = sorted(set(rng.sample(range(1, 13), rng.randint(1, 3))))
        parts.append("BYMONTH=" + ",".join(map(str, by_month)))
        kwargs["bymonth"] = by_month
    by_day = []
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            d = rng.randrange(7)
            nth = None
            if freq == "MONTHLY" and rng.random() < 0.4:
                nth = rng.choice([1, 2, 3, 4, -1, -2])
            elif freq == "YEARLY" and rng.random() < 0.4:
                nth = rng.choice([1, 2, -1]) if by_month else rng.choice([1, 10, 20, -1, -5])
            by_day.append((nth, d))
        by_day = sorted(set(by_day), key=lambda x: (x[0] or 0, x[1]))
        parts.append("BYDAY=" + ",".join((str(n) if n else "") + DAYS[d] for n, d in by_day))
        kwargs["byweekday"] = [WEEKDAYS[d](n) if n else WEEKDAYS[d] for n, d in by_day]
    by_month_day = []
    if freq != "WEEKLY" and rng.random() < (0.2 if by_day else 0.35):
        by_month_day = sorted(set(rng.choice([1, 2, 15, 28, -1, -2, 10]) for _ in range(rng.randint(1, 2))))
        parts.append("BYMONTHDAY=" + ",".join(map(str, by_month_day)))
        kwargs["bymonthday"] = by_month_day
    if (by_day or by_month_day) and rng.random() < 0.2:
        pos = rng.choice([1, -1, 2])
        parts.append(f"BYSETPOS={pos}")
        kwargs["bysetpos"] = pos
    if freq == "WEEKLY" and rng.random() < 0.3:
        w = rng.randrange(7)
        parts.append(f"WKST={DAYS[w]}")
        kwargs["wkst"] = WEEKDAYS[w]
    until = None
    end = rng.random()
    if end < 0.3:
        count = rng.randint(1, 40)
        parts.append(f"COUNT={count}")
        kwargs["count"] = count
    elif end < 0.5:
        until = start + timedelta(days=rng.randint(0, 300), hours=rng.randint(-30, 30))
        until = until.replace(tzinfo=timezone.utc)
        parts.append("UNTIL=" + until.strftime("%Y%m%dT%H%M%SZ"))
    rng.shuffle(parts)
    return ";".join(parts), kwargs, until


def expected(zone, kwargs, until, exdates, start_utc_from, to, limit, duration):
    rule = du.rrule(**kwargs)
    out = []
    horizon = to.replace(tzinfo=None) + timedelta(days=3)
    for local in rule:
        if local > horizon:
            break
        at = instant(zone, local)
        if until is not None and at > until:
            break
        if local in exdates or at < start_utc_from or at >= to:
            continue
        out.append((at, local))
        if len(out) > limit:
            break
    out.sort()
    truncated = len(out) > limit
    zi = ZoneInfo(zone)
    return {
        "occurrences": [
            {
                "start": rfc3339(at),
                "end": rfc3339(at + timedelta(minutes=duration)),
                "local_start": at.astimezone(zi).strftime(LOCAL),
            }
            for at, _ in out[:limit]
        ],
        "truncated": truncated,
    }


def main():
    rng = random.Random(SEED)
    changes = {z: transitions(z, range(2025, 2031)) for z in ZONES}
    cases = []
    while len(cases) < CASES:
        zone = rng.choice(ZONES)
        near = rng.choice(changes[zone]) if changes[zone] else datetime(2027, 3, 1).date()
        odd = [t for d in (near, near + timedelta(days=1)) for t in odd_times(zone, d)]
        if odd and rng.random() < 0.4:
            # A start whose time of day falls in a gap or a fold on the change's day, shortly
            # before it, so that a daily or weekly rule lands there.
            t = rng.choice(odd)
            start = t - timedelta(days=rng.choice([0, 1, 2, 7, 14]))
            near = start.date()
        else:
            day = near - timedelta(days=rng.randint(0, 40))
            minute = rng.choice([0, 15, 30, 45])
            start = datetime(day.year, day.month, day.day, rng.choice([0, 1, 2, 3, 9, 23]), minute)
        if rng.random() < 0.15:
            text, kwargs, until = None, None, None
        else:
            text, kwargs, until = random_rule(rng, start)
        duration = rng.choice([15, 30, 60, 90, 480])
        back = rng.randint(0, 3) if near == start.date() else rng.randint(0, 120)
        window_from = datetime.combine(near, datetime.min.time(), timezone.utc) - timedelta(
            days=back, hours=rng.randint(0, 23)
        )
        to = window_from + timedelta(days=rng.randint(1, 400), minutes=rng.randint(0, 59))
        limit = rng.choice([1, 3, 10, 100, 1000])
        exdates = set()
        if kwargs is not None:
            produced = list(du.rrule(**{**kwargs, "count": kwargs.get("count", 40)}))[:40]
        else:
            produced = [start]
        for _ in range(rng.randint(0, 3)):
            if produced and rng.random() < 0.8:
                exdates.add(rng.choice(produced))
            else:
                exdates.add(start + timedelta(days=rng.randint(0, 60)))
        request = {
            "start": start.strftime(LOCAL),
            "timezone": zone,
            "duration_minutes": duration,
            "from": rfc3339(window_from),
            "to": rfc3339(to),
            "limit": limit,
        }
        if text is not None:
            request["rrule"] = text
        if exdates:
            request["exdates"] = sorted(e.strftime(LOCAL) for e in exdates)
        if kwargs is None:
            answer = {"occurrences": [], "truncated": False}
            at = instant(zone, start)
            if start not in exdates and window_from <= at < to:
                answer = expected(zone, {"freq": du.DAILY, "dtstart": start, "count": 1},
                                  None, exdates, window_from, to, limit, duration)
        else:
            answer = expected(zone, kwargs, until, exdates, window_from, to, limit, duration)
        cases.append({"request": request, "expected": answer})
    path = Path(__file__).with_name("recurrence.json")
    lines = ",\n".join(json.dumps(c, separators=(",", ":")) for c in cases)
    path.write_text("[\n" + lines + "\n]\n")
    with_any = sum(1 for c in cases if c["expected"]["occurrences"])
    print(f"wrote {len(cases)} cases ({with_any} with occurrences) to {path}")


if __name__ == "__main__":
    main()
