"""Summarise a mutmut run per module: ``python .ci/mutation/report.py`` in the repository root,
after ``mutmut run`` (``make mutate`` runs both).

Reads mutmut's results (``mutants/**/*.py.meta``) and the list of mutants judged equivalent
(equivalent.txt beside this file), prints a table per module and per file, and optionally writes
it as Markdown and JSON. ``--survivors`` prints the diff of each surviving mutant not on the
equivalent list, the ones a test should kill.

Kill rate = (killed + timeout) / total; "of non-equivalent" leaves out of the total the mutants
on the equivalent list (survivors that behave as the original does, and the few that mutmut
cannot test at all, such as code run only while the module is imported). A timeout counts as
killed: the tests noticed that the code no longer ends.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from groups import GROUPS, group_of

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS |= {36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}
STATUS |= {None: "not checked", 37: "killed"}
COLUMNS = ("killed", "timeout", "survived", "no tests", "other")
HERE = Path(__file__).resolve().parent


def status(exit_code: int | None) -> str:
    found = STATUS.get(exit_code, "other")
    return found if found in COLUMNS else "other"


def equivalent_mutants(path: Path = HERE / "equivalent.txt") -> dict[str, str]:
    """name -> reason, from lines ``<mutant name>  # <reason>`` (blank and ``#`` lines skipped)."""
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition("#")
                found[name.strip()] = reason.strip()
    return found


def results(root: Path) -> dict[str, tuple[str, str]]:
    """mutant name -> (its status, its source file relative to src/)."""
    found: dict[str, tuple[str, str]] = {}
    for meta in sorted((root / "mutants" / "src").rglob("*.py.meta")):
        source = str(meta.relative_to(root / "mutants" / "src"))[: -len(".meta")]
        data = json.loads(meta.read_text(encoding="utf-8"))
        for name, exit_code in data["exit_code_by_key"].items():
            found[name] = (status(exit_code), source)
    return found


def summarise(found: dict[str, tuple[str, str]], equivalent: dict[str, str]) -> dict:
    by_group: dict[str, Counter] = {name: Counter() for name, _, _ in GROUPS}
    by_file: dict[str, Counter] = {}
    for name, (state, source) in found.items():
        group = group_of(name)
        if group is None:
            continue
        for counter in (by_group[group[0]], by_file.setdefault(source, Counter())):
            counter[state] += 1
            counter["total"] += 1
            if name in equivalent and state in ("survived", "no tests"):
                counter["equivalent"] += 1
    return {
        "modules": {name: row(c) for name, c in by_group.items()},
        "files": {name: row(c) for name, c in sorted(by_file.items())},
        "all": row(sum(by_group.values(), Counter())),
    }


def row(counter: Counter) -> dict[str, float | int]:
    detected = counter["killed"] + counter["timeout"]
    total = counter["total"]
    non_equivalent = total - counter["equivalent"]
    return {
        **{column: counter[column] for column in COLUMNS},
        "equivalent": counter["equivalent"],
        "total": total,
        "kill_rate": round(100 * detected / total, 1) if total else 0.0,
        "kill_rate_non_equivalent": round(100 * detected / non_equivalent, 1)
        if non_equivalent
        else 0.0,
    }


def markdown(summary: dict) -> str:
    head = "| module | killed | timeout | survived | no tests | other | total | kill rate |"
    head += " equivalent | of non-equivalent |\n|" + " --- |" * 10 + "\n"

    def line(name: str, r: dict) -> str:
        counts = " | ".join(str(r[c]) for c in (*COLUMNS, "total"))
        rate, equiv, rate_ne = r["kill_rate"], r["equivalent"], r["kill_rate_non_equivalent"]
        return f"| {name} | {counts} | {rate}% | {equiv} | {rate_ne}% |\n"

    text = head + "".join(line(n, r) for n, r in summary["modules"].items())
    text += line("**all**", summary["all"])
    text += "\n" + head.replace("| module |", "| file |")
    text += "".join(line(n, r) for n, r in summary["files"].items())
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--survivors", action="store_true", help="print the unexplained ones")
    parser.add_argument(
        "--only", type=Path, help="count only the mutants named in this file (one a line)"
    )
    parser.add_argument(
        "--equivalent", type=Path, default=HERE / "equivalent.txt", help="the equivalent list"
    )
    args = parser.parse_args()

    found = results(args.root)
    if args.only:
        wanted = set(args.only.read_text(encoding="utf-8").split())
        found = {name: result for name, result in found.items() if name in wanted}
    if not found:
        print("no mutmut results under mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    equivalent = equivalent_mutants(args.equivalent)
    summary = summarise(found, equivalent)
    text = markdown(summary)
    print(text)
    survivors = sorted(
        n for n, (s, _) in found.items() if s in ("survived", "no tests") and group_of(n)
    )
    unexplained = [n for n in survivors if n not in equivalent]
    stale = sorted(n for n in equivalent if n not in survivors)
    print(f"{len(survivors)} survived or had no tests; {len(survivors) - len(unexplained)} of them")
    print("are on the equivalent list")
    for name in unexplained:
        print(f"  {found[name][0]}: {name}")
    if stale:
        print("on the equivalent list but no longer surviving (remove them):", *stale, sep="\n  ")
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        summary["survivors"] = {"unexplained": unexplained, "equivalent": equivalent}
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if args.survivors and unexplained:
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        for name in unexplained:
            print(f"\n# {name}\n" + get_diff_for_mutant(name, path=Path("src") / found[name][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
