//! The partner systems Passerelle speaks to.
//!
//! A partner is named by the folder that connects it (see the connectors'
//! registry): its identity is declared there, once, as a [`PartnerInfo`].
//! This crate only knows what every partner has: an identifier, a name,
//! and the way its data reaches the gateway. The partners declared in a
//! process are the ones identifiers can be read back as, from
//! configuration, stored records and requests.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

/// What identifies a partner, as its folder or its declaration says
/// (`S`: the text of a declared partner's, read at run time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerInfo<S = &'static str> {
    /// The short identifier, as used in configuration, URLs, ids and the
    /// store (`cci`): lower-case ASCII.
    pub id: S,
    /// The name of the partner's value in the API's `PartnerId` enum
    /// (`PASS_MONDE`).
    pub api_name: S,
    /// The partner's name for people.
    pub name: S,
    /// What its data is, in a line: the API's description of its value.
    pub about: S,
    /// How Passerelle reaches its data.
    pub mode: PartnerMode,
}

/// A partner system whose data Passerelle serves: a handle on its declared
/// identity, compared, ordered and hashed by identifier.
#[derive(Clone, Copy)]
pub struct Partner(&'static PartnerInfo);

impl Partner {
    /// The partner of a declared identity.
    pub const fn of(info: &'static PartnerInfo) -> Self {
        Self(info)
    }

    /// The partner's short identifier, as used in configuration, URLs and ids.
    pub fn id(self) -> &'static str {
        self.0.id
    }

    /// The partner's name for people.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// How Passerelle reaches the partner's data.
    pub fn mode(self) -> PartnerMode {
        self.0.mode
    }

    /// Its whole identity.
    pub fn info(self) -> &'static PartnerInfo {
        self.0
    }

    /// Makes the partner's identifier readable back, from configuration,
    /// stored records and requests. Declaring a partner twice is harmless;
    /// two identities under one identifier are a programming error.
    pub fn declare(self) -> Self {
        let mut known = DECLARED.write().unwrap_or_else(|e| e.into_inner());
        match known.iter().find(|p| p.id() == self.id()) {
            Some(p) => assert_eq!(p.0, self.0, "two partners declared as {:?}", self.id()),
            None => known.push(self),
        }
        self
    }

    /// The partner of an identity read at run time (a partner declared in
    /// configuration), declared: the partner already declared when it has
    /// this very identity; an error naming the clash when its identifier
    /// or API name is another identity's.
    pub fn declare_read(info: PartnerInfo<String>) -> Result<Self, String> {
        let mut known = DECLARED.write().unwrap_or_else(|e| e.into_inner());
        for p in known.iter() {
            let same_id = p.id() == info.id;
            if same_id || p.0.api_name == info.api_name {
                let same = same_id
                    && p.0.api_name == info.api_name
                    && p.0.name == info.name
                    && p.0.about == info.about
                    && p.0.mode == info.mode;
                return if same {
                    Ok(*p)
                } else if same_id {
                    Err(format!(
                        "the identifier {:?} is already another partner's",
                        info.id
                    ))
                } else {
                    Err(format!(
                        "the API name {:?} is already the partner {:?}'s",
                        info.api_name,
                        p.id()
                    ))
                };
            }
        }
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let partner = Partner(Box::leak(Box::new(PartnerInfo {
            id: leak(info.id),
            api_name: leak(info.api_name),
            name: leak(info.name),
            about: leak(info.about),
            mode: info.mode,
        })));
        known.push(partner);
        Ok(partner)
    }

    /// Every declared partner, in the order they were declared.
    pub fn declared() -> Vec<Partner> {
        DECLARED.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The declared partner with this API enum name (`PASS_MONDE`).
    pub fn by_api_name(name: &str) -> Option<Partner> {
        Self::declared().into_iter().find(|p| p.0.api_name == name)
    }
}

/// The partners declared in this process.
static DECLARED: RwLock<Vec<Partner>> = RwLock::new(Vec::new());

impl PartialEq for Partner {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0) || self.0.id == other.0.id
    }
}

impl Eq for Partner {}

impl Hash for Partner {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

impl PartialOrd for Partner {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Partner {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(other.0.id)
    }
}

impl fmt::Display for Partner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl fmt::Debug for Partner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown partner identifier; the message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown partner {0:?}; known partners: {known}", known = Partner::declared().iter().map(|p| p.id()).collect::<Vec<_>>().join(", "))]
pub struct UnknownPartner(pub String);

impl FromStr for Partner {
    type Err = UnknownPartner;
    fn from_str(s: &str) -> Result<Self, UnknownPartner> {
        Partner::declared()
            .into_iter()
            .find(|p| p.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownPartner(s.to_owned()))
    }
}

impl Serialize for Partner {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Partner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

/// How a partner's data reaches the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartnerMode {
    /// Queried at request time, answers cached.
    Live,
    /// Pulled on a schedule into the store, served from there.
    Synced,
    /// The partner pushes to Passerelle.
    Push,
}

/// Partners for the tests of the crates below the connectors, which do not
/// know the connectors' folders.
#[cfg(any(test, feature = "examples"))]
pub mod examples {
    use super::{Partner, PartnerInfo, PartnerMode};

    /// The declared partner `id`, declaring a test identity under it when
    /// none is.
    pub fn partner(id: &str) -> Partner {
        if let Ok(p) = id.parse() {
            return p;
        }
        let id: &'static str = Box::leak(id.to_owned().into_boxed_str());
        let info = Box::leak(Box::new(PartnerInfo {
            id,
            api_name: Box::leak(id.to_ascii_uppercase().into_boxed_str()),
            name: id,
            about: id,
            mode: PartnerMode::Synced,
        }));
        // Declared by another thread meanwhile: that one holds.
        let mut known = super::DECLARED.write().unwrap_or_else(|e| e.into_inner());
        match known.iter().find(|p| p.id() == id) {
            Some(p) => *p,
            None => {
                known.push(Partner::of(info));
                Partner::of(info)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_partner_lists_the_known_ones() {
        let cma = examples::partner("cma");
        for id in ["cci", "carif", "spro", "cnfpt"] {
            examples::partner(id);
        }
        assert_eq!("CMA".parse::<Partner>().unwrap(), cma);
        let e = "opca".parse::<Partner>().unwrap_err().to_string();
        assert!(
            e.starts_with("unknown partner \"opca\"; known partners: "),
            "{e}"
        );
        assert!(["cci", "cma", "carif", "spro", "cnfpt"]
            .iter()
            .all(|id| e.contains(id)));
    }

    #[test]
    fn partners_read_back_only_when_declared() {
        static LATE: PartnerInfo = PartnerInfo {
            id: "late",
            api_name: "LATE",
            name: "late",
            about: "late",
            mode: PartnerMode::Push,
        };
        assert!(serde_json::from_str::<Partner>("\"late\"").is_err());
        Partner::of(&LATE).declare();
        let p: Partner = serde_json::from_str("\"late\"").unwrap();
        assert_eq!(p.mode(), PartnerMode::Push);
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"late\"");
    }
}
