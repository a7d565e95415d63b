//! The book (`docs/src`, an mdBook): every link inside it leads to a
//! chapter and a heading that exist, and the gateway serves its build at
//! `/book/`, where the console's and GraphiQL's help links lead.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::helpers::{spawn_app, SMALL};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every Markdown file of the book's sources, by its path under `docs/src`.
pub fn chapters() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let src = root().join("docs/src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f.strip_prefix(&src).unwrap().to_owned(), text)
        })
        .collect()
}

/// The text of a Markdown file outside its code: fenced blocks and inline
/// code spans hold examples, not links.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            let mut in_code = false;
            for part in line.split('`') {
                if !in_code {
                    out.push_str(part);
                }
                in_code = !in_code;
            }
            out.push('\n');
        }
    }
    out
}

/// The ids mdBook gives a chapter's headings: the heading's text in lower
/// case, spaces as `-`, other punctuation dropped, a repeated id numbered.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ids = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        // Links in a heading count by their text.
        let title: String = title.replace("](", "\u{0}(");
        let title: String = title
            .split('\u{0}')
            .map(|p| match p.strip_prefix('(') {
                Some(rest) => rest.split_once(')').map(|(_, after)| after).unwrap_or(""),
                None => p,
            })
            .collect();
        let id: String = title
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    Some(c.to_ascii_lowercase())
                } else if c.is_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        let n = seen.entry(id.clone()).or_default();
        ids.insert(if *n == 0 {
            id.clone()
        } else {
            format!("{id}-{n}")
        });
        *n += 1;
    }
    ids
}

/// The targets of a text's Markdown links and images: `](target)`.
fn targets(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|s| s.split_once(')').map(|(t, _)| t.to_owned()))
        .map(|t| t.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

/// Resolves `target`, relative to the file `from`, as a path under
/// `docs/src`; `None` when it climbs out of it.
fn resolve(from: &Path, target: &str) -> Option<PathBuf> {
    let mut path = from.parent().unwrap_or(Path::new("")).to_owned();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if !path.pop() {
                    return None;
                }
            }
            p => path.push(p),
        }
    }
    Some(path)
}

#[test]
fn every_link_of_the_book_leads_to_a_chapter_and_a_heading() {
    let chapters = chapters();
    let by_path: HashMap<&Path, &str> = chapters
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_str()))
        .collect();
    let src = root().join("docs/src");
    let mut wrong = Vec::new();
    let mut links = 0;
    for (path, text) in &chapters {
        for target in targets(&prose(text)) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            links += 1;
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                Some(path.clone())
            } else {
                resolve(path, file)
            };
            let Some(resolved) = resolved else {
                wrong.push(format!("{}: {target} leaves the book", path.display()));
                continue;
            };
            if !src.join(&resolved).exists() {
                wrong.push(format!("{}: {target} names no file", path.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                match by_path.get(resolved.as_path()) {
                    Some(t) if heading_ids(t).contains(anchor) => {}
                    Some(_) => wrong.push(format!(
                        "{}: {target} names no heading of {}",
                        path.display(),
                        resolved.display()
                    )),
                    None => wrong.push(format!("{}: {target} is not a chapter", path.display())),
                }
            }
        }
    }
    assert!(links > 100, "only {links} links: is the book read whole?");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn every_chapter_is_in_the_summary_and_the_readme_links_into_the_book() {
    let chapters = chapters();
    let summary = &chapters
        .iter()
        .find(|(p, _)| p == Path::new("SUMMARY.md"))
        .expect("docs/src/SUMMARY.md")
        .1;
    let listed: BTreeSet<String> = targets(summary).into_iter().collect();
    for (path, _) in &chapters {
        let name = path.to_str().unwrap();
        if name != "SUMMARY.md" {
            assert!(listed.contains(name), "{name} is in no part of SUMMARY.md");
        }
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let into_book: Vec<String> = targets(&prose(&readme))
        .into_iter()
        .filter(|t| t.starts_with("docs/"))
        .collect();
    assert!(
        into_book.len() >= 8,
        "the README maps the book: {into_book:?}"
    );
    for t in into_book {
        let file = t.split('#').next().unwrap();
        assert!(root().join(file).exists(), "the README links to {t}");
    }
}

/// The `/book/…` pages the console's build and GraphiQL's script link to
/// (the console names a chapter, `chapter:"analysts/console.html"`, which
/// its `BookLink` puts under `/book/`).
fn help_links() -> BTreeSet<String> {
    let mut files = vec![root().join("gateway/graphiql/assets/init.js")];
    let assets = root().join("gateway/console/dist/assets");
    for entry in std::fs::read_dir(&assets).unwrap() {
        files.push(entry.unwrap().path());
    }
    let mut links = BTreeSet::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (at, _) in text.match_indices("/book/") {
            let link: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/-_.#".contains(*c))
                .collect();
            links.insert(link.split('#').next().unwrap().to_owned());
        }
        for (at, _) in text.match_indices("chapter:\"") {
            let chapter = text[at + "chapter:\"".len()..].split('"').next().unwrap();
            links.insert(format!("/book/{chapter}"));
        }
    }
    links
}

#[tokio::test]
async fn the_gateway_serves_the_book_where_the_console_and_graphiql_link() {
    let app = spawn_app(SMALL).await;
    let get = |path: &str| {
        let url = app.url(path);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        async move { client.get(url).send().await.unwrap() }
    };
    let r = get("/book").await;
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "/book/");
    let r = get("/book/").await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}: {csp}");
    }
    assert!(r.text().await.unwrap().contains("Passerelle"));

    let links = help_links();
    assert!(links.len() >= 5, "{links:?}");
    for link in &links {
        assert_eq!(get(link).await.status(), 200, "{link}");
    }
    for outside in [
        "/book/../Cargo.toml",
        "/book/%2e%2e/Cargo.toml",
        "/book/..%2fREADME.md",
        "/book/no-such-chapter.html",
    ] {
        assert_eq!(get(outside).await.status(), 404, "{outside}");
    }
}
