"""Medians, ranges and ratios of the samples; one table per database mode."""

import statistics

from sendbench.rounds import CONTENDERS

RATIOS = (("c1", "peer1"), ("c2", "peer2"), ("c1", "a"), ("c2", "a"), ("c2", "a2"), ("c1s", "a"), ("c1s", "peer1"))


def summarise(mode):
    rates = {key: [s["msgs_per_s"] for s in samples] for key, samples in mode["samples"].items() if samples}
    medians = {key: statistics.median(values) for key, values in rates.items()}
    summary = {}
    for key, _label, base in CONTENDERS:
        if key not in rates:
            continue
        row = {"median": medians[key], "min": min(rates[key]), "max": max(rates[key])}
        if base in medians:
            row["x_baseline"] = medians[key] / medians[base]
        if key.startswith("peer"):
            row["queue_median_msgs_per_s"] = statistics.median(s["queue_msgs_per_s"] for s in mode["samples"][key])
        shares = [s["sink_cpu_share"] for s in mode["samples"][key] if "sink_cpu_share" in s]
        if shares:
            row["sink_cpu_share_max"] = max(shares)
        if any("peak_rss_mb" in s for s in mode["samples"][key]):
            row["peak_rss_mb"] = max(s["peak_rss_mb"] for s in mode["samples"][key])
        summary[key] = row
    mode["summary"] = summary
    mode["ratios"] = {f"{a}/{b}": medians[a] / medians[b] for a, b in RATIOS if a in medians and b in medians}
    loads = [r["load_before"][0] for r in mode["rounds"]] + [r["load_after"][0] for r in mode["rounds"]]
    mode["load_1min"] = {"min": min(loads), "max": max(loads)}
    return mode


def table(mode):
    lines = [
        f"| {mode['mode']} ({mode['clients']:,} clients) | msgs/s, median (min–max) | × (a) | notes |",
        "| --- | ---: | ---: | --- |",
    ]
    labels = {key: label for key, label, _base in CONTENDERS}
    for key, row in mode["summary"].items():
        notes = []
        if key.startswith("peer"):
            notes.append(f"queueing {row['queue_median_msgs_per_s']:,.0f} msgs/s")
        if key in ("a", "a2", "a_p", "b", "c1", "d1"):
            size = {"a_p": "engine_personalised", "d1": "engine_personalised", "b": "naive"}.get(key, "engine_plain")
            notes.append(f"{mode['bytes'][size]:,} bytes")
        if key == "b":
            notes.append(f"on {mode['naive_clients']:,} clients")
        if key in ("a", "a2") and "sink_cpu_share_max" in row:
            notes.append(f"sink ≤ {row['sink_cpu_share_max']:.0%} of a core")
        if "peak_rss_mb" in row:
            notes.append(f"peak RSS {row['peak_rss_mb']:.0f} MB")
        ratio = f"{row['x_baseline']:.2f}" if "x_baseline" in row else ""
        lines.append(
            f"| {labels[key]} | {row['median']:,.0f} ({row['min']:,.0f}–{row['max']:,.0f}) | {ratio} | "
            f"{', '.join(notes)} |"
        )
    ratios = ", ".join(f"{name} **{value:.2f}×**" for name, value in mode["ratios"].items())
    lines.append("")
    if ratios:
        lines.append(f"Ratios of medians: {ratios}.")
    load = mode["load_1min"]
    lines.append(
        f"Load average (1 min) {load['min']:.2f}–{load['max']:.2f} around the rounds; "
        f"synchronous_commit {mode['synchronous_commit'] or 'n/a'}, "
        f"MAILINGS_ASYNC_COMMIT {mode['mailings_async_commit']}; {len(mode['rounds'])} rounds, "
        f"{mode['seconds_total']:.0f} s."
    )
    return "\n".join(lines)
