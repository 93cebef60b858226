#!/usr/bin/env python3
"""Turns a switchyard_bench JSON run into the tables of docs/PERFORMANCE.md.

    report.py RESULTS.json [--instructions INSTRUCTIONS.json] --out DIR

Every figure is the median over the repetitions of one run (the machine is
shared and noisy); ratios are medians divided by medians from that same run.
The time is CPU time of the benchmark thread, except for benchmarks that
declare wall-clock time (their name ends in /real_time: threads that wait).
Writes DIR/results.md (the tables), DIR/switch.dat and DIR/scaling.dat (the
data of the two plots, read by plots.gp). Python 3 standard library only.
"""

import argparse
import json
import os
import re
import statistics
import sys
from collections import defaultdict

SWITCH_ROWS = [
    ("switch/switchyard", "switchyard switch_to (Environment member)"),
    ("switch/switchyard_free_function", "switchyard::switch_to (free function)"),
    ("switch/boost_context_fiber", "raw boost::context::fiber (the floor)"),
    ("switch/boost_fiber_yield", "Boost.Fiber yield"),
    ("switch/boost_fiber_promise_per_switch", "Boost.Fiber, fresh promise per switch"),
    ("switch/posix_swapcontext", "POSIX swapcontext"),
    ("switch/gnu_pth", "GNU Pth pth_uctx_switch"),
    ("switch/std_thread_condvar/real_time", "2 std::threads, mutex + condvar"),
]
# Short labels for the bar chart, in the same order.
SWITCH_LABELS = {
    "switch/switchyard": "switchyard",
    "switch/switchyard_free_function": "switchyard (free fn)",
    "switch/boost_context_fiber": "Boost.Context fiber",
    "switch/boost_fiber_yield": "Boost.Fiber yield",
    "switch/boost_fiber_promise_per_switch": "Boost.Fiber promise",
    "switch/posix_swapcontext": "swapcontext",
    "switch/gnu_pth": "GNU Pth",
    "switch/std_thread_condvar/real_time": "std::thread condvar",
}
CREATE_ROWS = [
    ("create_destroy_unstarted/switchyard_guard", "switchyard create+destroy, unstarted, guard page"),
    ("create_destroy_unstarted/switchyard_noguard", "switchyard create+destroy, unstarted, no guard"),
    ("create_destroy_unstarted/switchyard_guard_nocache", "switchyard, unstarted, guard, stack cache off"),
    ("create_destroy_unstarted/boost_pooled_run", "Boost.Context create+run+destroy, pooled stack"),
    ("create_destroy_unstarted/boost_protected_run", "Boost.Context create+run+destroy, protected stack"),
    ("create_park_destroy/switchyard_guard", "switchyard create+switch+destroy (unwind), guard"),
    ("create_park_destroy/switchyard_noguard", "switchyard create+switch+destroy (unwind), no guard"),
    ("create_park_destroy/boost_pooled_unwind", "Boost.Context park+forced_unwind, pooled stack"),
    ("create_park_destroy/boost_protected_unwind", "Boost.Context park+forced_unwind, protected stack"),
]
# Out-of-line paths, the floating-point cliff, and what the native switch's
# floating-point work costs (switch_price/*: two records and a stack, no
# environment; x86-64 native backend only). Reference: the inline switch_to.
EMBEDDER_ROWS = [
    ("switch/switchyard", "inline C++ switch_to"),
    ("switch/c_api", "C API sy_switch_to"),
    ("switch/wasix/real_time", "<wasix/context.h>, wall time (own thread)"),
    ("switch/wasix_cpu/process_time", "<wasix/context.h>, process CPU time"),
    ("switch_fp_mismatch/switchyard", "switch_to, sticky FP flags differ"),
    ("switch_fp_mismatch/boost_context_fiber", "raw Boost.Context, sticky FP flags differ"),
    ("switch/boost_context_fiber", "raw Boost.Context, flags match"),
    ("switch_price/swap", "bare swap, no FP work"),
    ("switch_price/stmxcsr_no_compare", "bare swap + stmxcsr/fnstcw, not read back"),
    ("switch_price/stmxcsr_compare", "bare swap + stmxcsr/fnstcw + compare (switch_to's FP work)"),
]
LOGGING_ROWS = [
    ("logging/level_off", "switch round trip, logging compiled in, level off"),
    ("logging/no_call_sites", "switch round trip, SWITCHYARD_NO_LOGGING"),
]
SCALING_SERIES = [
    ("scaling_switch/switchyard", "switchyard switch round trip"),
    ("scaling_switch/boost_context_fiber", "raw Boost.Context round trip"),
    ("scaling_create_destroy/switchyard", "switchyard create+destroy (unstarted)"),
    ("scaling_create_park_destroy/switchyard", "switchyard create+switch+destroy"),
]


def load_runs(path):
    """{run name: [per-repetition dicts]} for the iteration runs."""
    with open(path) as f:
        data = json.load(f)
    runs = defaultdict(list)
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if b.get("error_occurred"):
            sys.exit(f"report.py: {b['name']} failed: {b.get('error_message')}")
        name = re.sub(r"/iterations:\d+", "", b["run_name"])
        runs[name].append(b)
    return data["context"], runs


class Figures:
    def __init__(self, runs):
        self.runs = runs

    def has(self, name):
        return name in self.runs

    def times(self, name):
        key = "real_time" if name.endswith("/real_time") else "cpu_time"
        return [r[key] for r in self.runs[name]]

    def median(self, name):
        return statistics.median(self.times(name))

    def spread(self, name):
        """Coefficient of variation over the repetitions, in percent."""
        t = self.times(name)
        if len(t) < 2:
            return float("nan")
        return 100.0 * statistics.stdev(t) / statistics.mean(t)

    def counter(self, name, counter):
        return statistics.median(r[counter] for r in self.runs[name])

    def ratio(self, a, b):
        if not (self.has(a) and self.has(b)):
            return None
        return self.median(a) / self.median(b)


def fmt_ns(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}"


def fmt_ratio(v):
    return "n/a" if v is None else f"{v:.2f}x"


def verdict(value, limit, aim=None):
    if value is None:
        return "not measured"
    if value > limit:
        return "**missed**"
    if aim is not None and value > aim:
        return "met (not the aim)"
    return "met"


def instruction_column(instructions, name):
    # The kernel of a timed variant ("x/real_time", "x/process_time") is "x".
    v = instructions.get(re.sub(r"/(real|process)_time$", "", name))
    return "" if v is None else f"{v:,.0f}"


def table(fig, rows, reference, instructions, per_switch=False):
    head = "| benchmark | median ns | cv % | x reference |"
    sep = "|---|---:|---:|---:|"
    if per_switch:
        head = "| system | ns per round trip | ns per switch | cv % | x raw Boost.Context |"
        sep = "|---|---:|---:|---:|---:|"
    if instructions:
        head += " instructions |"
        sep += "---:|"
    lines = [head, sep]
    for name, label in rows:
        if not fig.has(name):
            continue
        m = fig.median(name)
        cells = [label, fmt_ns(m)]
        if per_switch:
            cells.append(fmt_ns(m / 2))
        cells += [f"{fig.spread(name):.1f}", fmt_ratio(fig.ratio(name, reference))]
        if instructions:
            cells.append(instruction_column(instructions, name))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def scaling_populations(fig):
    pops = set()
    for name in fig.runs:
        m = re.match(r"scaling_\w+/[\w]+/(\d+)$", name)
        if m:
            pops.add(int(m.group(1)))
    return sorted(pops)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("--instructions", help="JSON from bench/run.sh --callgrind: {kernel: instructions per iteration}")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    context, runs = load_runs(args.results)
    fig = Figures(runs)
    instructions = {}
    if args.instructions:
        with open(args.instructions) as f:
            instructions = json.load(f)
    reps = max((len(v) for v in runs.values()), default=0)
    out = []
    caches = ", ".join(
        f"L{c['level']} {c['type'][0]} {c['size'] // 1024} KiB" for c in context.get("caches", []))
    out.append(f"Run {context.get('date', '?')}: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz "
               f"({caches}); load average at start {', '.join(f'{x:.2f}' for x in context.get('load_avg', []))}; "
               f"{reps} repetitions, medians.")
    out.append("")

    out.append("### Switch round trip (main -> peer -> main)")
    out.append("")
    out += table(fig, SWITCH_ROWS, "switch/boost_context_fiber", instructions, per_switch=True)
    out.append("")
    def section(title, parts):
        """A titled group of tables: (rows, reference, label of the ratio column)."""
        out.extend([f"### {title}", ""])
        for rows, reference, label in parts:
            lines = table(fig, rows, reference, instructions)
            lines[0] = lines[0].replace("x reference", f"x {label}")
            out.extend(lines + [""])

    section("Create / destroy", [
        (CREATE_ROWS[:5], "create_destroy_unstarted/boost_pooled_run", "Boost pooled create+run+destroy"),
        (CREATE_ROWS[5:], "create_park_destroy/boost_pooled_unwind", "Boost pooled park+unwind"),
    ])
    section("Embedder paths, the floating-point cliff, the price of the FP work",
            [(EMBEDDER_ROWS, "switch/switchyard", "inline switch_to")])
    section("Logging cost on the switch path", [(LOGGING_ROWS, "logging/no_call_sites", "without call sites")])

    pops = scaling_populations(fig)
    out.append("### Scaling with live suspended contexts (16 KiB stacks, no guard pages)")
    out.append("")
    out.append("| live contexts | " + " | ".join(label + " ns" for _, label in SCALING_SERIES) +
               " | switchyard / raw switch | switchyard RSS per context | Boost RSS per context |")
    out.append("|---:|" + "---:|" * (len(SCALING_SERIES) + 3))
    scaling_dat = ["# live " + " ".join(s for s, _ in SCALING_SERIES) + " rss_switchyard rss_boost"]
    for n in pops:
        cells = [f"{n:,}"]
        dat = [str(n)]
        for series, _ in SCALING_SERIES:
            name = f"{series}/{n}"
            cells.append(f"{fmt_ns(fig.median(name))} ({fig.spread(name):.0f}%)" if fig.has(name) else "n/a")
            dat.append(f"{fig.median(name):.3f}" if fig.has(name) else "NaN")
        cells.append(fmt_ratio(fig.ratio(f"scaling_switch/switchyard/{n}", f"scaling_switch/boost_context_fiber/{n}")))
        rss = []
        for series in ("scaling_switch/switchyard", "scaling_switch/boost_context_fiber"):
            name = f"{series}/{n}"
            v = fig.counter(name, "rss_per_context") if fig.has(name) else None
            rss.append(v)
            cells.append("n/a" if v is None else f"{v / 1024:.2f} KiB")
        dat += ["NaN" if v is None else f"{v:.1f}" for v in rss]
        out.append("| " + " | ".join(cells) + " |")
        scaling_dat.append(" ".join(dat))
    out.append("")

    # Goals of issue 4.
    big, small = (pops[-1], pops[0]) if pops else (None, None)
    g = []
    g.append(("switch_to vs raw Boost.Context", fig.ratio("switch/switchyard", "switch/boost_context_fiber"),
              "<= 2.0x, aim 1.3x", 2.0, 1.3))
    g.append(("unstarted create+destroy (guard) vs Boost pooled create+run+destroy",
              fig.ratio("create_destroy_unstarted/switchyard_guard", "create_destroy_unstarted/boost_pooled_run"),
              "<= 3x", 3.0, None))
    g.append(("create+park+destroy (guard) vs Boost pooled park+forced_unwind",
              fig.ratio("create_park_destroy/switchyard_guard", "create_park_destroy/boost_pooled_unwind"),
              "<= 1.75x, aim 1.3x", 1.75, 1.3))
    if big:
        rss_name = f"scaling_switch/switchyard/{big}"
        rss = fig.counter(rss_name, "rss_per_context") / 1024 if fig.has(rss_name) else None
        g.append((f"RSS per live context at {big:,} (KiB)", rss, "<= 6 KiB", 6.0, None))
        # A ratio to the 1k case means something only if the 1k case itself
        # costs about what it costs with no population at all.
        for series, none_live, label in (
                ("scaling_create_destroy/switchyard", "create_destroy_unstarted/switchyard_noguard", "create+destroy"),
                ("scaling_create_park_destroy/switchyard", "create_park_destroy/switchyard_noguard",
                 "create+switch+destroy")):
            ratio = fig.ratio(f"{series}/{big}", f"{series}/{small}")
            baseline = fig.ratio(f"{series}/{small}", none_live)
            row = (f"{label} at {big:,} live vs at {small:,}", ratio, "<= 1.5x", 1.5, None)
            if ratio is not None and baseline is not None and baseline > 1.5:
                row += (f"**not meaningful**: at {small:,} live it already costs {baseline:.1f}x "
                        f"the cost with none live",)
            g.append(row)
        # The ratio to the 1k case hides a cost that grows with the population
        # at any N; compare the worst population with none live as well.
        worst = max((n for n in pops if fig.has(f"scaling_create_destroy/switchyard/{n}")),
                    key=lambda n: fig.median(f"scaling_create_destroy/switchyard/{n}"), default=None)
        if worst is not None:
            g.append((f"create+destroy at {worst:,} live (the worst N) vs none live",
                      fig.ratio(f"scaling_create_destroy/switchyard/{worst}",
                                "create_destroy_unstarted/switchyard_noguard"),
                      "<= 1.5x (implied)", 1.5, None))
        g.append((f"switch at {big:,} live vs raw Boost.Context at {big:,}",
                  fig.ratio(f"scaling_switch/switchyard/{big}", f"scaling_switch/boost_context_fiber/{big}"),
                  "<= 1.5x", 1.5, None))
    g.append(("logging compiled in (level off) vs no call sites",
              fig.ratio("logging/level_off", "logging/no_call_sites"), "nothing measurable", 1.05, None))
    goals = ["| goal | measured | target | verdict |", "|---|---:|---|---|"]
    for label, value, target, limit, aim, *override in g:
        shown = "n/a" if value is None else (f"{value:.2f}" if "KiB" in label else fmt_ratio(value))
        goals.append(f"| {label} | {shown} | {target} | {override[0] if override else verdict(value, limit, aim)} |")
    out = ["### Goals", ""] + goals + [""] + out

    with open(f"{args.out}/results.md", "w") as f:
        f.write("\n".join(out) + "\n")
    with open(f"{args.out}/scaling.dat", "w") as f:
        f.write("\n".join(scaling_dat) + "\n")
    with open(f"{args.out}/switch.dat", "w") as f:
        f.write("# label ns_per_switch\n")
        for name, _ in SWITCH_ROWS:
            if fig.has(name):
                f.write(f'"{SWITCH_LABELS[name]}" {fig.median(name) / 2:.3f}\n')
    print("\n".join(out))


if __name__ == "__main__":
    main()
