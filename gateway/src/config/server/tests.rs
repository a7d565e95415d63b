//! The server's settings: clients' addresses and slow connections.

use super::*;
use crate::config::Config;

#[test]
fn trusted_proxies_are_networks_or_addresses() {
    let c = Config::from_toml(
            "[server]\ntrusted_proxies = [\"10.42.0.0/16\", \"fd00::/8\", \"192.0.2.7\", \"10.1.2.3/8\"]",
        )
        .unwrap();
    let nets = c.server.trusted_networks().unwrap();
    let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["10.42.0.0/16", "fd00::/8", "192.0.2.7/32", "10.0.0.0/8"]
    );
}

#[test]
fn a_malformed_trusted_proxy_is_refused_by_its_index() {
    for bad in ["10.0.0.0/33", "ingress-nginx", "fd00::/129", ""] {
        let toml = format!("[server]\ntrusted_proxies = [\"10.42.0.0/16\", {bad:?}]");
        let e = Config::from_toml(&toml).unwrap_err().to_string();
        assert!(e.starts_with("at server.trusted_proxies[1]: "), "{e}");
    }
}

#[test]
fn the_idle_timeout_outlasts_keep_alives_and_operations() {
    let c = Config::from_toml("").unwrap();
    assert!(c.server.idle_timeout > c.subscriptions.keep_alive);
    assert!(c.server.idle_timeout > c.limits.operation_timeout);
    let e = Config::from_toml("[server]\nidle_timeout = \"30s\"")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("at server.idle_timeout:") && e.contains("subscriptions.keep_alive"),
        "{e}"
    );
    let e =
        Config::from_toml("[server]\nidle_timeout = \"40s\"\n[limits]\noperation_timeout = \"1m\"")
            .unwrap_err()
            .to_string();
    assert!(e.contains("limits.operation_timeout"), "{e}");
    let e = Config::from_toml("[server]\nbody_read_timeout = \"0s\"")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("at server.body_read_timeout:"), "{e}");
    Config::from_toml(
            "[server]\nidle_timeout = \"2s\"\n[subscriptions]\nkeep_alive = \"1s\"\n[limits]\noperation_timeout = \"1s\"",
        )
        .unwrap();
}

#[test]
fn the_client_address_header_is_one_of_two() {
    let c = Config::from_toml("[server]\nclient_address_header = \"forwarded\"").unwrap();
    assert_eq!(
        c.server.client_address_header,
        ClientAddressHeader::Forwarded
    );
    let e = Config::from_toml("[server]\nclient_address_header = \"x-real-ip\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("x-forwarded-for"), "{e}");
}
