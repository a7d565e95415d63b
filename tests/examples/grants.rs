//! The grants subgraph of the federation tests, as a server for the
//! benchmark (`bench/federation.py`):
//!
//!     grants LISTEN UAIS_FILE SIRETS_FILE
//!
//! The files hold one key a line; `--sdl` prints the subgraph's SDL.

fn lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--sdl") {
        print!("{}", passerelle_tests::grants::sdl());
        return Ok(());
    }
    let [listen, uais, sirets] = args.as_slice() else {
        eprintln!("usage: grants LISTEN UAIS_FILE SIRETS_FILE | grants --sdl");
        std::process::exit(2);
    };
    let granted = passerelle_tests::grants::Granted {
        uais: lines(uais),
        sirets: lines(sirets),
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    passerelle_tests::grants::serve(listener, granted).await
}
