//! Stores for tests: the suite runs the store's tests on SQLite and, when
//! `PASSERELLE_TEST_POSTGRES_URL` names a PostgreSQL server (as
//! `tests/run.sh` arranges), on PostgreSQL too.

use sqlx::Connection;

/// The PostgreSQL server tests may use. Panics when
/// `PASSERELLE_REQUIRE_POSTGRES` is set and none is named, so that CI
/// cannot skip PostgreSQL silently.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("PASSERELLE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() && std::env::var_os("PASSERELLE_REQUIRE_POSTGRES").is_some() {
        panic!("PASSERELLE_REQUIRE_POSTGRES is set but PASSERELLE_TEST_POSTGRES_URL is not");
    }
    if url.is_none() {
        eprintln!("PASSERELLE_TEST_POSTGRES_URL is not set: PostgreSQL variants skipped (tests/run.sh sets it)");
    }
    url
}

/// A new, empty database on the server at `server_url`; its URL.
pub async fn scratch_postgres(server_url: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!(
        "passerelle_test_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let mut conn = sqlx::AnyConnection::connect(server_url)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("a scratch database");
    let base = server_url.rsplit_once('/').map_or(server_url, |(b, _)| b);
    format!("{base}/{name}")
}

/// Ends every connection to the database at `url` but the one asking,
/// as a server's restart or an administrator would.
pub async fn end_connections(url: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut conn)
    .await
    .expect("connections ended");
}

/// Makes the server at `server_url` refuse (`false`) or accept again
/// (`true`) connections to the database at `url`, ending those open:
/// the store is down for one gateway, the suite's server still up.
pub async fn accept_connections(server_url: &str, url: &str, accept: bool) {
    sqlx::any::install_default_drivers();
    let name = url.rsplit('/').next().expect("a database name");
    let mut conn = sqlx::AnyConnection::connect(server_url)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {accept}"
    ))
    .execute(&mut conn)
    .await
    .expect("the database's connections set");
    if !accept {
        sqlx::query(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .execute(&mut conn)
        .await
        .expect("connections ended");
    }
}

/// A PostgreSQL server of a test's own, to stop and start again as an
/// operator's restart (or a failover) would, without touching the
/// suite's. Stopped and removed when dropped.
pub struct OwnCluster {
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
    port: u16,
}

impl OwnCluster {
    /// Creates and starts a cluster with the PostgreSQL binaries the
    /// suite's server runs (`tests/postgres.sh` installs them); `None`
    /// when the suite has no PostgreSQL.
    pub fn start() -> Option<Self> {
        postgres_url()?;
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .find(|b| b.join("initdb").exists())?;
        let dir = std::env::temp_dir().join(format!(
            "passerelle-pg-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self { dir, bin, port };
        if Self::as_root() {
            let owned = std::process::Command::new("chown")
                .arg("postgres")
                .arg(&cluster.dir)
                .status()
                .expect("chown runs");
            assert!(owned.success(), "the cluster's directory given to postgres");
        }
        cluster.run("initdb", &["-D", "data", "-A", "trust", "-U", "postgres"]);
        cluster.pg_ctl(&["start", "-w"]);
        Some(cluster)
    }

    /// Whether this process runs as root, whom PostgreSQL refuses:
    /// its tools then run as `postgres`.
    fn as_root() -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }

    /// One of PostgreSQL's tools, run in the cluster's directory, as
    /// `postgres` when this process is root.
    fn tool(&self, name: &str) -> std::process::Command {
        let path = self.bin.join(name);
        let mut command = if Self::as_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            std::process::Command::new(path)
        };
        command.current_dir(&self.dir);
        command
    }

    fn run(&self, name: &str, args: &[&str]) {
        let out = self
            .tool(name)
            .args(args)
            .output()
            .expect("a PostgreSQL tool runs");
        assert!(
            out.status.success(),
            "{name} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn pg_ctl(&self, args: &[&str]) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let mut all = vec!["-D", "data", "-l", "log", "-o", &options];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server: `fast` (an operator's restart, clients'
    /// sessions ended) or `immediate` (a crash).
    pub fn stop(&self, mode: &str) {
        self.pg_ctl(&["stop", "-w", "-m", mode]);
    }

    /// Starts the server again, on the same port and data.
    pub fn restart(&self) {
        self.pg_ctl(&["start", "-w"]);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .args(["-D", "data", "stop", "-m", "immediate"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The store URLs a test runs on: a SQLite file under `dir`, and a
/// scratch PostgreSQL database when a server is available.
pub async fn backends(dir: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "sqlite",
        format!("sqlite://{}?mode=rwc", dir.join("store.db").display()),
    )];
    if let Some(server) = postgres_url() {
        out.push(("postgres", scratch_postgres(&server).await));
    }
    out
}
