"""The README's results section, written from the published records and checked against them.

Every set published under ``results/published/<name>/`` (:mod:`earlyphase.records.published`)
gets a part of README.md between :data:`BEGIN` and :data:`END`: a heading, what ran (data
set, model, seeds and steps from the runs' ``final/config.json`` and ``status.json``; wall
time and machine from ``provenance.json``), Table 1 where the set has ``table1.csv``, the
claims ledger from ``claims.csv`` (one table, a neutral sentence per claim from its verdicts),
the figures, the command that rebuilds the tables from the records, and the provenance.
A set may hold any subset of the artifacts; what it lacks is left out.

Nothing in the block is typed by hand, so the block cannot drift from the records:
:func:`write` replaces it, :func:`block_diff` says how README disagrees (the test suite runs
it on the real README). Output is deterministic: sets in name order, rows in the order of
their files, numbers in fixed formats.
"""

from __future__ import annotations

import difflib
import json
import os
from collections import Counter
from pathlib import Path

import pandas as pd

from earlyphase.experiments import ARTIFACTS
from earlyphase.experiments.claims import CLAIM_ARTIFACTS
from earlyphase.operations.atomic import atomic_path
from earlyphase.records import scale_ladder
from earlyphase.records.published import PROVENANCE
from earlyphase.records.run_record import CONFIG, RunRecord
from earlyphase.report.claims import NOT_TESTED
from earlyphase.report.paper_values import SETUP_TITLES
from earlyphase.report.verdict import INCONCLUSIVE, UNCHANGED, VERDICTS

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"
NOTICE = ("<!-- Written by `make readme` (python -m earlyphase readme-results) from results/published/; "
          "edit the records or the generator, not this block. -->")
# The per-test claims that a summary claim combines (the Figure 1 sweep): a collapsed table,
# so that the visible one stays short; the sentence per claim still counts them.
SUMMARIZED = {name for artifact, _ in CLAIM_ARTIFACTS for claim in artifact.claims for name in claim.combines}


# --- numbers: one format each, so that the same records always give the same text ---------

def _signed(value) -> str:
    return "" if pd.isna(value) else f"{value:+.2f}"


def _plain(value) -> str:
    return "" if pd.isna(value) else f"{value:.2f}"


def _interval(low, high) -> str:
    return "" if pd.isna(low) else f"[{low:+.2f}, {high:+.2f}]"


def _duration(seconds: float) -> str:
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if hours or minutes else []
    return " ".join(parts + [f"{secs} s"])


def _seeds(seeds: list[int]) -> str:
    """0–3 for a contiguous run of seeds, else a list."""
    seeds = sorted(set(seeds))
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}–{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _cell(text) -> str:
    """A Markdown table cell: a pipe would end it early."""
    return str(text).replace("|", "\\|")


def _row(cells) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list]) -> list[str]:
    return [_row(header), "|" + "---|" * len(header), *(_row(r) for r in rows)]


def _setup_title(setup: str) -> str:
    return SETUP_TITLES.get(setup, setup)


# --- the parts of one set -------------------------------------------------------------------

def _runs(folder: Path) -> list[RunRecord]:
    """The run records of a set (``runs/<run id>/final/``), in path order."""
    return [RunRecord(path.parent) for path in sorted((folder / "runs").glob(f"**/final/{CONFIG}"))]


def _setting_of_setup(records: list[RunRecord]) -> str:
    """What the runs of one setup ran with: width, optimizer, batch, steps, data sizes, learning rates, seeds."""
    def values(key):
        return sorted({r.config[key] for r in records if r.config.get(key) is not None})

    first = records[0].config
    parts = []
    if first.get("width") is not None:
        parts.append("width " + ", ".join(f"{w:g}" for w in values("width")))
    if first.get("optimizer"):
        parts.append(", ".join(str(o) for o in values("optimizer")))
    if first.get("batch_size"):
        parts.append("batch " + ", ".join(str(b) for b in values("batch_size")))
    if first.get("total_steps"):
        parts.append(", ".join(f"{s:,}" for s in values("total_steps")) + " steps")
    subset = (first.get("data") or {}).get("subset") or {}
    sizes = [f"{subset[key]:,} {split}" for key, split in (("train_size", "training"), ("test_size", "test"))
             if subset.get(key)]
    if sizes:
        parts.append(f"the first {' and '.join(sizes)} images")
    if first.get("lr") is not None:
        parts.append("learning rates " + ", ".join(f"{lr:g}" for lr in values("lr")))
    seeds = [r.config["seed"] for r in records if "seed" in r.config]
    if seeds:
        parts.append("seeds " + _seeds(seeds))
    return ", ".join(parts)


def _setups(records: list[RunRecord]) -> dict[str, list[RunRecord]]:
    groups: dict[str, list[RunRecord]] = {}
    for record in records:
        groups.setdefault(record.config.get("setup") or record.config.get("arch", "runs"), []).append(record)
    return dict(sorted(groups.items()))


def _what_ran(folder: Path, provenance: dict, records: list[RunRecord]) -> str:
    machine = provenance.get("machine") or {}
    statuses = Counter(r.status.get("status", "unknown") for r in records)
    evaluated = len(list((folder / "runs").glob("**/eval/*.parquet")))
    runs = (f"{len(records)} training runs ("
            + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
            + f"), {evaluated} evaluated: ")
    runs += "; ".join(f"{_setup_title(name)} ({_setting_of_setup(group)})"
                      for name, group in _setups(records).items())
    if not records:
        runs = "no run records"
    jobs = sorted((folder / "phase_diagram").glob("**/*.parquet"))
    if jobs:  # jobs that are not training runs (:data:`earlyphase.records.published.JOB_TABLES`)
        runs += f"; {len(jobs)} FCN phase-diagram jobs (one per depth, width and initialization)"
    where = ""
    if provenance.get("wall_time_s") is not None:
        where = f"; wall time {_duration(provenance['wall_time_s'])}"
    if machine:
        gpu = machine.get("gpu") or "no GPU"
        where += f" on {machine.get('cores', '?')} CPU cores ({machine.get('cpu', 'unknown CPU')}), {gpu}"
    artifacts = ", ".join(provenance.get("artifacts", []))
    return f"**What ran:** {runs}; artifacts {artifacts}{where}."


def _table1(folder: Path) -> list[str]:
    """Table 1's cells, mean ± std over seeds (the paper's values beside them where it has any)."""
    table = pd.read_csv(folder / "table1.csv")
    has_paper = table[["paper_id", "paper_ood"]].notna().any().any()
    header = ["data set", "row", "seeds", "ID (%)", "OOD (%)"] + (["paper ID", "paper OOD"] if has_paper else [])
    rows = []
    for _, r in table.iterrows():
        label = r["row"] + (f" (k = {int(r['gu_k'])})" if not pd.isna(r["gu_k"]) else "")
        cells = [_setup_title(r["setup"]), label, str(int(r["n_seeds"])),
                 f"{_plain(r['id_mean'])} ± {_plain(r['id_std'])}", f"{_plain(r['ood_mean'])} ± {_plain(r['ood_std'])}"]
        if has_paper:
            cells += [_plain(r["paper_id"]), _plain(r["paper_ood"])]
        rows.append(cells)
    return ["**Table 1** (mean ± std over seeds):", "", *_table(header, rows)]


LEDGER_NUMBERS = ("paper_value", "n", "mean_diff", "ci_low", "ci_high", "adj_ci_low", "adj_ci_high", "margin",
                  "tost_low", "tost_high", "mde", "m")


def _read_ledger(folder: Path) -> pd.DataFrame:
    """claims.csv with its text columns as text ("" where empty) and its numbers as floats."""
    return pd.read_csv(folder / "claims.csv", keep_default_na=False,
                       na_values={column: [""] for column in LEDGER_NUMBERS})


def _setting(row: pd.Series, several_datasets: bool) -> str:
    if not several_datasets:
        return row["test"]
    return f"{_setup_title(row['dataset'])}, {row['test']}" if row["test"] else _setup_title(row["dataset"])


def _ledger_rows(rows: pd.DataFrame, several_datasets: bool) -> list[list]:
    table = []
    for _, r in rows.iterrows():
        verdict = r["verdict"] + (f" (δ = {r['margin']:.2f})" if not pd.isna(r["margin"]) else "")
        table.append([r["claim"], _setting(r, several_datasets), _signed(r["paper_value"]), _signed(r["mean_diff"]),
                      _interval(r["ci_low"], r["ci_high"]), _interval(r["adj_ci_low"], r["adj_ci_high"]), verdict,
                      "" if pd.isna(r["n"]) else str(int(r["n"])), _plain(r["mde"])])
    return table


LEDGER_HEADER = ["claim", "setting", "paper", "ours: mean", "95% interval", "adjusted interval", "verdict", "n",
                 "MDE"]


def _power(rows: pd.DataFrame) -> str:
    """The minimal detectable effect(s) of a claim's tests, named as the rule defines them."""
    mdes = rows["mde"].dropna()
    if mdes.empty:
        return ""
    what = ("smallest TOST margin shown with 80% power" if rows["direction"].iloc[0] == UNCHANGED
            else "smallest difference detectable with 80% power")
    values = f"{mdes.iloc[0]:.2f}" if len(mdes) == 1 else f"{mdes.min():.2f} to {mdes.max():.2f}"
    return f"; {what}: {values}"


def _claim_sentence(claim: str, rows: pd.DataFrame, several_datasets: bool) -> str:
    """One neutral sentence per claim, made of its statement, verdicts, reasons and numbers only."""
    first = rows.iloc[0]
    head = f"- **{claim}**: {first['statement']} Ours"
    if rows["n"].isna().all():  # a summary claim: its verdict per setting, with the reason
        return head + ": " + "; ".join(f"{_setting(r, several_datasets)}: {r['verdict']} ({r['reason']})"
                                       for _, r in rows.iterrows()) + "."
    if len(rows) == 1:
        spans = "" if pd.isna(first["adj_ci_low"]) else (
            f"; adjusted interval {_interval(first['adj_ci_low'], first['adj_ci_high'])}")
        return (f"{head} ({_setting(first, several_datasets)}): {first['verdict']} at n = {int(first['n'])} "
                f"({first['reason']}){spans}{_power(rows)}.")
    counts = Counter(rows["verdict"])
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    ns = sorted({int(n) for n in rows["n"].dropna()})
    n_text = f"n = {ns[0]} each" if len(ns) == 1 else f"n = {ns[0]} to {ns[-1]}"
    return f"{head} ({len(rows)} tests, {n_text}): {tally}{_power(rows)}."


def _judged(m: int, counts: Counter) -> str:
    """"Verdicts of the m tests", or of the part of them this set judges (the rest count in m)."""
    judged = sum(counts.values())
    if judged == m:
        return f"Verdicts of the {m} tests"
    return f"Verdicts of the {judged} tests judged here (the other {m - judged} are not judged in this set)"


def _claims(folder: Path, link: str) -> list[str]:
    ledger = _read_ledger(folder)
    tested = ledger[ledger["verdict"] != NOT_TESTED]
    several = tested["dataset"].nunique() > 1
    m = int(ledger["m"].dropna().iloc[0]) if ledger["m"].notna().any() else 0
    counts = Counter(tested.loc[tested["n"].notna(), "verdict"])
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) or "none"
    lines = [f"**Claims ledger** ([`claims.md`]({link}/claims.md), [`claims.csv`]({link}/claims.csv); "
             f"differences in points, intervention − comparison, same seed; adjusted: Bonferroni over the "
             f"m = {m} tests of this set; by the [verdict rule](#verdict-rule)). {_judged(m, counts)}: "
             f"{tally}." + (" No test of this set is decided at its n: it neither reproduces nor contradicts a claim."
                             if set(counts) == {INCONCLUSIVE} else ""), ""]
    shown = tested[~tested["claim"].isin(SUMMARIZED)]
    folded = tested[tested["claim"].isin(SUMMARIZED)]
    if not shown.empty:
        lines += [*_table(LEDGER_HEADER, _ledger_rows(shown, several)), ""]
    if not folded.empty:
        names = ", ".join(dict.fromkeys(folded["claim"]))
        lines += [f"<details><summary>The {len(folded)} tests the summary rows combine ({names})</summary>", "",
                  *_table(LEDGER_HEADER, _ledger_rows(folded, several)), "", "</details>", ""]
    lines += [_claim_sentence(claim, rows, several) for claim, rows in tested.groupby("claim", sort=False)]
    untested = ledger[ledger["verdict"] == NOT_TESTED]
    if not untested.empty:
        lines += ["", "Not tested in this set:", ""]
        lines += [f"- {', '.join(dict.fromkeys(rows['claim']))}: {reason}"
                  for reason, rows in untested.groupby("reason", sort=False)]
    return lines


def _figure_titles() -> dict[str, str]:
    """Figure file -> the bold title of its artifact's caption ("Figure 1 (Liu & Gurevych)")."""
    titles = {}
    for artifact in ARTIFACTS.values():
        title = artifact.caption.split("**")[1].rstrip(".") if artifact.caption.startswith("**") else artifact.name
        titles.update({output: title for output in artifact.outputs.values()})
    return titles


def _figures(folder: Path, link: str) -> list[str]:
    titles = _figure_titles()
    lines = []
    for png in sorted(folder.glob("*.png")):
        pdf = png.with_suffix(".pdf")
        lines += [f"![{titles.get(png.name, png.stem)}]({link}/{png.name})", ""]
        if pdf.exists():
            lines += [f"[{pdf.name}]({link}/{pdf.name})", ""]
    return lines


def _provenance(provenance: dict, link: str) -> str:
    machine = provenance.get("machine") or {}
    parts = [f"command `{provenance['command']}`"] if provenance.get("command") else []
    if provenance.get("commit"):
        parts.append(f"published at commit `{provenance['commit'][:7]}`")
    if provenance.get("trained_at_commit"):
        parts.append(f"runs trained at `{provenance['trained_at_commit'][:7]}`")
    if provenance.get("date"):
        parts.append(provenance["date"])
    if provenance.get("overlays"):
        parts.append("configuration params.yaml + " + ", ".join(f"[`{o}`]({o})" for o in provenance["overlays"]))
    software = ", ".join(f"{key} {machine[key]}" for key in ("os", "python", "torch") if machine.get(key))
    if software:
        parts.append(software)
    text = f"**Provenance** ([`{PROVENANCE}`]({link}/{PROVENANCE})): " + "; ".join(parts) + "."
    if provenance.get("note"):
        text += f" Note: {provenance['note']}"
    if provenance.get("rerendered"):
        text += f" Re-rendered: {provenance['rerendered']}."
    return text


def render_set(folder: Path, link: str) -> str:
    """The README part of one published set; ``link`` is the set's folder as README links it."""
    folder = Path(folder)
    provenance = json.loads((folder / PROVENANCE).read_text())
    records = _runs(folder)
    what = ", ".join([_setup_title(name) for name in _setups(records)]
                     + (["FCN phase diagram"] if (folder / "phase_diagram").is_dir() else [])) or "no training runs"
    lines = [f"### {folder.name}: {what}", "", _what_ran(folder, provenance, records), ""]
    if (folder / "table1.csv").exists():
        lines += [*_table1(folder), ""]
    if (folder / "claims.csv").exists():
        lines += [*_claims(folder, link), ""]
    lines += _figures(folder, link)
    tables = sorted(p.name for p in folder.iterdir() if p.suffix in (".tex", ".csv", ".md"))
    if tables:
        lines += [f"**Check without training:** `python -m earlyphase rebuild-published {link} --check` remakes "
                  f"{', '.join(tables)} from these records and compares them byte for byte.", ""]
    lines.append(_provenance(provenance, link))
    return "\n".join(lines) + "\n"


LADDER_HEADER = ["set", "data set", "width", "steps", "FLOPs / run", "lr", "n", "OOD: GU − std [adjusted]", "paper",
                 "ID: GU − std [adjusted]", "OOD std / GU"]


def _ladder_row(r: pd.Series) -> list[str]:
    return [r["set"], _setup_title(r["setup"]), f"{r['width']:g}", f"{int(r['total_steps']):,}",
            f"{r['flops_per_run']:.2e}", r["lr"], str(int(r["ood_n"])),
            f"{_signed(r['ood_diff'])} {_interval(r['ood_adj_low'], r['ood_adj_high'])}", _signed(r["ood_paper_diff"]),
            f"{_signed(r['id_diff'])} {_interval(r['id_adj_low'], r['id_adj_high'])}",
            f"{_plain(r['standard_ood'])} / {_plain(r['gu_ood'])}"]


def _ladder_reading(points: pd.DataFrame) -> str:
    """What the points show, in counts only: how many adjusted OOD intervals exclude 0, each way."""
    up = int((points["ood_adj_low"] > 0).sum())
    down = int((points["ood_adj_high"] < 0).sum())
    sizes = ", ".join(f"{c:.2e}" for c in sorted(set(points["flops_per_run"])))
    return (f"{len(points)} points at {points['flops_per_run'].nunique()} compute sizes ({sizes} FLOPs a run): the "
            f"adjusted OOD interval lies above 0 at {up}, below 0 at {down} and holds 0 at {len(points) - up - down}.")


def render_ladder(folder: Path, link: str) -> str:
    """The scale ladder's part: the figure, what it shows, one line per point (:mod:`.scale_ladder`)."""
    points = pd.read_csv(folder / scale_ladder.CSV)
    return "\n".join([
        "### Scale ladder: does the GU effect grow with compute?", "",
        "Table 1's paired GU − standard differences of every published set with a Table 1, against the training "
        "compute of one run (steps × batch × FLOPs of one image's forward and backward pass), each judged with its "
        f"own set's adjustment (`{scale_ladder.COMMAND}` writes [`{scale_ladder.CSV}`]({link}/{scale_ladder.CSV}) "
        f"and the figure). {_ladder_reading(points)}", "",
        f"![Scale ladder]({link}/{scale_ladder.FIGURE}.png)", "",
        *_table(LADDER_HEADER, [_ladder_row(r) for _, r in points.iterrows()])]) + "\n"


# --- the block in README.md ----------------------------------------------------------------

def published_sets(root: Path) -> list[Path]:
    """The published sets under ``root``, in name order (the scale ladder, derived from them, is
    not one); a folder without provenance is an error."""
    root = Path(root)
    if not root.is_dir():
        return []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and p.name != scale_ladder.FOLDER)
    incomplete = [p.name for p in folders if not (p / PROVENANCE).is_file()]
    if incomplete:
        raise ValueError(f"{root}: {', '.join(incomplete)} has no {PROVENANCE}; a published set needs one "
                         "(python -m earlyphase publish writes it), or move the folder out of the way")
    return folders


def render_block(published: Path, readme: Path) -> str:
    """Everything between the markers, links relative to ``readme``'s folder."""
    parts = []
    base = os.path.abspath(Path(readme).parent)  # abspath, not resolve: a linked folder keeps its name
    for folder in published_sets(published):
        link = Path(os.path.relpath(os.path.abspath(folder), base)).as_posix()
        parts.append(render_set(folder, link))
    ladder = Path(published) / scale_ladder.FOLDER
    if (ladder / scale_ladder.CSV).is_file():
        parts.insert(0, render_ladder(ladder, Path(os.path.relpath(os.path.abspath(ladder), base)).as_posix()))
    if not parts:
        parts = [f"Nothing is published under `{published}` yet.\n"]
    return NOTICE + "\n\n" + "\n".join(parts)


def _split(text: str, readme: Path) -> tuple[str, str, str]:
    """(before BEGIN, between the markers, from END on)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{readme}: needs exactly one line {BEGIN} and, after it, one line {END} "
                         "around the generated results (in its Results section)")
    head, rest = text.split(BEGIN)
    body, tail = rest.split(END)
    return head + BEGIN + "\n", body.removeprefix("\n"), END + tail


def expected(readme: Path, published: Path) -> tuple[str, str]:
    """(README's block now, the block the records give)."""
    _, body, _ = _split(Path(readme).read_text(), readme)
    return body, render_block(published, readme)


def block_diff(readme: Path, published: Path) -> str:
    """A unified diff from README's block to the one the records give; empty when they agree."""
    now, wanted = expected(readme, published)
    return "".join(difflib.unified_diff(now.splitlines(keepends=True), wanted.splitlines(keepends=True),
                                        f"{readme} (results block)", f"{published} (records)"))


def write(readme: Path, published: Path) -> bool:
    """Replace README's block by the one the records give; whether anything changed."""
    text = Path(readme).read_text()
    head, body, tail = _split(text, readme)
    block = render_block(published, readme)
    if body == block:
        return False
    with atomic_path(readme) as tmp:
        tmp.write_text(head + block + tail)
    return True
