//! Partners' secrets in configuration: written inline, or better read from
//! a file (a mounted Kubernetes Secret) or an environment variable, and
//! from then on held as a `SecretString` that never prints.
//!
//! ```toml
//! client_secret = { file = "/run/secrets/cci-client-secret" }
//! api_key = { env = "PASS_MONDE_API_KEY" }
//! password = "inline, for trials only"
//! ```

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Source {
    Inline(String),
    File { file: PathBuf },
    Env { env: String },
}

/// Reads a secret: a string, `{ file = PATH }` (its content, without the
/// trailing line break) or `{ env = NAME }`. An unreadable file or an unset
/// variable is a configuration error naming the file or variable, never
/// the secret.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    use serde::de::Error;
    let value = match Source::deserialize(d).map_err(|_| {
        D::Error::custom("a secret is a string, { file = \"PATH\" } or { env = \"NAME\" }")
    })? {
        Source::Inline(s) => s,
        Source::File { file } => std::fs::read_to_string(&file)
            .map_err(|e| {
                D::Error::custom(format!(
                    "cannot read the secret file {}: {e}",
                    file.display()
                ))
            })?
            .trim_end_matches(['\n', '\r'])
            .to_owned(),
        Source::Env { env } => std::env::var(&env)
            .map_err(|_| D::Error::custom(format!("the secret's variable {env} is not set")))?,
    };
    if value.is_empty() {
        return Err(D::Error::custom("a secret is empty"));
    }
    Ok(SecretString::from(value))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "super::deserialize")]
        secret: secrecy::SecretString,
    }

    #[test]
    fn a_secret_is_read_inline_from_a_file_or_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "from-file\n").unwrap();
        let file: Holder = toml::from_str(&format!(
            "secret = {{ file = {:?} }}",
            path.display().to_string()
        ))
        .unwrap();
        assert_eq!(file.secret.expose_secret(), "from-file");
        let inline: Holder = toml::from_str("secret = \"inline\"").unwrap();
        assert_eq!(inline.secret.expose_secret(), "inline");
        let path_env = std::env::var("PATH").unwrap();
        let env: Holder = toml::from_str("secret = { env = \"PATH\" }").unwrap();
        assert_eq!(env.secret.expose_secret(), path_env);
    }

    #[test]
    fn a_missing_file_or_variable_is_named_and_the_secret_is_not() {
        let e = toml::from_str::<Holder>("secret = { file = \"/nonexistent/s\" }")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/nonexistent/s"), "{e}");
        let e = toml::from_str::<Holder>("secret = { env = \"PASSERELLE_NO_SUCH_VARIABLE\" }")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("PASSERELLE_NO_SUCH_VARIABLE"), "{e}");
    }
}
