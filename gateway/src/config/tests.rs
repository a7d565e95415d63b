//! The configuration read, checked and its errors naming the setting.
use super::load::is_setting;

use super::*;

#[test]
fn the_jwks_schedule_is_read_and_its_bounds_checked() {
    let c = Config::from_toml(
            "[auth]\njwks_cooldown = \"10s\"\njwks_refresh_min = \"2m\"\njwks_refresh_max = \"30m\"\njwks_refresh_default = \"10m\"\n",
        )
        .unwrap();
    let refresh = c.auth.jwks_refresh();
    assert_eq!(refresh.cooldown, std::time::Duration::from_secs(10));
    assert_eq!(refresh.default, std::time::Duration::from_secs(600));
    assert_eq!(
        Config::from_toml("").unwrap().auth.jwks_refresh(),
        JwksRefresh::default()
    );
    for (bad, path) in [
        ("jwks_cooldown = \"0s\"", "auth.jwks_cooldown"),
        ("jwks_refresh_min = \"2h\"", "auth.jwks_refresh_min"),
        ("jwks_refresh_default = \"1d\"", "auth.jwks_refresh_default"),
    ] {
        let e = Config::from_toml(&format!("[auth]\n{bad}\n")).unwrap_err();
        assert!(e.to_string().contains(path), "{bad}: {e}");
    }
}

#[test]
fn the_console_signs_in_at_a_public_address_outside_the_sandbox() {
    let real = "[sandbox]\nenabled = false\n[[partners]]\nkind = \"cma\"\nfeed_url = \"https://cma.example/offres.xml\"\n";
    let signing_in =
        "[console]\ndiscovery_url = \"https://sso.example/.well-known/openid-configuration\"\n";
    let e = Config::from_toml(&format!("{real}{signing_in}")).unwrap_err();
    assert!(e.to_string().contains("console.public_url"), "{e}");
    let with_address = format!("{real}{signing_in}public_url = \"https://passerelle.example\"\n");
    let c = Config::from_toml(&with_address).unwrap();
    assert_eq!(
        c.console.public_url.unwrap().as_str(),
        "https://passerelle.example/"
    );
}

#[test]
fn no_file_means_the_sandbox_on_loopback() {
    let c = Config::from_toml("").unwrap();
    assert!(c.sandbox.enabled);
    assert_eq!(c.listen.to_string(), "127.0.0.1:4000");
    assert!(c.store_url().starts_with("sqlite://"));
}

#[test]
fn errors_name_the_setting() {
    let e = Config::from_toml("listen = 4000").unwrap_err().to_string();
    assert!(e.contains("listen"), "{e}");
    let e = Config::from_toml("[sandbox]\nbase_prot = 1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("base_prot"), "{e}");
    let e = Config::from_toml("[sandbox]\nenabled = false")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("at partners:"), "{e}");
}

#[test]
fn only_settings_are_read_from_the_environment() {
    for key in [
        "STORE_URL",
        "store_url",
        "SANDBOX.ENABLED",
        "limits.max_depth",
    ] {
        assert!(is_setting(key), "{key}");
    }
    for key in [
        "CONFIG",
        "TEST_POSTGRES_URL",
        "PORT",
        "SERVICE_HOST",
        "REQUIRE_POSTGRES",
    ] {
        assert!(!is_setting(key), "{key}");
    }
}

#[test]
fn traces_go_over_grpc_unless_http_is_asked_for() {
    let c = Config::from_toml("[telemetry]\notlp_endpoint = \"http://collector:4317\"").unwrap();
    assert_eq!(c.telemetry.otlp_protocol, OtlpProtocol::Grpc);
    let c = Config::from_toml("[telemetry]\notlp_protocol = \"http/protobuf\"").unwrap();
    assert_eq!(c.telemetry.otlp_protocol, OtlpProtocol::HttpProtobuf);
    let e = Config::from_toml("[telemetry]\notlp_protocol = \"http/json\"")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("otlp_protocol") && e.contains("http/protobuf"),
        "{e}"
    );
}

#[test]
fn unknown_partner_kinds_list_the_known_ones() {
    let e = Config::from_toml("[sandbox]\nenabled = false\n[[partners]]\nkind = \"opca\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cci") && e.contains("cma"), "{e}");
}

#[test]
fn real_partners_are_read_with_their_secrets_hidden() {
    let c = Config::from_toml(
        r#"
            [sandbox]
            enabled = false
            [[partners]]
            kind = "cci"
            base_url = "https://api.cci.example/"
            cache_ttl = "2m"
            [partners.credentials]
            token_url = "https://auth.cci.example/token"
            client_id = "passerelle"
            client_secret = "s3cret"
            [[partners]]
            kind = "cma"
            feed_url = "https://cma.example/flux.xml"
            sync_interval = "6h"
            "#,
    )
    .unwrap();
    assert_eq!(c.partners.len(), 2);
    assert!(!format!("{c:?}").contains("s3cret"));
}

/// The configurations of the book's chapter on adding a partner read and
/// check as written (their secrets given inline).
#[test]
fn the_books_declared_partners_are_valid_configurations() {
    let chapter = include_str!("../../../docs/src/partners/add-a-partner.md");
    let blocks: Vec<&str> = chapter
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 3, "{}", blocks.len());
    for block in blocks {
        // Secrets from files and variables, inline here.
        let mut text = String::new();
        for line in block.lines() {
            let line = match (line.find("{ file = "), line.find("{ env = ")) {
                (Some(at), _) | (None, Some(at)) => {
                    let end = line[at..].find('}').unwrap() + at + 1;
                    format!("{}\"secret\"{}", &line[..at], &line[end..])
                }
                (None, None) => line.to_owned(),
            };
            text.push_str(&line);
            text.push('\n');
        }
        if !text.contains("[sandbox]") {
            text = format!("[sandbox]\nenabled = false\n{text}");
        }
        Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}
