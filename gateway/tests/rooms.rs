//! The gateway's rooms (see `src/lib.rs`): a room uses only the rooms
//! before it, so that a file's path tells what it may touch.

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

#[test]
fn every_room_uses_only_the_rooms_before_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap();
        let room = first.as_os_str().to_str().unwrap().trim_end_matches(".rs");
        if matches!(room, "lib" | "main") {
            continue;
        }
        let rank = ROOMS
            .iter()
            .position(|r| *r == room)
            .unwrap_or_else(|| panic!("{} is in no room", relative.display()));
        let text = std::fs::read_to_string(file).unwrap();
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
