//! The gateway's rooms (see `src/lib.rs`): a room uses only the rooms
//! before it, so that a file's path tells what it may touch. The GraphQL
//! API's room has rooms of its own (see `src/graphql/mod.rs`), under the
//! same rule.

use std::path::Path;

/// The rooms, each after those it may use. `config` is the settings'
/// types, which every room reads; `memory` how the process holds memory,
/// which syncs and detections give back; `app` and `cli` are the binary's
/// wiring.
const ROOMS: &[&str] = &[
    "config",
    "memory",
    "store",
    "auth",
    "telemetry",
    "partners",
    "domain",
    "graphql",
    "http",
    "app",
    "cli",
];

/// The rooms of the GraphQL API, each after those it may use: what every
/// room shares, then what the API serves, then the documents, the schema
/// gathering them all, the book's page of it, and the transports serving
/// it.
const GRAPHQL_ROOMS: &[&str] = &[
    "common",
    "occupations",
    "programmes",
    "events",
    "mobility",
    "offers",
    "partners",
    "public_sector",
    "cfas",
    "region",
    "campaign",
    "alerts",
    "entities",
    "documents",
    "schema",
    "reference",
    "transports",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust file under `dir` (a folder of `src`), with its path under
/// it, the room it is in (its first component) and its text.
fn files_by_room(dir: &str) -> Vec<(std::path::PathBuf, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().to_owned();
            let first = relative.components().next().unwrap();
            let room = first.as_os_str().to_str().unwrap();
            let room = room.trim_end_matches(".rs").to_owned();
            let text = std::fs::read_to_string(&file).unwrap();
            (relative, room, text)
        })
        .collect()
}

#[test]
fn every_room_uses_only_the_rooms_before_it() {
    let mut wrong = Vec::new();
    for (relative, room, text) in files_by_room("src") {
        let room = room.as_str();
        if matches!(room, "lib" | "main") {
            continue;
        }
        let rank = ROOMS
            .iter()
            .position(|r| *r == room)
            .unwrap_or_else(|| panic!("{} is in no room", relative.display()));
        for (at, _) in text.match_indices("crate::") {
            let used: String = text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let Some(used_rank) = ROOMS.iter().position(|r| *r == used) else {
                continue;
            };
            if used_rank > rank {
                wrong.push(format!("{} uses crate::{used}", relative.display()));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The names a text uses after `prefix` (`crate::graphql::` gives the
/// rooms of the API it reaches), those of a group (`prefix{a, b::c}`)
/// each.
fn used_after(text: &str, prefix: &str) -> Vec<String> {
    let name = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                out.extend(group.split(',').map(name).filter(|n| !n.is_empty()));
            }
            None => out.push(name(rest)),
        }
    }
    out
}

#[test]
fn every_room_of_the_api_uses_only_the_rooms_before_it() {
    let mut wrong = Vec::new();
    for (relative, room, text) in files_by_room("src/graphql") {
        let room = room.as_str();
        if room == "mod" {
            continue;
        }
        let rank = GRAPHQL_ROOMS
            .iter()
            .position(|r| *r == room)
            .unwrap_or_else(|| panic!("graphql/{} is in no room", relative.display()));
        // A unit test may build the whole schema.
        let text = text.split("#[cfg(test)]").next().unwrap();
        let single_file = relative.components().count() == 1;
        if text.contains("super::super::") || (single_file && text.contains("super::")) {
            wrong.push(format!(
                "graphql/{} reaches past its room with super::",
                relative.display()
            ));
        }
        for used in used_after(text, "crate::graphql::") {
            match GRAPHQL_ROOMS.iter().position(|r| *r == used) {
                Some(used_rank) if used_rank > rank => {
                    wrong.push(format!("graphql/{} uses {used}", relative.display()))
                }
                Some(_) => {}
                None => wrong.push(format!(
                    "graphql/{} uses crate::graphql::{used}, not through the room holding it",
                    relative.display()
                )),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The longest a file of the workspace's code may be: past it, a file
/// holds more than one concern, to split along its seams (a component per
/// folder, one concern per module). Tests are not held to it.
const MAX_LINES: usize = 600;

#[test]
fn no_file_of_the_workspace_s_code_is_past_six_hundred_lines() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in [
        "schema/src",
        "mappings/src",
        "connectors/src",
        "gateway/src",
        "tests/src",
    ] {
        rust_files(&workspace.join(krate), &mut files);
    }
    assert!(
        files.len() > 200,
        "{} files: is the workspace read whole?",
        files.len()
    );
    let mut long = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap();
        if name == "tests.rs" || name.ends_with("_tests.rs") {
            continue;
        }
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        if lines > MAX_LINES {
            long.push(format!(
                "{} ({lines} lines)",
                file.strip_prefix(&workspace).unwrap().display()
            ));
        }
    }
    assert!(long.is_empty(), "split along their seams: {long:#?}");
}
