//! Which claims of a token say what its caller may do: where the scopes
//! are (Keycloak puts roles in `realm_access.roles` and
//! `resource_access.<client>.roles`, Entra ID in `scp` and `roles`, Auth0
//! and most OAuth servers in `scope`), under which names, and which
//! claims name the OPCO and the CFA the caller acts for.

use serde_json::{Map, Value};

pub use crate::config::ClaimMap;

/// Why a token's claims cannot be read as this map says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable(pub(crate) String);

impl ClaimMap {
    /// The scopes the claims grant, renamed, each once, in the order met.
    pub(crate) fn scopes(&self, claims: &Map<String, Value>) -> Result<Vec<String>, Unreadable> {
        let mut scopes: Vec<String> = Vec::new();
        for path in &self.scopes {
            let names: Vec<&str> = match find(claims, path) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => s.split_whitespace().collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str().ok_or_else(|| {
                            Unreadable(format!("the claim {path} lists a value that is not text"))
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(Unreadable(format!(
                        "the claim {path} is neither text nor a list of text"
                    )))
                }
            };
            for name in names {
                let scope = self.rename.get(name).map_or(name, String::as_str);
                if !scopes.iter().any(|s| s == scope) {
                    scopes.push(scope.to_owned());
                }
            }
        }
        Ok(scopes)
    }

    /// The OPCO the caller acts for.
    pub(crate) fn opco(&self, claims: &Map<String, Value>) -> Result<Option<String>, Unreadable> {
        one(claims, &self.opco, "OPCO")
    }

    /// The CFA the caller is.
    pub(crate) fn cfa(&self, claims: &Map<String, Value>) -> Result<Option<String>, Unreadable> {
        one(claims, &self.cfa, "CFA")
    }
}

/// The one identifier a claim gives: text, a whole number, or an array of
/// exactly one of those.
fn one(claims: &Map<String, Value>, path: &str, what: &str) -> Result<Option<String>, Unreadable> {
    let value = match find(claims, path) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) if items.len() == 1 => &items[0],
        Some(Value::Array(items)) if items.is_empty() => return Ok(None),
        Some(Value::Array(_)) => {
            return Err(Unreadable(format!(
                "the claim {path} names several of the {what}s; one is expected"
            )))
        }
        Some(v) => v,
    };
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        _ => Err(Unreadable(format!(
            "the claim {path} does not name one {what} (text or a whole number)"
        ))),
    }
}

/// The value at `path`: a claim's name, or names of nested objects
/// joined by dots. A name may hold dots itself (Auth0's namespaced claims,
/// `https://passerelle.region-normandie.fr/roles`): the longest name that
/// an object holds is taken first at each level.
fn find<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    let mut cut = path.len();
    while let Some(dot) = path[..cut].rfind('.') {
        if let Some(Value::Object(inner)) = claims.get(&path[..dot]) {
            if let Some(v) = find(inner, &path[dot + 1..]) {
                return Some(v);
            }
        }
        cut = dot;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn map(v: Value) -> ClaimMap {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn scopes_are_read_from_each_providers_layout() {
        // Auth0, oidc-provider, most OAuth servers: a string.
        let standard = ClaimMap::default();
        assert_eq!(
            standard.scopes(&claims(json!({ "scope": "openid region:bi" }))),
            Ok(vec!["openid".into(), "region:bi".into()])
        );
        // An array under the same name.
        assert_eq!(
            standard.scopes(&claims(json!({ "scope": ["region:bi", "opco:write"] }))),
            Ok(vec!["region:bi".into(), "opco:write".into()])
        );
        // Keycloak: realm roles and the client's roles, renamed.
        let keycloak = map(json!({
            "scopes": ["realm_access.roles", "resource_access.passerelle-api.roles"],
            "rename": { "passerelle-region-bi": "region:bi" }
        }));
        let token = claims(json!({
            "realm_access": { "roles": ["offline_access", "passerelle-region-bi"] },
            "resource_access": {
                "passerelle-api": { "roles": ["cfa:read", "passerelle-region-bi"] },
                "account": { "roles": ["manage-account"] }
            }
        }));
        assert_eq!(
            keycloak.scopes(&token),
            Ok(vec![
                "offline_access".into(),
                "region:bi".into(),
                "cfa:read".into()
            ])
        );
        // Entra ID: delegated scopes in `scp`, application roles in `roles`.
        let entra = map(json!({ "scopes": ["scp", "roles"] }));
        assert_eq!(
            entra.scopes(&claims(
                json!({ "scp": "region:bi", "roles": ["opco:write"] })
            )),
            Ok(vec!["region:bi".into(), "opco:write".into()])
        );
        // Auth0's namespaced claims hold dots in their names.
        let auth0 = map(json!({ "scopes": ["https://passerelle.region-normandie.fr/roles"] }));
        assert_eq!(
            auth0.scopes(&claims(
                json!({ "https://passerelle.region-normandie.fr/roles": ["region:bi"] })
            )),
            Ok(vec!["region:bi".into()])
        );
        let nested_dots = map(json!({ "scopes": ["resource_access.api.example.roles"] }));
        assert_eq!(
            nested_dots.scopes(&claims(
                json!({ "resource_access": { "api.example": { "roles": ["region:bi"] } } })
            )),
            Ok(vec!["region:bi".into()])
        );
        // Absent claims grant nothing; a claim of the wrong shape is said.
        assert_eq!(standard.scopes(&claims(json!({}))), Ok(vec![]));
        assert!(standard.scopes(&claims(json!({ "scope": 3 }))).is_err());
        assert!(standard.scopes(&claims(json!({ "scope": [3] }))).is_err());
    }

    #[test]
    fn the_opco_and_the_cfa_are_one_identifier_however_written() {
        let standard = ClaimMap::default();
        let read = |v: Value| {
            let c = claims(v);
            (standard.opco(&c), standard.cfa(&c))
        };
        assert_eq!(
            read(json!({ "opco": "akto", "cfa": "0141234A" })),
            (Ok(Some("akto".into())), Ok(Some("0141234A".into())))
        );
        assert_eq!(
            read(json!({ "opco": 11, "cfa": ["0141234A"] })),
            (Ok(Some("11".into())), Ok(Some("0141234A".into())))
        );
        assert_eq!(read(json!({})), (Ok(None), Ok(None)));
        let (_, several) = read(json!({ "cfa": ["0141234A", "0501234B"] }));
        assert!(several.unwrap_err().0.contains("several"));
        let (wrong, _) = read(json!({ "opco": { "id": 1 } }));
        assert!(wrong.is_err());
        let custom = map(json!({
            "opco": "app_metadata.opco",
            "cfa": "https://passerelle.region-normandie.fr/uai"
        }));
        let c = claims(json!({
            "app_metadata": { "opco": "ocapiat" },
            "https://passerelle.region-normandie.fr/uai": "0141234A"
        }));
        assert_eq!(custom.opco(&c), Ok(Some("ocapiat".into())));
        assert_eq!(custom.cfa(&c), Ok(Some("0141234A".into())));
    }
}
