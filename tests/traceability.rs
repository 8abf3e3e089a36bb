#![cfg(not(loom))]
//! The invariant catalogue is checked, not just written: every invariant a chapter in
//! `docs/` defines (a `### ID: title` heading) must be named by at least one loom model in
//! `loom-tests/` and at least one other check in `tests/`, in the doc comment right above the
//! check's `fn`; and no check may name an ID that no chapter defines (a renamed or deleted
//! invariant). `.ci/checked_by.py` writes the resulting "Checked by" lines into the chapters;
//! this test is what fails when an invariant loses its checks.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Invariant IDs in `text`: an upper-case word, a dash and a number, with `prefixes`
/// deciding which words are invariant families (so "UTF-8" is not one).
fn ids_in(text: &str, prefixes: &BTreeSet<String>) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if starts_word && bytes[i].is_ascii_uppercase() {
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_uppercase() {
                j += 1;
            }
            let mut k = j + 1;
            while k < bytes.len() && bytes[k].is_ascii_digit() {
                k += 1;
            }
            if j < bytes.len() && bytes[j] == b'-' && k > j + 1 && prefixes.contains(&text[i..j]) {
                found.push(text[i..k].to_string());
                i = k;
                continue;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

fn files(dir: &str, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .unwrap_or_else(|error| panic!("reading {dir}: {error}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    found.sort();
    found
}

/// Every `### ID: title` heading in docs/*.md, with the chapter that defines it.
fn defined_ids() -> BTreeMap<String, PathBuf> {
    let mut defined = BTreeMap::new();
    for chapter in files("docs", "md") {
        for line in fs::read_to_string(&chapter).unwrap().lines() {
            let Some(heading) = line.strip_prefix("### ") else {
                continue;
            };
            let Some((id, _title)) = heading.split_once(':') else {
                continue;
            };
            let looks_like_id = id.split_once('-').is_some_and(|(family, number)| {
                !family.is_empty()
                    && family.bytes().all(|b| b.is_ascii_uppercase())
                    && !number.is_empty()
                    && number.bytes().all(|b| b.is_ascii_digit())
            });
            if looks_like_id {
                let previous = defined.insert(id.to_string(), chapter.clone());
                assert!(previous.is_none(), "{id} is defined twice");
            }
        }
    }
    defined
}

/// For each check file, the IDs named in the doc comment above each `fn`, and every ID the
/// file mentions anywhere.
struct Named {
    by_fn: Vec<(String, String)>,
    anywhere: BTreeSet<String>,
}

fn named_in(file: &Path, prefixes: &BTreeSet<String>) -> Named {
    let text = fs::read_to_string(file).unwrap();
    let mut named = Named {
        by_fn: Vec::new(),
        anywhere: ids_in(&text, prefixes).into_iter().collect(),
    };
    let mut doc = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("///") {
            doc.push_str(comment);
            doc.push(' ');
        } else if line.starts_with("#[") || line.is_empty() {
            // Attributes and blank lines between a doc comment and its fn keep the comment.
        } else {
            let signature = line.strip_prefix("pub ").unwrap_or(line);
            if let Some(rest) = signature.strip_prefix("fn ") {
                let fn_name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let relative = file
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap_or(file)
                    .display()
                    .to_string();
                let name = format!("{relative}::{fn_name}");
                for id in ids_in(&doc, prefixes) {
                    named.by_fn.push((id, name.clone()));
                }
            }
            doc.clear();
        }
    }
    named
}

/// Every check file: whether it holds loom models, and its path.
fn check_files() -> impl Iterator<Item = (bool, PathBuf)> {
    files("loom-tests", "rs")
        .into_iter()
        .map(|file| (true, file))
        .chain(files("tests", "rs").into_iter().map(|file| (false, file)))
        .chain(
            files("tests/common", "rs")
                .into_iter()
                .map(|file| (false, file)),
        )
}

fn prefixes_of(defined: &BTreeMap<String, PathBuf>) -> BTreeSet<String> {
    defined
        .keys()
        .map(|id| id.split_once('-').unwrap().0.to_string())
        .collect()
}

/// The checks each chapter lists on the "**Checked by:**" line under each invariant.
fn listed_checks() -> BTreeMap<String, BTreeSet<String>> {
    let mut listed = BTreeMap::new();
    for chapter in files("docs", "md") {
        let mut current: Option<String> = None;
        for line in fs::read_to_string(&chapter).unwrap().lines() {
            if let Some(heading) = line.strip_prefix("### ") {
                current = heading
                    .split_once(':')
                    .map(|(id, _)| id.to_string())
                    .filter(|id| id.contains('-') && !id.contains(' '));
            } else if let (Some(id), Some(rest)) = (&current, line.strip_prefix("**Checked by:**"))
            {
                let checks = rest
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect();
                listed.insert(id.clone(), checks);
            }
        }
    }
    listed
}

#[test]
fn every_invariant_has_a_loom_model_and_a_test_and_every_named_id_exists() {
    let defined = defined_ids();
    assert!(
        defined.len() >= 50,
        "found only {} invariants in docs/",
        defined.len()
    );
    let prefixes = prefixes_of(&defined);

    let mut loom: BTreeSet<String> = BTreeSet::new();
    let mut other: BTreeSet<String> = BTreeSet::new();
    let mut problems = Vec::new();
    for (is_loom, file) in check_files() {
        let named = named_in(&file, &prefixes);
        for (id, _check) in &named.by_fn {
            if is_loom {
                loom.insert(id.clone());
            } else {
                other.insert(id.clone());
            }
        }
        for id in &named.anywhere {
            if !defined.contains_key(id) {
                problems.push(format!(
                    "{} names {id}, which no chapter in docs/ defines",
                    file.display()
                ));
            }
        }
    }
    for (id, chapter) in &defined {
        if !loom.contains(id) {
            problems.push(format!(
                "{id} ({}) is named by no loom model",
                chapter.display()
            ));
        }
        if !other.contains(id) {
            problems.push(format!(
                "{id} ({}) is named by no test outside loom",
                chapter.display()
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The chapters' "**Checked by:**" lines list exactly the checks that name each invariant, so
/// a reader following one reaches a check that exists and proves it. When this fails, run
/// `python3 .ci/checked_by.py` to rewrite the lines from the checks.
#[test]
fn every_checked_by_line_lists_exactly_the_checks_that_name_its_invariant() {
    let defined = defined_ids();
    let prefixes = prefixes_of(&defined);
    let mut naming: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_is_loom, file) in check_files() {
        for (id, check) in named_in(&file, &prefixes).by_fn {
            naming.entry(id).or_default().insert(check);
        }
    }
    let listed = listed_checks();
    let mut problems = Vec::new();
    for id in defined.keys() {
        let named = naming.get(id).cloned().unwrap_or_default();
        match listed.get(id) {
            None => problems.push(format!("{id} has no \"**Checked by:**\" line")),
            Some(lines) if *lines != named => {
                for missing in named.difference(lines) {
                    problems.push(format!(
                        "{id}: the docs do not list {missing}, which names it"
                    ));
                }
                for stale in lines.difference(&named) {
                    problems.push(format!(
                        "{id}: the docs list {stale}, which does not name it"
                    ));
                }
            }
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The scanner itself: what counts as an ID and what does not.
#[test]
fn ids_are_found_only_in_known_families() {
    let prefixes: BTreeSet<String> = ["LOCK", "QUEUE"].iter().map(|p| p.to_string()).collect();
    assert_eq!(
        ids_in(
            "LOCK-3, QUEUE-10 and UTF-8; XLOCK-1, LOCK-x, LOCK-",
            &prefixes
        ),
        ["LOCK-3", "QUEUE-10"]
    );
}
