#!/usr/bin/env python3
"""Regenerates the "**Checked by:**" line of every invariant in docs/*.md.

An invariant is a `### ID: title` heading (LOCK-3, SEM-4, ...). A check names the IDs it
proves in the doc comment right above its `fn`; loom models live in loom-tests/, the rest in
tests/. Run from the repository root after adding or renaming checks:

    python3 .ci/checked_by.py          # rewrite docs/*.md in place
    python3 .ci/checked_by.py --check  # exit 1 if a doc is stale or an ID lacks a check
"""
import collections
import glob
import re
import sys

ID = r"(?:WAIT|LOCK|RLOCK|SEM|EVENT|COND|BARRIER|QUEUE|PROC)-\d+"


def collect():
    refs = collections.defaultdict(lambda: {"loom": [], "test": []})
    files = sorted(glob.glob("loom-tests/*.rs") + glob.glob("tests/*.rs") + glob.glob("tests/common/base.rs"))
    for path in files:
        doc = []
        for line in open(path).read().split("\n"):
            s = line.strip()
            if s.startswith("///"):
                doc.append(s)
            elif re.match(r"(pub )?fn \w+", s) and doc:
                name = re.match(r"(?:pub )?fn (\w+)", s).group(1)
                kind = "loom" if path.startswith("loom-tests") else "test"
                for id_ in sorted(set(re.findall(rf"\b({ID})\b", " ".join(doc)))):
                    refs[id_][kind].append(f"`{path}::{name}`")
                doc = []
            elif not (s.startswith("#[") or s == ""):
                doc = []
    return refs


def main():
    check = "--check" in sys.argv
    refs = collect()
    stale, gaps = [], []
    for md in sorted(glob.glob("docs/*.md")):
        text = open(md).read()
        out = []
        for block in re.split(r"(?m)^(?=### )", text):
            m = re.match(rf"### ({ID})", block)
            if m:
                r = refs[m.group(1)]
                if not r["loom"] or not r["test"]:
                    gaps.append(m.group(1))
                loom = ", ".join(r["loom"]) or "(gap) none"
                test = ", ".join(r["test"]) or "(gap) none"
                line = f"**Checked by:** loom: {loom}. Tests: {test}."
                block = re.sub(r"\*\*Checked by:\*\*.*?(?=\n\n|\n### |\Z)", line, block, flags=re.S)
            out.append(block)
        new = "".join(out)
        if new != text:
            stale.append(md)
            if not check:
                open(md, "w").write(new)
    if check and (stale or gaps):
        print("stale:", stale, "ids without a loom model or a test:", gaps)
        sys.exit(1)
    print("ids:", len(refs), "docs rewritten:" if not check else "stale:", stale, "gaps:", gaps)


if __name__ == "__main__":
    main()
