"""What ``nncourse grade`` writes for the instructor: grades.csv, report.html and its figures."""
import csv
import html
from pathlib import Path

from .autograde import Status

NOT_SUBMITTED = ("missing",)


def test_columns(results):
    """Column names for the tests, in notebook order (``notebook:grade_id`` if several notebooks)."""
    cols, notebooks = [], {r.notebook for rs in results.values() for r in rs}
    for rs in results.values():
        for r in rs:
            for t in r.tests:
                key = t.grade_id if len(notebooks) <= 1 else f"{r.notebook}:{t.grade_id}"
                if key not in cols:
                    cols.append(key)
    return cols


def rows(results, lateness=None):
    """One row per student: points per test (blank: a person must grade it), total (after the
    late penalty), max, how late and the penalty, status, message."""
    lateness = lateness or {}
    cols = test_columns(results)
    several = len({r.notebook for rs in results.values() for r in rs}) > 1
    out = []
    for student in sorted(results):
        rs = results[student]
        row = {"student": student}
        for r in rs:
            for t in r.tests:
                key = f"{r.notebook}:{t.grade_id}" if several else t.grade_id
                row[key] = t.points
        row["penalty"] = sum(r.late_penalty for r in rs)
        row["total"] = sum(r.score for r in rs) - row["penalty"]
        row["max"] = sum(r.max_score for r in rs)
        row["late"] = _late(lateness.get(student, {}).get("seconds_late", 0.0))
        manual = [t.grade_id for r in rs for t in r.tests if t.needs_manual_grade]
        row["status"] = str(Status.worst(r.status for r in rs))
        row["message"] = "; ".join(n for r in rs for n in r.notes) or "; ".join(
            f"{t.grade_id}: {t.message}" for r in rs for t in r.tests
            if t.message and not t.needs_manual_grade)
        if manual:
            row["message"] = "; ".join(filter(None, [row["message"], "needs manual grading: "
                                                     + ", ".join(manual)]))
        out.append(row)
    return cols, out


def write_csv(path, cols, table):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([inert(h) for h in
                    ["student", *cols, "total", "max", "late", "penalty", "status", "message"]])
        for row in table:
            w.writerow([inert(row["student"]), *(_num(row.get(c)) for c in cols),
                        _num(row["total"]), _num(row["max"]), row["late"],
                        _num(row["penalty"]), inert(row["status"]), inert(row["message"])])


def inert(text):
    """A text cell a spreadsheet shows as text: one it would run as a formula (=, +, -, @, or
    a tab or return first) gets a leading apostrophe, as OWASP advises for CSV files."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _late(seconds):
    """How late, as a person reads it: "" when on time, else e.g. "2 h 5 min"."""
    if not seconds or seconds <= 0:
        return ""
    minutes = int(round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min"]
    return " ".join(p for p in parts if p) if minutes else f"{seconds:.0f} s"


def _num(x):
    if x is None:
        return ""
    return f"{x:g}" if isinstance(x, float) else str(x)


def figures(out_dir, cols, table, max_score):
    """A histogram of totals and a bar chart of the pass rate per test (PNG, matplotlib Agg)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    submitted = [r for r in table if r["status"] not in NOT_SUBMITTED]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    totals = [r["total"] for r in table]
    bins = max(1, min(20, int(max_score) if max_score >= 1 else 1))
    ax.hist(totals, bins=bins, range=(0, max(max_score, 1e-9)), color="#4c72b0",
            edgecolor="white")
    ax.set_xlabel(f"total points (of {max_score:g})")
    ax.set_ylabel("students")
    ax.set_title("Scores")
    fig.tight_layout()
    fig.savefig(out_dir / "score_histogram.png", dpi=100)
    plt.close(fig)
    rates = pass_rates(cols, submitted)
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(cols) + 1.2))
    ax.barh(cols[::-1], [100 * rates[c] for c in cols[::-1]], color="#55a868")
    ax.set_xlim(0, 100)
    ax.set_xlabel("students with full points (%)")
    ax.set_title("Pass rate per test")
    fig.tight_layout()
    fig.savefig(out_dir / "pass_rate.png", dpi=100)
    plt.close(fig)
    return rates


def pass_rates(cols, submitted):
    """The fraction of submitted notebooks with full points on each test."""
    def full(r, c):
        return r.get(c) is not None and r[c] >= r["_max"][c]
    return {c: (sum(full(r, c) for r in submitted) / len(submitted)) if submitted else 0.0
            for c in cols}


def write_html(path, assignment, cols, table, rates, summary, refused):
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    body = []
    for r in table:
        cells = "".join(f"<td>{_num(r.get(c))}</td>" for c in cols)
        body.append(f"<tr class='{e(r['status'])}'><td>{e(r['student'])}</td>{cells}"
                    f"<td>{_num(r['total'])} / {_num(r['max'])}</td><td>{e(r['late'])}</td>"
                    f"<td>{_num(r['penalty'])}</td><td>{e(r['status'])}</td>"
                    f"<td>{e(r['message'])}</td></tr>")
    rate_rows = "".join(f"<tr><td>{e(c)}</td><td>{100 * rates[c]:.0f}%</td></tr>" for c in cols)
    refused_html = ""
    if refused:
        items = "".join(f"<li><code>{e(n)}</code>: {e(why)}</li>" for n, why in refused)
        refused_html = f"<h2>Refused files</h2><ul>{items}</ul>"
    path.write_text(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Grades: {e(assignment)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}
tr.graded td{{background:#fff}} tr.missing td,tr.invalid td,tr.empty td,tr.error td{{background:#fee}}
tr.timeout td,tr.crashed td,tr.memory td,tr.tampered td{{background:#fff4e0}}</style></head>
<body><h1>Grades: {e(assignment)}</h1><p>{e(summary)}</p>
<img src="score_histogram.png" alt="histogram of total scores">
<img src="pass_rate.png" alt="pass rate per test">
<h2>Pass rate per test</h2><table><tr><th>test</th><th>full points</th></tr>{rate_rows}</table>
<h2>Students</h2><table><tr><th>student</th>{head}<th>total</th><th>late</th><th>penalty</th><th>status</th>
<th>message</th>
</tr>{''.join(body)}</table>{refused_html}</body></html>
""", encoding="utf-8")


def write_all(out_dir, assignment, results, summary, refused, lateness=None):
    out_dir = Path(out_dir)
    cols, table = rows(results, lateness)
    maxima = {}
    for rs in results.values():
        several = len({r.notebook for r in rs}) > 1
        for r in rs:
            for t in r.tests:
                key = f"{r.notebook}:{t.grade_id}" if several else t.grade_id
                maxima[key] = t.max_points
    for row in table:
        row["_max"] = maxima
    write_csv(out_dir / "grades.csv", cols, table)
    max_score = max([r["max"] for r in table] or [0])
    rates = figures(out_dir, cols, table, max_score)
    write_html(out_dir / "report.html", assignment, cols, table, rates, summary, refused)
    return cols, table, rates
