//! The real `passerelle` binary, started as operators start it.

// Each test crate uses its own part of this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `passerelle serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    /// The address it listens on.
    pub addr: String,
    /// What it logs, line by line (JSON); kept open, or the server would
    /// block on a full pipe.
    pub log: Log,
}

/// A server's log, line by line, from its first line.
pub struct Log {
    /// The lines logged before it listened, not yet read.
    early: VecDeque<String>,
    lines: mpsc::Receiver<String>,
}

impl Log {
    /// Waits for a line that `wanted` accepts (those logged before the
    /// server listened included), for at most `within`, or until the log
    /// ends; the last 40 lines seen when none was.
    pub fn wait_for(
        &mut self,
        within: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = std::time::Instant::now() + within;
        let mut seen = VecDeque::new();
        loop {
            let line = match self.early.pop_front() {
                Some(line) => line,
                None => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    match self.lines.recv_timeout(left) {
                        Ok(line) => line,
                        Err(e) => {
                            seen.push_back(format!("({e} after {} s)", within.as_secs()));
                            return Err(Vec::from(seen).join("\n"));
                        }
                    }
                }
            };
            if wanted(&line) {
                return Ok(line);
            }
            if seen.len() == 40 {
                seen.pop_front();
            }
            seen.push_back(line);
        }
    }

    /// The log, leaving the server one that reads nothing (for a thread of
    /// its own).
    pub fn take(&mut self) -> Log {
        std::mem::replace(
            self,
            Log {
                early: VecDeque::new(),
                lines: mpsc::channel().1,
            },
        )
    }
}

/// Starts `passerelle serve --config CONFIG`; returns once it listens.
pub fn serve(config: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_passerelle"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let logs = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(logs).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: VecDeque<String> = VecDeque::new();
    let addr = loop {
        let line = match lines.recv_timeout(Duration::from_secs(120)) {
            Ok(l) => l,
            Err(e) => panic!(
                "the server does not start ({e}); it logged:\n{}",
                Vec::from(seen).join("\n")
            ),
        };
        seen.push_back(line.clone());
        if line.contains("passerelle listening") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            break v["addr"].as_str().unwrap().to_owned();
        }
    };
    Server {
        child,
        addr,
        log: Log { early: seen, lines },
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks `query` of the gateway at `addr`, with `token` when given; the
/// answer's `data`, which must come without errors.
pub async fn graphql(
    client: &reqwest::Client,
    addr: &str,
    token: Option<&str>,
    query: &str,
) -> serde_json::Value {
    let mut request = client
        .post(format!("http://{addr}/graphql"))
        .json(&serde_json::json!({ "query": query }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}
