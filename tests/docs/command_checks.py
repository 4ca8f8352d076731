"""Run each documented command in a form that changes nothing, and report where it drifted.

Per tool, in a copy of the repository:

* ``snakemake``: parsed by Snakemake's own command line (with the profiles it would load);
  every ``--configfile`` must name an existing YAML/JSON file (``--configfile a.yaml
  target`` reads the target as a config file); then a dry run (``-n --forceall``) of its
  targets. Commands that differ only in their targets share one dry run; a command whose
  comment states a count ("72 training runs") gets its own and the count is compared.
* ``python -m earlyphase ...`` and ``python -m earlyphase.bench...``: the module's own
  argparse parses the arguments (:mod:`parse_only` stops it right after), and ``--help``
  runs.
* ``make X``: ``make -n X``; the Snakemake commands it would run are checked as above.
* ``dvc``: DVC's parser; the read-only ones (status, metrics, exp show, repro --dry) run.
* scripts (``bash bench/gpu_check.sh --cpu``): ``bash -n``, and each option or subcommand
  is one the script's ``case`` handles.
* ``pytest``: ``--collect-only``.

Placeholders are made concrete first (``N``, ``G``, ``K`` -> 2; ``[--opt V]`` kept;
``[target ...]`` and ``...`` dropped; ``a|b`` both); a command with ``<name>``, ``--opt ...``
or a name of :data:`EXAMPLE_NAMES` is only parsed, and a bare ``python -m earlyphase X``
(naming a subcommand) runs as ``X --help``. ``dvc repro`` runs as ``dvc dag``. Commands of
other programs (``git``, ``source``) are listed in :data:`NOT_CHECKED` with the reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .documented_commands import Command

PARSE_ONLY = Path(__file__).with_name("parse_only.py")
# Programs whose commands are not this project's to check, and why.
NOT_CHECKED = {
    "git": "git's own command (cloning the project), not something this repository defines",
    "source": "sources the environment file scripts/slurm/start_local_cluster.sh writes into the caller's shell",
}
# Names that exist only once a walkthrough has been followed: their commands are parsed only.
EXAMPLE_NAMES = {"lr_sweep": "the artifact docs/extending.md adds as its worked example"}
# Snakemake modes that plan no jobs: parsed only.
NO_DAG_MODES = ("unlock", "report", "lint", "list_rules", "list_target_rules")
# DVC commands that only read: they run (in the copy, made a git repository).
DVC_READ_ONLY = (("status",), ("metrics", "show"), ("metrics", "diff"), ("exp", "show"), ("params", "diff"))
# The read-only stand-in of a DVC command that writes (`repro --dry` still needs the data).
DVC_DRY_FORMS = {("repro",): ("dag",)}
GUARD_S = 600  # a hung child only; never an assertion about speed


@dataclass
class Invocation:
    """One concrete form of a documented command."""

    command: Command
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    placeholder: bool = False  # had a <name>: parse only
    via: str = ""  # "make smoke" for the Snakemake commands a make target runs


def concrete(command: Command) -> list[Invocation]:
    """The command with its placeholders filled in, one invocation per ``a|b`` alternative."""
    text = command.text.replace('"..."', "x").replace("K×G", "4")
    text = re.sub(r"\[[^\]]*\.\.\.[^\]]*\]", " ", text)  # [target ...]: optional, open-ended
    text = re.sub(r"(\s--?[\w-]+)\s+\.\.\.", r"\1 <value>", text)  # --runs ...: some value
    placeholder = bool(re.search(r"<[^>]+>", text)) or any(name in text for name in EXAMPLE_NAMES)
    text = re.sub(r"<[^>]+>", "x", text).replace("[", " ").replace("]", " ")
    words = [re.sub(r"(?<![\w-])[NGK](?!\w)", "2", w) for w in shlex.split(text) if w not in ("...", "…")]
    env = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    words[0] = words[0].removeprefix(".venv/bin/")
    choices = next((i for i, w in enumerate(words) if re.fullmatch(r"[\w-]+(\|[\w-]+)+", w)), None)
    forms = [words] if choices is None else [
        words[:choices] + [alternative] + words[choices + 1:] for alternative in words[choices].split("|")]
    return [Invocation(command, form, env, placeholder) for form in forms]


def program(argv: list[str]) -> str:
    first = argv[0]
    if first in ("python", "python3") and argv[1:2] == ["-m"]:
        return "python"
    if first == "bash" or first.startswith(("scripts/", "bench/")):
        return "script"
    return first


class CommandChecker:
    """Checks commands in ``repo`` (a copy of the repository), caching the dry runs."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.dry_runs: dict[tuple, subprocess.CompletedProcess] = {}
        self._runs: dict[tuple, subprocess.CompletedProcess] = {}  # make -n, dvc: by command line
        self._git_ready = False

    # -- entry point --------------------------------------------------------------------

    def check(self, commands: list[Command]) -> dict[Command, list[str]]:
        """command -> what is wrong with it (empty: it runs as documented)."""
        problems: dict[Command, list[str]] = {command: [] for command in commands}
        by_program = defaultdict(list)
        for command in commands:
            for invocation in concrete(command):
                by_program[program(invocation.argv)].append(invocation)
        for invocation in by_program.pop("make", []):
            by_program["snakemake"] += self._make(invocation, problems)
        checks = {"snakemake": self._snakemake, "python": self._python, "dvc": self._dvc,
                  "script": self._scripts, "pytest": self._pytest}
        for name, invocations in by_program.items():
            if name in checks:
                checks[name](invocations, problems)
            elif name not in NOT_CHECKED:
                for invocation in invocations:
                    problems[invocation.command].append(f"no check for program {name!r}")
        return problems

    # -- snakemake ----------------------------------------------------------------------

    def _snakemake(self, invocations: list[Invocation], problems) -> None:
        planned = []  # (invocation, its configuration, its targets)
        for invocation in invocations:
            args = self._snakemake_args(invocation, problems)
            if args is None or invocation.placeholder or any(getattr(args, m) for m in NO_DAG_MODES):
                continue
            key = (args.snakefile and str(args.snakefile), tuple(map(str, args.configfile or ())),
                   tuple(args.config or ()))
            planned.append((invocation, key, tuple(args.targets)))
        groups = defaultdict(list)
        for item in planned:
            invocation, key, targets = item
            alone = _claimed_runs(invocation) is not None or not targets  # a stated count; the default
            groups[(key, targets if alone else None)].append(item)

        def group_dry_run(group):
            (key, _), members = group
            return self._dry_run(key, tuple(dict.fromkeys(t for _, _, targets in members for t in targets)))

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(zip(groups, pool.map(group_dry_run, groups.items()), strict=True))
        for group, members in groups.items():
            for invocation, key, targets in members:
                result = results[group]
                if result.returncode != 0 and len(members) > 1:  # which of them: its own dry run says
                    result = self._dry_run(key, targets)
                if result.returncode != 0:
                    problems[invocation.command].append(_label(invocation) + "dry run failed:\n" + _tail(result))
                    continue
                claimed, planned_runs = _claimed_runs(invocation), job_counts(result.stdout).get("train", 0)
                if claimed is not None and claimed != planned_runs:
                    problems[invocation.command].append(
                        _label(invocation) + f"its comment says {claimed} training runs; the dry run plans "
                        f"{planned_runs}")

    def _snakemake_args(self, invocation: Invocation, problems):
        """Snakemake's own reading of the command line (profiles included), or None."""
        from snakemake.cli import parse_args

        err = io.StringIO()
        with contextlib.chdir(self.repo), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                _, args = parse_args(invocation.argv[1:])
            except SystemExit:
                args = None
            except Exception as error:  # noqa: BLE001 - a bad profile raises what it raises
                args, err = None, io.StringIO(f"{type(error).__name__}: {error}")
        if args is None:
            problems[invocation.command].append(_label(invocation) + f"snakemake does not accept it: "
                                                f"{err.getvalue().strip().splitlines()[-1:]}")
            return None
        profile = args.workflow_profile
        places = (profile, Path("profiles") / str(profile), Path(args.snakefile or "Snakefile").parent / "profiles"
                  / str(profile))  # where Snakemake looks (snakemake/cli.py, parse_args)
        if profile and profile != "none" and not any((self.repo / where).exists() for where in places):
            # Snakemake itself would go on silently without it.
            problems[invocation.command].append(_label(invocation) + f"--workflow-profile {profile}: no such profile")
            return None
        for name in args.configfile or ():
            path = self.repo / name
            if path.suffix not in (".yaml", ".yml", ".json"):
                problems[invocation.command].append(
                    _label(invocation) + f"--configfile reads {name} as a config file: it takes every name "
                    "after it, so put the targets before --configfile")
                return None
            if not path.is_file():
                problems[invocation.command].append(_label(invocation) + f"--configfile {name}: no such file")
                return None
        return args

    def dry_run(self, targets=(), configfiles=(), config=(), snakefile=None) -> subprocess.CompletedProcess:
        """``snakemake <targets> -n --forceall`` in the copy with this configuration (cached)."""
        return self._dry_run((snakefile, tuple(configfiles), tuple(config)), tuple(targets))

    def _dry_run(self, key: tuple, targets: tuple) -> subprocess.CompletedProcess:
        if (key, targets) not in self.dry_runs:
            snakefile, configfiles, config = key
            argv = [sys.executable, "-m", "snakemake", *targets, "-n", "--forceall"]
            argv += ["--snakefile", snakefile] if snakefile else []
            argv += ["--configfile", *configfiles] if configfiles else []
            argv += ["--config", *config] if config else []
            self.dry_runs[key, targets] = subprocess.run(argv, cwd=self.repo, capture_output=True, text=True,
                                                         env=_child_env(self.repo), timeout=GUARD_S)
        return self.dry_runs[key, targets]

    # -- make ---------------------------------------------------------------------------

    def _make(self, invocation: Invocation, problems) -> list[Invocation]:
        """``make -n``; returns the Snakemake commands the target would run, to check them too."""
        venv = Path(sys.executable).parent.parent
        result = self._run(("make", "-n", f"VENV={venv}", *invocation.argv[1:]))
        if result.returncode != 0:
            problems[invocation.command].append(f"make -n fails: {_tail(result)}")
            return []
        runs = []
        for line in result.stdout.splitlines():
            if line.startswith(f"{venv}/bin/snakemake "):
                argv = ["snakemake", *shlex.split(line)[1:]]
                runs.append(Invocation(invocation.command, argv, via=" ".join(invocation.argv)))
        return runs

    # -- python -m ... ------------------------------------------------------------------

    def _python(self, invocations: list[Invocation], problems) -> None:
        jobs: dict[str, list] = {}  # job (JSON) -> [(invocation, what it checks)]
        for invocation in invocations:
            module, args = invocation.argv[2], invocation.argv[3:]
            if not module.startswith("earlyphase"):
                problems[invocation.command].append(f"python -m {module}: not a module of this project")
                continue
            if not (module == "earlyphase" and len(args) == 1):  # a bare subcommand: its --help
                jobs.setdefault(json.dumps([module, args]), []).append((invocation, "its parser refuses it"))
            help_args = args[:1] + ["--help"] if module == "earlyphase" and args else ["--help"]
            jobs.setdefault(json.dumps([module, help_args]), []).append((invocation, "--help fails"))
        if not jobs:
            return
        result = subprocess.run([sys.executable, str(PARSE_ONLY)], input=f"[{', '.join(jobs)}]", cwd=self.repo,
                                capture_output=True, text=True, env=_child_env(self.repo), timeout=GUARD_S)
        outcomes = json.loads(result.stdout) if result.returncode == 0 else [(1, _tail(result))] * len(jobs)
        for owners, (code, err) in zip(jobs.values(), outcomes, strict=True):
            for invocation, what in owners if code != 0 else ():
                problems[invocation.command].append(f"{_label(invocation)}{what}: {err.strip()[-600:]}")

    # -- dvc ----------------------------------------------------------------------------

    def _dvc(self, invocations: list[Invocation], problems) -> None:
        from dvc.cli import DvcParserError, parse_args

        for invocation in invocations:
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    parse_args(invocation.argv[1:])
            except (DvcParserError, SystemExit):
                problems[invocation.command].append(f"dvc does not accept it: {err.getvalue().strip()[-400:]}")
                continue
            problems[invocation.command] += self._dvc_parameters(invocation.argv)
            words = tuple(invocation.argv[1:])
            run = words if words in DVC_READ_ONLY else DVC_DRY_FORMS.get(words)
            if run:
                result = self._dvc_run(run)
                if result.returncode != 0:
                    problems[invocation.command].append(f"dvc {' '.join(run)} fails: {_tail(result)}")

    def _dvc_parameters(self, argv: list[str]) -> list[str]:
        """``-S key=value`` must set a key params.yaml has (DVC would add a new one silently)."""
        import yaml

        params = yaml.safe_load((self.repo / "params.yaml").read_text())
        found = []
        for flag, value in zip(argv, argv[1:], strict=False):
            if flag == "-S":
                node = params
                for part in value.split("=", 1)[0].split("."):
                    if not isinstance(node, dict) or part not in node:
                        found.append(f"-S {value}: params.yaml has no key {value.split('=', 1)[0]}")
                        break
                    node = node[part]
        return found

    def _dvc_run(self, words: tuple) -> subprocess.CompletedProcess:
        if not self._git_ready:  # DVC reads the workspace through git
            for step in (["init", "-q"], ["add", "-A"], ["-c", "user.name=docs", "-c", "user.email=docs@test",
                                                          "commit", "-q", "-m", "copy"]):
                subprocess.run(["git", *step], cwd=self.repo, check=True, capture_output=True)
            self._git_ready = True
        return self._run((str(Path(sys.executable).with_name("dvc")), *words))

    def _run(self, argv: tuple) -> subprocess.CompletedProcess:
        if argv not in self._runs:
            self._runs[argv] = subprocess.run(argv, cwd=self.repo, capture_output=True, text=True,
                                              env=_child_env(self.repo), timeout=GUARD_S)
        return self._runs[argv]

    # -- scripts and pytest -------------------------------------------------------------

    def _scripts(self, invocations: list[Invocation], problems) -> None:
        for invocation in invocations:
            argv = invocation.argv[1:] if invocation.argv[0] == "bash" else invocation.argv
            script = self.repo / argv[0]
            if not script.is_file():
                problems[invocation.command].append(f"{argv[0]}: no such script")
                continue
            syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            if syntax.returncode != 0:
                problems[invocation.command].append(f"bash -n {argv[0]}: {syntax.stderr.strip()}")
            text = script.read_text()
            for word in argv[1:]:
                if re.fullmatch(r"-{0,2}[a-z][\w-]*", word) and not re.search(
                        rf"(?m)^\s*(?:[\w|-]+\|)?{re.escape(word)}(?:\|[\w|-]+)?\)", text):
                    problems[invocation.command].append(f"{argv[0]} has no case for {word!r}")

    def _pytest(self, invocations: list[Invocation], problems) -> None:
        for invocation in invocations:
            result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                     *invocation.argv[1:]], cwd=self.repo, capture_output=True, text=True,
                                    env=_child_env(self.repo, **invocation.env), timeout=GUARD_S)
            if result.returncode != 0:
                problems[invocation.command].append(f"pytest --collect-only fails: {_tail(result)}")


def job_counts(dry_run_output: str) -> dict[str, int]:
    """rule -> jobs, from the "Job stats" table of a dry run."""
    table = re.search(r"Job stats:\njob\s+count\n[- ]+\n(.*?)\ntotal\s+\d+", dry_run_output, re.S)
    return {} if table is None else {rule: int(n) for rule, n in (line.split() for line in table.group(1).splitlines())}


def _claimed_runs(invocation: Invocation) -> int | None:
    """The number of training runs the command's comment says it plans, if it says one."""
    claim = re.search(r"(\d+) training runs", invocation.command.note)
    return int(claim.group(1)) if claim else None


def _label(invocation: Invocation) -> str:
    return f"(run by {invocation.via}: {' '.join(invocation.argv)}) " if invocation.via else ""


def _tail(result: subprocess.CompletedProcess, lines: int = 12) -> str:
    return "\n".join((result.stdout + result.stderr).strip().splitlines()[-lines:])


def _child_env(repo: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process: this copy's sources first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
