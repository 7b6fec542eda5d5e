#!/usr/bin/env python3
"""Where a fault-matrix scenario's time went, from the evidence it kept.

``tests/reliability/fault_matrix.py`` keeps, in ``<scenario workdir>/evidence``, the
queue jobs' rows, the webhook events' rows, the addon's request log (a secondary
source: the addon writes it), Wave's journal of the requests it received (the
sandbox's) and when each part of the workload began and ended. For each part this
prints: the queue jobs that ran in it (per method and exported model: how many, their
busy seconds, their wait from creation to start), how busy each job channel was, the
time no job ran at all, the requests Wave received (most in any 60 s), the addon's
waits for its request budget and the webhook events received.

    python3 scripts/fault_phases.py /tmp/pytest-of-root/pytest-N/test_fault_none_0/evidence
"""

import csv
import datetime
import json
import re
import sys
from collections import defaultdict
from pathlib import Path


def epoch(value):
    """A database timestamp (naive UTC) as Unix time; None when empty."""
    if not value:
        return None
    value = value.replace("T", " ")
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in value else "%Y-%m-%d %H:%M:%S"
    moment = datetime.datetime.strptime(value, fmt).replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def rows(folder, name):
    path = folder / f"{name}.csv"
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def overlap(start, end, a, b):
    return max(0.0, min(end, b) - max(start, a))


def union_seconds(intervals, a, b):
    """Seconds of [a, b] covered by at least one of ``intervals``."""
    clipped = sorted((max(s, a), min(e, b)) for s, e in intervals if e > a and s < b)
    total, current = 0.0, None
    for start, end in clipped:
        if current and start <= current[1]:
            current[1] = max(current[1], end)
            continue
        if current:
            total += current[1] - current[0]
        current = [start, end]
    if current:
        total += current[1] - current[0]
    return total


def job_label(row):
    label = row["method_name"]
    match = re.search(r"_job_export\('([a-z_.]+)'", row.get("func_string") or "")
    if match:
        label += f" {match.group(1)}"
    return label


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\d+) \w+ \S+ (\S+): (.*)$")
JOB_STEP = re.compile(r"<Job ([0-9a-f-]+), priority:\d+> (started|done|postponed)")
RETRIED = re.compile(r"Wave job retried in (\d+)s: (\w+)")


def job_tries(folder, labels):
    """Each run of each job from Odoo's log (queue_job's "started", "done",
    "postponed"; the addon's reason for a retry): ``[(label, start, end, outcome)]``."""
    tries, open_by_pid, reasons = [], {}, defaultdict(int)
    for path in sorted(Path(folder).parent.glob("wave_odoo_*.log")):
        for line in path.read_text(errors="replace").splitlines():
            match = LOG_LINE.match(line)
            if not match:
                continue
            stamp, pid, _logger, message = match.groups()
            moment = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            moment = moment.replace(tzinfo=datetime.UTC).timestamp()
            step = JOB_STEP.search(message)
            retried = RETRIED.search(message)
            if retried and pid in open_by_pid:
                uuid = open_by_pid[pid][0]
                reasons[(labels.get(uuid, "?"), retried.group(2), retried.group(1))] += 1
            if not step:
                continue
            uuid, what = step.groups()
            if what == "started":
                open_by_pid[pid] = (uuid, moment)
            elif pid in open_by_pid and open_by_pid[pid][0] == uuid:
                tries.append((labels.get(uuid, "?"), open_by_pid.pop(pid)[1], moment, what))
    return tries, reasons


def most_in_a_minute(times):
    times, best, first = sorted(times), 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 60:
            first += 1
        best = max(best, last - first + 1)
    return best


def summary(folder):
    folder = Path(folder)
    moments = json.loads((folder / "moments.json").read_text())
    client = moments.get("oauth_client")
    jobs, labels, channel_of = [], {}, {}
    for row in rows(folder, "queue_jobs"):
        labels[row["uuid"]] = job_label(row)
        channel_of[labels[row["uuid"]]] = row["channel"]
        started, done = epoch(row["date_started"]), epoch(row["date_done"])
        if started and done:
            jobs.append((job_label(row), row["channel"], epoch(row["date_created"]), started, done))
    tries, reasons = job_tries(folder, labels)
    journal = [
        e
        for e in json.loads((folder / "journal.json").read_text())
        if e["kind"] == "graphql" and (client is None or e.get("client") == client)
    ]
    requests_log = rows(folder, "request_log")
    events = rows(folder, "webhook_events")
    lines = []
    for name, a, b in moments["moments"]:
        length = b - a
        lines.append(f"\n== {name}: {length:.1f} s")
        if length <= 0:
            continue
        per_method = defaultdict(lambda: [0, 0.0, 0.0])
        for label, _channel, created, started, done in jobs:
            if a <= started < b:
                entry = per_method[label]
                entry[0] += 1
                entry[1] += done - started
                entry[2] += started - created
        for label, (count, busy, wait) in sorted(per_method.items(), key=lambda i: -i[1][1]):
            lines.append(
                f"  jobs {label:<45} {count:5d} run {busy:8.1f} s "
                f"(mean {busy / count:6.2f}) waited {wait / count:7.1f} s each"
            )
        per_try = defaultdict(lambda: [0, 0.0, defaultdict(int)])
        for label, start, end, outcome in tries:
            if a <= start < b:
                entry = per_try[label]
                entry[0] += 1
                entry[1] += end - start
                entry[2][outcome] += 1
        for label, (count, busy, outcomes) in sorted(per_try.items(), key=lambda i: -i[1][1]):
            lines.append(
                f"  runs {label:<45} {count:5d} run {busy:8.1f} s "
                f"(mean {busy / count:6.2f}) {dict(outcomes)}"
            )
        channels = defaultdict(list)
        if tries:  # every run of every job, not only the last one of each
            for label, start, end, _outcome in tries:
                channels[channel_of.get(label, "?")].append((start, end))
        else:
            for _label, channel, _created, started, done in jobs:
                channels[channel].append((started, done))
        for channel, intervals in sorted(channels.items()):
            busy = union_seconds(intervals, a, b)
            if busy:
                lines.append(f"  channel {channel:<30} busy {busy:8.1f} s ({busy / length:.0%})")
        running = union_seconds([i for c in channels.values() for i in c], a, b)
        lines.append(f"  no job running                         {length - running:8.1f} s")
        arrived = [e.get("arrived", e["t"]) for e in journal if a <= e.get("arrived", e["t"]) < b]
        lines.append(
            f"  Wave requests received (journal)       {len(arrived):6d} "
            f"(most in 60 s: {most_in_a_minute(arrived)})"
        )
        in_window = [r for r in requests_log if a <= (epoch(r["create_date"]) or 0) < b]
        waits = sum(float(r["rate_limit_wait_ms"] or 0) for r in in_window) / 1000
        spent = sum(float(r["duration_ms"] or 0) for r in in_window) / 1000
        by_operation = defaultdict(int)
        for r in in_window:
            by_operation[r["operation_name"]] += 1
        lines.append(
            f"  request log: {len(in_window)} requests, {spent:.1f} s answering, "
            f"{waits:.1f} s waiting for the budget; {dict(sorted(by_operation.items()))}"
        )
        received = [e for e in events if a <= (epoch(e["received_at"]) or 0) < b]
        states = defaultdict(int)
        for e in received:
            states[e["state"]] += 1
        lines.append(f"  webhook events received {len(received)}: {dict(states)}")
    if reasons:
        lines.append("\n== retries the addon asked for (job, reason, seconds): count")
        for (label, reason, seconds), count in sorted(reasons.items(), key=lambda i: -i[1]):
            lines.append(f"  {label} {reason} {seconds}s: {count}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(summary(sys.argv[1]))
