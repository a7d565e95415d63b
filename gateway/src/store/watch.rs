//! What is known of the store's health: whether it answers a read, and
//! whether a write commits, checked every few seconds by one small probe.
//!
//! While the store does not answer, every request that needs it fails at
//! once ([`crate::store::StoreError::Down`]) instead of waiting for a
//! connection the pool's whole timeout: a breaker, as partners have. The
//! first probe that reads again closes it. `/readyz` reports the last
//! probe, read and write apart, with the reason of a failure.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::AnyPool;
use tokio::sync::Notify;

/// How often the store is probed while it answers.
const EVERY: Duration = Duration::from_secs(2);
/// How often while it does not: recovery is seen within this.
const EVERY_WHILE_DOWN: Duration = Duration::from_millis(500);
/// How long a read may take before the store counts as not answering.
const READ_WITHIN: Duration = Duration::from_secs(2);
/// How long a write may wait for SQLite's write lock (its busy timeout)
/// before the store counts as not taking writes.
const WRITE_WITHIN: Duration = Duration::from_secs(60);

/// The last probe's findings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreHealth {
    /// Whether the store answered a read.
    pub read: bool,
    /// Whether a write committed.
    pub write: bool,
    /// Why not, when one failed: `unreachable`, `disk_full`, `read_only`,
    /// `locked`, `io_error` or `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'static str>,
}

impl StoreHealth {
    const UP: StoreHealth = StoreHealth {
        read: true,
        write: true,
        problem: None,
    };

    /// Not answering a read (nor, then, a write).
    fn down(problem: &'static str) -> Self {
        Self {
            read: false,
            write: false,
            problem: Some(problem),
        }
    }

    /// Answering a read, a write failing.
    fn no_writes(problem: &'static str) -> Self {
        Self {
            read: true,
            write: false,
            problem: Some(problem),
        }
    }
}

/// The store's watch: its findings, and a way to ask for a probe now.
#[derive(Debug)]
pub(crate) struct Watch {
    state: RwLock<StoreHealth>,
    wake: Notify,
    /// When the write probe in flight began, if one is.
    writing_since: std::sync::Mutex<Option<Instant>>,
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            state: RwLock::new(StoreHealth::UP),
            wake: Notify::new(),
            writing_since: std::sync::Mutex::new(None),
        }
    }
}

impl Watch {
    pub(crate) fn health(&self) -> StoreHealth {
        self.state.read().expect("store health lock").clone()
    }

    /// Whether the store is known not to answer.
    pub(crate) fn down(&self) -> bool {
        !self.state.read().expect("store health lock").read
    }

    /// Asks for a probe now: a request met an error that may mean the
    /// store is gone.
    pub(crate) fn suspect(&self) {
        self.wake.notify_one();
    }

    fn set(&self, next: StoreHealth, why: Option<&sqlx::Error>) {
        let mut state = self.state.write().expect("store health lock");
        if *state != next {
            match (next.problem, why) {
                (None, _) => tracing::info!("the store reads and writes again"),
                (Some(problem), Some(e)) => {
                    tracing::error!(read = next.read, write = next.write, problem, error = %e, "the store fails")
                }
                (Some(problem), None) => {
                    tracing::error!(
                        read = next.read,
                        write = next.write,
                        problem,
                        "the store fails"
                    )
                }
            }
            metrics::gauge!("passerelle_store_up", "check" => "read").set(f64::from(next.read));
            metrics::gauge!("passerelle_store_up", "check" => "write").set(f64::from(next.write));
            *state = next;
        }
    }

    /// Probes the store once: a read within [`READ_WITHIN`], then a
    /// one-row write committed. A write still waiting from an earlier
    /// probe (SQLite's lock, held by a long sync) is not doubled; it
    /// counts as failed once it has waited [`WRITE_WITHIN`].
    pub(crate) async fn probe(self: &Arc<Self>, pool: &AnyPool) {
        let read = tokio::time::timeout(READ_WITHIN, sqlx::query("SELECT 1").execute(pool)).await;
        match read {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                // A store that cannot answer `SELECT 1` does not answer,
                // whatever it says.
                let problem = match problem(&e) {
                    "failed" => "unreachable",
                    p => p,
                };
                return self.set(StoreHealth::down(problem), Some(&e));
            }
            Err(_) => return self.set(StoreHealth::down("unreachable"), None),
        }
        let since = *self.writing_since.lock().expect("probe lock");
        if let Some(since) = since {
            let health = if since.elapsed() >= WRITE_WITHIN {
                StoreHealth::no_writes("locked")
            } else {
                // The write is still waiting: its last finding stands,
                // unless the store was down, which this read disproves.
                let last = self.health();
                if last.read {
                    last
                } else {
                    StoreHealth::UP
                }
            };
            return self.set(health, None);
        }
        *self.writing_since.lock().expect("probe lock") = Some(Instant::now());
        let me = self.clone();
        let pool = pool.clone();
        let written = tokio::spawn(async move {
            let written = sqlx::query("UPDATE store_probe SET at = $1 WHERE id = 1")
                .bind(chrono::Utc::now().timestamp_micros())
                .execute(&pool)
                .await;
            *me.writing_since.lock().expect("probe lock") = None;
            match written {
                Ok(_) => me.set(StoreHealth::UP, None),
                Err(e) => {
                    let health = match problem(&e) {
                        // Gone since the read: down, not just read-only.
                        "unreachable" => StoreHealth::down("unreachable"),
                        p => StoreHealth::no_writes(p),
                    };
                    me.set(health, Some(&e))
                }
            }
        });
        // The answer is awaited a little, so that a probe reports its own
        // write when the store is quick, as it nearly always is.
        let _ = tokio::time::timeout(READ_WITHIN, written).await;
    }

    /// Probes for ever, more often while the store is down, and at once
    /// when a request suspects it.
    pub(crate) async fn run(self: Arc<Self>, pool: AnyPool) {
        loop {
            self.probe(&pool).await;
            let every = if self.down() { EVERY_WHILE_DOWN } else { EVERY };
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}

/// Whether an error means the store itself fails (unreachable, full,
/// read-only, broken) rather than a statement.
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    problem(e) != "failed"
}

/// Whether an error means the connection or the server is gone.
pub(crate) fn is_unreachable(e: &sqlx::Error) -> bool {
    problem(e) == "unreachable"
}

/// The reason an error gives, for `/readyz` and the logs.
fn problem(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => "unreachable",
        sqlx::Error::Database(d) => d.code().map_or("failed", |c| code_problem(&c)),
        _ => "failed",
    }
}

/// The reason a database error's code gives: SQLite's result codes (a
/// number), PostgreSQL's SQLSTATEs (5 characters).
fn code_problem(code: &str) -> &'static str {
    match code {
        "13" | "53100" => "disk_full",
        "8" | "25006" => "read_only",
        "5" | "6" | "55P03" => "locked",
        "10" | "14" | "58030" => "io_error",
        // Connection refused, ended or not allowed; the server shutting
        // down or out of connections; the database gone.
        c if c.len() == 5
            && (c.starts_with("08")
                || c.starts_with("57P")
                || c.starts_with("28")
                || c.starts_with("53")
                || c == "3D000"
                || c == "55000") =>
        {
            "unreachable"
        }
        c if c.len() < 5 => extended(c),
        _ => "failed",
    }
}

/// SQLite's extended result codes carry the primary one in their low byte.
fn extended(code: &str) -> &'static str {
    match code.parse::<u32>().ok().map(|c| c & 0xff) {
        Some(13) => "disk_full",
        Some(8) => "read_only",
        Some(5) | Some(6) => "locked",
        Some(10) | Some(14) => "io_error",
        _ => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_name_the_problem() {
        // SQLite: primary and extended codes.
        assert_eq!(code_problem("13"), "disk_full");
        assert_eq!(code_problem("8"), "read_only");
        assert_eq!(code_problem("1032"), "read_only"); // SQLITE_READONLY_DBMOVED
        assert_eq!(code_problem("778"), "io_error"); // SQLITE_IOERR_WRITE
        assert_eq!(code_problem("517"), "locked"); // SQLITE_BUSY_SNAPSHOT
        assert_eq!(code_problem("2067"), "failed"); // SQLITE_CONSTRAINT_UNIQUE
                                                    // PostgreSQL.
        assert_eq!(code_problem("57P01"), "unreachable"); // admin_shutdown
        assert_eq!(code_problem("08006"), "unreachable");
        assert_eq!(code_problem("53100"), "disk_full");
        assert_eq!(code_problem("25006"), "read_only");
        assert_eq!(code_problem("23505"), "failed"); // unique_violation
        assert_eq!(code_problem("42P01"), "failed");
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
