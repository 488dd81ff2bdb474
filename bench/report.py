"""The benchmark's outputs: results.json (every run and the medians), RESULTS.md
(tables, goals, the machine, the versions, the command) and PNG plots."""

import json
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["GOALS", "medians", "peer_medians", "write_report"]

# (title, scenario, mode prefix, figure path, limit, "max" or "min")
GOALS = [
    (
        "Steady 1,000 jobs/s: enqueue-to-start p99 with workers under 10 ms",
        "steady",
        "workers-",
        ("enqueue_to_start_ms", "p99"),
        10.0,
        "max",
    ),
    (
        "Steady 1,000 jobs/s: enqueue-to-start p99 through the local Lambda runtime "
        "with async invoke under 250 ms",
        "steady",
        "lambda-nudge-",
        ("enqueue_to_start_ms", "p99"),
        250.0,
        "max",
    ),
]


def _median_of(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, dict) for v in present):
        keys = {k for v in present for k in v}
        return {k: _median_of([v.get(k) for v in present]) for k in sorted(keys)}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return round(statistics.median(present), 3)
    return present[0]


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per "scenario/mode": the median of every figure over its runs (lost and
    duplicated: the worst run, since one loss is one too many)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(f"{run['scenario']}/{run['mode']}", []).append(run)
    out = {}
    for key, group in groups.items():
        merged = _median_of([{**r["figures"], **r.get("mode_figures", {})} for r in group])
        for worst in ("lost", "unfinished", "duplicated", "unexpected"):
            merged[worst] = max(r["figures"].get(worst, 0) for r in group)
        merged["runs"] = len(group)
        out[key] = merged
    return out


def peer_medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per "scenario/peer": medians over its runs; a peer that failed keeps its error."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(f"{run['scenario']}/{run['peer']}", []).append(run)
    out = {}
    for key, group in groups.items():
        good = [r for r in group if "error" not in r]
        if not good:
            out[key] = {"error": group[-1]["error"]}
            continue
        merged = _median_of(good)
        for worst in ("lost", "duplicated"):
            merged[worst] = max(r.get(worst) or 0 for r in good)
        merged["runs"] = len(good)
        out[key] = merged
    return out


def _best_task_engine(
    summary: dict[str, dict[str, Any]], scenario: str
) -> tuple[str, float] | None:
    """The fastest task-engine mode of a scenario (processed/s)."""
    found = [
        (key.split("/", 1)[1], f["processed_per_s"])
        for key, f in summary.items()
        if key.startswith(f"{scenario}/") and f.get("processed_per_s")
    ]
    return max(found, key=lambda t: t[1]) if found else None


def _peer_lines(document: dict[str, Any]) -> list[str]:
    peers: dict[str, dict[str, Any]] = document.get("peers") or {}
    if not peers:
        return ["Not run (`--peers` to include them)."]
    lines = []
    for scenario in ("drain", "steady"):
        rows = {k.split("/", 1)[1]: f for k, f in peers.items() if k.startswith(f"{scenario}/")}
        if not rows:
            continue
        best = _best_task_engine(document["summary"], scenario)
        head = [
            "peer",
            "version",
            "processed/s",
            "task-engine ÷ peer",
            "enqueue→start ms p50 / p99",
            "CPU s / 1,000 jobs",
            "lost",
            "duplicated",
            "worker configuration",
            "what it persists",
        ]
        lines += [f"### {scenario}", ""]
        if best:
            lines += [f"task-engine's fastest mode here: `{best[0]}` at {best[1]:,.1f} jobs/s.", ""]
        lines += [_row(head), _row(["---"] * len(head))]
        for peer, f in rows.items():
            if "error" in f:
                lines.append(
                    _row([peer, "-", "failed: " + f["error"].replace("|", "/")[:200]] + ["-"] * 7)
                )
                continue
            rate = f.get("processed_per_s")
            ratio = f"{best[1] / rate:.2f}" if best and rate else "-"
            e2s = f.get("enqueue_to_start_ms") or {}
            lines.append(
                _row(
                    [
                        peer,
                        f.get("version", "-"),
                        _fmt(rate),
                        ratio,
                        f"{_fmt(e2s.get('p50'), 2)} / {_fmt(e2s.get('p99'), 2)}",
                        _fmt(f.get("cpu_s_per_1000_jobs"), 2),
                        _fmt(f.get("lost")),
                        _fmt(f.get("duplicated")),
                        f.get("config", "-"),
                        f.get("persists", "-"),
                    ]
                )
            )
        lines.append("")
    return lines


def _get(figures: dict[str, Any], *path: str) -> Any:
    value: Any = figures
    for part in path:
        if not isinstance(value, dict) or value.get(part) is None:
            return None
        value = value[part]
    return value


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _scenario_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    head = [
        "mode",
        "processed/s",
        "unsent",
        "submit ms p50 / p99",
        "enqueue→start ms p50 / p95 / p99 / max",
        "submit→finish ms p50 / p99 / max",
        "start→first job s",
        "CPU s / 1,000 jobs",
        "retries",
        "DLQ",
        "lost",
        "unfinished",
        "duplicated",
    ]
    lines = [_row(head), _row(["---"] * len(head))]
    for mode, f in rows.items():
        e2s, s2f, sub = (
            f.get(k) or {} for k in ("enqueue_to_start_ms", "submit_to_finish_ms", "submit_ms")
        )
        lines.append(
            _row(
                [
                    f"`{mode}`",
                    _fmt(f.get("processed_per_s")),
                    _fmt(f.get("unsent")),
                    f"{_fmt(sub.get('p50'), 2)} / {_fmt(sub.get('p99'), 2)}",
                    " / ".join(_fmt(e2s.get(q), 2) for q in ("p50", "p95", "p99", "max")),
                    " / ".join(_fmt(s2f.get(q), 1) for q in ("p50", "p99", "max")),
                    _fmt(f.get("start_to_first_job_s"), 2),
                    _fmt(f.get("cpu_s_per_1000_jobs"), 2),
                    _fmt(f.get("retries")),
                    _fmt(f.get("dead_lettered")),
                    _fmt(f.get("lost")),
                    _fmt(f.get("unfinished")),
                    _fmt(f.get("duplicated")),
                ]
            )
        )
    return lines


def _lambda_table(summary: dict[str, dict[str, Any]]) -> list[str]:
    head = [
        "scenario / mode",
        "function",
        "invocations",
        "cold starts",
        "init ms p50 / p95",
        "warm round trip ms p50",
    ]
    lines = [_row(head), _row(["---"] * len(head))]
    for key, f in summary.items():
        for function, g in (f.get("functions") or {}).items():
            init = g.get("init_ms") or {}
            warm = g.get("warm_round_trip_ms") or {}
            lines.append(
                _row(
                    [
                        f"`{key}`",
                        function,
                        _fmt(g.get("invocations")),
                        _fmt(g.get("cold_starts")),
                        f"{_fmt(init.get('p50'))} / {_fmt(init.get('p95'))}",
                        _fmt(warm.get("p50"), 2),
                    ]
                )
            )
    return lines if len(lines) > 2 else []


def _kept_up(figures: dict[str, Any], document: dict[str, Any]) -> str | None:
    """Why a steady run does not count: the mode took the arrivals late or not at
    all (its enqueue-to-start then covers only what it let in); None if it kept up."""
    rate = next((s.get("rate") for s in document["scenarios"] if s["name"] == "steady"), None)
    submit_p99 = _get(figures, "submit_ms", "p99")
    if figures.get("unsent"):
        taken = figures.get("processed_per_s")
        rate_taken = f" (it took {taken:,.0f} jobs/s)" if taken else ""
        return f"{figures['unsent']:,} arrivals could not be sent in time{rate_taken}"
    if submit_p99 is not None and submit_p99 > 1000:
        return f"submits queued behind the mode (submit p99 {submit_p99:,.0f} ms)"
    per_s = figures.get("processed_per_s")
    if rate and per_s and per_s < 0.9 * rate:
        return f"it processed {per_s:,.0f} jobs/s of the {rate:,.0f}/s offered"
    return None


def _goal_lines(document: dict[str, Any]) -> list[str]:
    summary = document["summary"]
    cold = document.get("cold_start")
    lines = []
    best = _best_task_engine(summary, "drain")
    peers = [
        (k.split("/", 1)[1], f["processed_per_s"])
        for k, f in (document.get("peers") or {}).items()
        if k.startswith("drain/") and f.get("processed_per_s")
    ]
    if best and peers:
        fastest = max(peers, key=lambda t: t[1])
        ratio = best[1] / fastest[1]
        verdict = "met" if ratio >= 2 else f"MISSED: {ratio:.2f} times where 2 was the goal"
        lines.append(
            f"- Drain: task-engine (`{best[0]}`, {best[1]:,.0f} jobs/s, a PostgreSQL row per "
            f"job) at least twice the fastest peer ({fastest[0]}, {fastest[1]:,.0f} jobs/s): "
            f"{ratio:.2f} times → {verdict}."
        )
    else:
        lines.append("- Drain against the fastest peer: not measured in this run (no peers).")
    for title, scenario, prefix, path, limit, kind in GOALS:
        found = [
            (key.split("/", 1)[1], _get(f, *path))
            for key, f in summary.items()
            if key.startswith(f"{scenario}/{prefix}")
        ]
        found = [(m, v) for m, v in found if v is not None]
        if not found:
            lines.append(f"- {title}: not measured in this run.")
            continue
        for mode, value in found:
            short = _kept_up(summary[f"{scenario}/{mode}"], document)
            met = value <= limit if kind == "max" else value >= limit
            if short is not None:
                verdict = f"MISSED: {short}"
            elif met:
                verdict = "met"
            else:
                verdict = (
                    f"MISSED by {abs(value - limit):,.1f} ({value / limit:.2f} times the limit)"
                )
            lines.append(f"- {title}: `{mode}` {value:,.2f} → {verdict}.")
    inits = [(fn, _get(g, "init_ms", "p50")) for fn, g in (cold or {}).items()]
    inits = [(fn, v) for fn, v in inits if v is not None]
    if inits:
        worst = max(inits, key=lambda t: t[1])
        verdict = "met" if worst[1] < 300 else f"MISSED by {worst[1] - 300:,.1f} ms"
        lines.append(
            f"- Cold start: init p50 under 300 ms for every function (one environment "
            f"at a time): the slowest is {worst[0]} at {worst[1]:,.1f} ms → {verdict}."
        )
    else:
        lines.append("- Cold start: no Lambda mode in this run.")
    return lines


def _cold_lines(cold: dict[str, Any] | None, summary: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    if cold:
        head = [
            "function",
            "fresh environments",
            "init ms p50 / p95",
            "spawn to first answer ms p50",
        ]
        lines += [_row(head), _row(["---"] * len(head))]
        for function, g in cold.items():
            init = g.get("init_ms") or {}
            first = g.get("spawn_to_first_answer_ms") or {}
            lines.append(
                _row(
                    [
                        function,
                        _fmt(g.get("environments")),
                        f"{_fmt(init.get('p50'))} / {_fmt(init.get('p95'))}",
                        _fmt(first.get("p50")),
                    ]
                )
            )
        lines.append("")
    spawns = [
        (key.split("/", 1)[1], f["start_to_first_job_s"])
        for key, f in summary.items()
        if key.startswith("drain/") and f.get("start_to_first_job_s") is not None
    ]
    lines += [
        f"- `{mode}`: from starting the processors (process spawn; container start for "
        f"compose) to the first job of the backlog completed: {value:,.2f} s."
        for mode, value in spawns
    ]
    return lines


def write_report(out: Path, document: dict[str, Any]) -> Path:
    """Writes results.json, the plots and RESULTS.md under `out`; returns the page."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(document, indent=1) + "\n")
    plots = _plots(out, document)
    summary = document["summary"]
    lines = [
        "# task-engine benchmark results",
        "",
        *([f"**Note:** {document['note']}", ""] if document.get("note") else []),
        f"Generated by `{document['command']}` on {document['finished']} "
        f"in {document['duration_s']:,.0f} s. Every figure is the median of "
        f"{document['runs_per_case']} run(s) (lost and duplicated: the worst run); "
        "latencies come from the job timestamps in PostgreSQL, read through the API.",
        "",
        "## Machine and versions",
        "",
        *(f"- {k}: {v}" for k, v in document["machine"].items()),
        *(f"- {k} {v}" for k, v in document["versions"].items()),
        "",
        "## Goals",
        "",
        *_goal_lines(document),
        "",
        "## Modes",
        "",
        *(f"- `{m['name']}`: {m['description']}" for m in document["modes"]),
        *(f"- `{name}`: not run: {why}" for name, why in document["skipped"].items()),
        "",
    ]
    for scenario in document["scenarios"]:
        rows = {
            key.split("/", 1)[1]: f
            for key, f in summary.items()
            if key.split("/", 1)[0] == scenario["name"]
        }
        if not rows:
            continue
        lines += [f"## {scenario['name']}", "", scenario["description"] + ".", ""]
        lines += _scenario_table(rows)
        lines += [""] + [
            f"![{p.stem}](plots/{p.name})" for p in plots if p.stem.startswith(scenario["name"])
        ]
        lines.append("")
    lines += [
        "## Cold start",
        "",
        "Each function's init in fresh local execution environments, one at a time on an",
        "otherwise idle machine; the burst scenario shows what cold starts cost under load.",
        "",
        *_cold_lines(document.get("cold_start"), summary),
        "",
    ]
    lines += ["## Peers", "", *_peer_lines(document), ""]
    lambda_lines = _lambda_table(summary)
    if lambda_lines:
        lines += [
            "## Lambda execution environments in the scenarios",
            "",
            "Inits here overlap with each other and with the load on the same 2 cores.",
            "",
            *lambda_lines,
            "",
        ]
    lines += [
        "CPU seconds are those of the mode's own processes (API, workers, or the",
        "local Lambda runtime and its environments), not PostgreSQL's or Redis'.",
        "",
    ]
    page = out / "RESULTS.md"
    page.write_text("\n".join(lines))
    return page


def _plots(out: Path, document: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = out / "plots"
    folder.mkdir(exist_ok=True)
    made: list[Path] = []
    summary = document["summary"]
    for scenario in document["scenarios"]:
        name = scenario["name"]
        rows = {k.split("/", 1)[1]: f for k, f in summary.items() if k.split("/", 1)[0] == name}
        if not rows:
            continue
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        modes = list(rows)
        left.barh(modes, [rows[m].get("processed_per_s") or 0 for m in modes], color="#3b7dd8")
        left.set_xlabel("processed jobs/s")
        left.invert_yaxis()
        width = 0.8 / 4
        for i, q in enumerate(("p50", "p95", "p99", "max")):
            values = [_get(rows[m], "submit_to_finish_ms", q) or 0 for m in modes]
            right.barh([j + i * width for j in range(len(modes))], values, height=width, label=q)
        right.set_yticks([j + 1.5 * width for j in range(len(modes))], modes)
        right.set_xscale("symlog")
        right.set_xlabel("submit→finish ms")
        right.invert_yaxis()
        right.legend(fontsize=7)
        fig.suptitle(f"{name}: {scenario['description']}", fontsize=8)
        fig.tight_layout()
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append(path)
    timelines = [r for r in document["runs"] if r["scenario"] == "burst" and r.get("timeline")]
    if timelines:
        fig, axis = plt.subplots(figsize=(11, 4))
        seen = set()
        for run in timelines:
            if run["mode"] in seen:
                continue
            seen.add(run["mode"])
            xs, ys = zip(*run["timeline"], strict=True)
            axis.scatter(xs, ys, s=4, label=run["mode"])
        axis.set_yscale("log")
        axis.set_xlabel("seconds since the scenario started (bursts after idle)")
        axis.set_ylabel("submit→finish ms")
        axis.legend(fontsize=7)
        fig.tight_layout()
        path = folder / "burst-timeline.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append(path)
    return made
