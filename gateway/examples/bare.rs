//! The benchmark's limit: a bare axum server answering every request with
//! the same bytes, read once from a file, as fast as this machine serves
//! HTTP. `cargo run --release --example bare -- ADDR FILE`.

use axum::body::Bytes;
use axum::http::header;
use axum::routing::any;
use axum::Router;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: bare ADDR FILE");
        std::process::exit(2);
    };
    let body = Bytes::from(std::fs::read(&file)?);
    let app = Router::new().fallback(any(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
    }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
