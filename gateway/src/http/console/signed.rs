//! The key that signs the cookie of a sign-in under way (HMAC-SHA256), so
//! that the callback only trusts a state, verifier and way back this
//! gateway wrote. Kept in a file: `[console] cookie_key_file`, shared by
//! the replicas behind one address, or else `console-cookie.key` under the
//! data directory, created on first use.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::hmac;

/// The file the key is kept in under the data directory, when none is
/// configured.
pub const KEY_FILE: &str = "console-cookie.key";
/// The fewest bytes a key may have.
const MIN_KEY: usize = 32;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The key signing the console's cookies. Never printed.
pub struct CookieKey(hmac::Key);

/// Why the key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key's file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file holds too little.
    #[error("{path}: a key holds at least {MIN_KEY} bytes")]
    TooShort {
        /// The key's file.
        path: PathBuf,
    },
}

impl CookieKey {
    /// The key in `file` when one is configured (it must exist), else the
    /// one under `data_dir`, created the first time.
    pub fn load(file: Option<&Path>, data_dir: &Path) -> Result<Self, KeyError> {
        let (path, create) = match file {
            Some(f) => (f.to_owned(), false),
            None => (data_dir.join(KEY_FILE), true),
        };
        let io = |source| KeyError::Io {
            path: path.clone(),
            source,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                create_key(&path).map_err(io)?
            }
            Err(e) => return Err(io(e)),
        };
        // A key written by hand may end with a newline.
        let key = bytes.trim_ascii();
        if key.len() < MIN_KEY {
            return Err(KeyError::TooShort { path });
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, key)))
    }

    /// A key of its own, for tests.
    #[cfg(test)]
    pub fn from_bytes(key: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, key))
    }

    /// `value` signed as the cookie `name`: `value.MAC`, the MAC covering
    /// the name too, so that one cookie's value does not pass for
    /// another's.
    pub fn sign(&self, name: &str, value: &str) -> String {
        let tag = hmac::sign(&self.0, &message(name, value));
        format!("{value}.{}", B64.encode(tag.as_ref()))
    }

    /// The value of a cookie `name` signed by [`CookieKey::sign`]; `None`
    /// when its MAC does not check.
    pub fn verify<'a>(&self, name: &str, signed: &'a str) -> Option<&'a str> {
        let (value, tag) = signed.rsplit_once('.')?;
        let tag = B64.decode(tag).ok()?;
        hmac::verify(&self.0, &message(name, value), &tag).ok()?;
        Some(value)
    }
}

fn message(name: &str, value: &str) -> Vec<u8> {
    [name.as_bytes(), b"=", value.as_bytes()].concat()
}

/// Writes a new random key to `path`, readable by its owner only; a key
/// another process wrote first wins.
fn create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut key = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
        .map_err(|_| std::io::Error::other("no key could be generated"))?;
    let text = B64.encode(key).into_bytes();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut f) => {
            f.write_all(&text)?;
            f.sync_all()?;
            Ok(text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_passes_only_with_its_own_mac_and_name() {
        let key = CookieKey::from_bytes(&[7; 32]);
        let signed = key.sign("login", "eyJzdGF0ZSI6IngifQ");
        assert_eq!(key.verify("login", &signed), Some("eyJzdGF0ZSI6IngifQ"));
        assert_eq!(key.verify("session", &signed), None);
        let forged = signed.replacen("eyJz", "eyJa", 1);
        assert_eq!(key.verify("login", &forged), None);
        assert_eq!(key.verify("login", "eyJzdGF0ZSI6IngifQ"), None);
        let other = CookieKey::from_bytes(&[8; 32]);
        assert_eq!(other.verify("login", &signed), None);
    }

    #[test]
    fn the_key_is_created_once_then_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let first = CookieKey::load(None, dir.path()).unwrap();
        let signed = first.sign("c", "v");
        let again = CookieKey::load(None, dir.path()).unwrap();
        assert_eq!(again.verify("c", &signed), Some("v"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }

    #[test]
    fn a_configured_key_must_exist_and_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("shared.key");
        let e = CookieKey::load(Some(&file), dir.path()).err().unwrap();
        assert!(matches!(e, KeyError::Io { .. }), "{e}");
        assert!(!file.exists());
        std::fs::write(&file, "short\n").unwrap();
        let e = CookieKey::load(Some(&file), dir.path()).err().unwrap();
        assert!(e.to_string().contains("at least 32 bytes"), "{e}");
        std::fs::write(&file, format!("{}\n", "k".repeat(48))).unwrap();
        let a = CookieKey::load(Some(&file), dir.path()).unwrap();
        let b = CookieKey::load(Some(&file), tempfile::tempdir().unwrap().path()).unwrap();
        assert_eq!(b.verify("c", &a.sign("c", "v")), Some("v"));
    }
}
