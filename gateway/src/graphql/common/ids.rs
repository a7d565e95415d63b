//! Global identifiers and page cursors: opaque to clients, stable for us.

use base64::Engine;
use chrono::{DateTime, Utc};
use passerelle_schema::{Offer, Partner};

use crate::partners::packed::OfferSummary;

use super::connection::{b64, b64_of, B64};

/// What a global identifier names: every entity a client may refetch by
/// `node(id)`, its type first, so that two types never share an
/// identifier in a normalised cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalId {
    /// An offer, by its primary source.
    Offer {
        /// The exchange.
        partner: Partner,
        /// The offer's identifier there.
        partner_id: String,
    },
    /// A CFA, by its UAI.
    Cfa {
        /// Its UAI.
        uai: String,
    },
    /// A programme, by its catalogue.
    Formation {
        /// The catalogue.
        partner: Partner,
        /// Its identifier there.
        partner_id: String,
    },
    /// One occurrence of an orientation event.
    Event {
        /// The orientation sites' partner that publishes it.
        partner: Partner,
        /// The event's identifier there.
        partner_id: String,
        /// The occurrence's start, in seconds since the Unix epoch.
        start: i64,
    },
    /// An orientation site, by its directory.
    OrientationSite {
        /// The directory.
        partner: Partner,
        /// Its identifier there.
        partner_id: String,
    },
}

impl GlobalId {
    /// The opaque form clients see: the type, then the key, in base64.
    pub fn encode(&self) -> String {
        match self {
            GlobalId::Offer {
                partner,
                partner_id,
            } => opaque(&["Offer", partner.id(), partner_id]),
            GlobalId::Cfa { uai } => opaque(&["Cfa", uai]),
            GlobalId::Formation {
                partner,
                partner_id,
            } => Self::encode_formation(*partner, partner_id),
            GlobalId::Event {
                partner,
                partner_id,
                start,
            } => opaque(&["Event", partner.id(), &start.to_string(), partner_id]),
            GlobalId::OrientationSite {
                partner,
                partner_id,
            } => opaque(&["OrientationSite", partner.id(), partner_id]),
        }
    }

    /// The opaque form of the identifier of `partner`'s programme
    /// `partner_id`, without making the identifier first.
    pub fn encode_formation(partner: Partner, partner_id: &str) -> String {
        opaque(&["Formation", partner.id(), partner_id])
    }

    /// The opaque form of the identifier of the offer `o`: its primary
    /// source's.
    pub fn encode_offer(o: &Offer) -> String {
        let s = o.primary_source();
        opaque(&["Offer", s.partner.id(), &s.partner_id])
    }

    /// The offer an identifier names, as its exchange and its identifier
    /// there; `INVALID_INPUT` when it is not an offer's identifier.
    pub fn offer_source(id: &str) -> async_graphql::Result<(Partner, String)> {
        match Self::decode(id) {
            Some(GlobalId::Offer {
                partner,
                partner_id,
            }) => Ok((partner, partner_id)),
            _ => Err(crate::graphql::common::errors::ErrorCode::InvalidInput
                .error("id is not the identifier of an offer of this API")),
        }
    }

    /// Reads an opaque identifier; `None` when it is not one of ours.
    pub fn decode(id: &str) -> Option<Self> {
        let raw = String::from_utf8(B64.decode(id.trim()).ok()?).ok()?;
        let (kind, key) = raw.split_once(':')?;
        // The partner, then the rest of the key, which may hold colons.
        let sourced = |key: &str| -> Option<(Partner, String)> {
            let (partner, partner_id) = key.split_once(':')?;
            if partner_id.is_empty() {
                return None;
            }
            Some((partner.parse().ok()?, partner_id.to_owned()))
        };
        match kind {
            "Offer" => sourced(key).map(|(partner, partner_id)| GlobalId::Offer {
                partner,
                partner_id,
            }),
            "Cfa" if !key.is_empty() => Some(GlobalId::Cfa {
                uai: key.to_owned(),
            }),
            "Formation" => sourced(key).map(|(partner, partner_id)| GlobalId::Formation {
                partner,
                partner_id,
            }),
            "OrientationSite" => {
                sourced(key).map(|(partner, partner_id)| GlobalId::OrientationSite {
                    partner,
                    partner_id,
                })
            }
            "Event" => {
                let (partner, rest) = sourced(key)?;
                let (start, partner_id) = rest.split_once(':')?;
                if partner_id.is_empty() {
                    return None;
                }
                Some(GlobalId::Event {
                    partner,
                    partner_id: partner_id.to_owned(),
                    start: start.parse().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// A position in the list of offers, newest first: the publication instant
/// and global identifier of the last offer seen. It stays valid when offers
/// are added, removed, or when a partner drops out of the merge: the next
/// page starts after that position, wherever it now is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferCursor {
    /// Publication instant of the offer.
    pub published_at: DateTime<Utc>,
    /// Its primary source.
    pub partner: Partner,
    /// Its identifier there.
    pub partner_id: String,
}

impl OfferCursor {
    /// The cursor of an offer, from what searches read of it.
    pub fn of_summary(o: &OfferSummary) -> Self {
        Self {
            published_at: o.published_at,
            partner: o.sources.primary(),
            partner_id: o.partner_id.to_owned(),
        }
    }

    /// The opaque form.
    pub fn encode(&self) -> String {
        b64_of(format_args!(
            "o1|{}|{}|{}",
            self.published_at.timestamp_micros(),
            self.partner,
            self.partner_id
        ))
    }

    /// Reads an opaque cursor.
    pub fn decode(s: &str) -> Option<Self> {
        let raw = String::from_utf8(B64.decode(s.trim()).ok()?).ok()?;
        let mut parts = raw.splitn(4, '|');
        if parts.next()? != "o1" {
            return None;
        }
        let micros: i64 = parts.next()?.parse().ok()?;
        Some(Self {
            published_at: DateTime::from_timestamp_micros(micros)?,
            partner: parts.next()?.parse().ok()?,
            partner_id: parts.next()?.to_owned(),
        })
    }

    /// Whether `o` comes after this position in newest-first order.
    pub fn is_before(&self, o: &OfferSummary) -> bool {
        o.order_key()
            > (
                std::cmp::Reverse(self.published_at),
                self.partner,
                self.partner_id.as_str(),
            )
    }
}

/// `parts` joined by `:`, in base64: an identifier is made on every
/// object of every page, and `format!` costs more than the encoding.
fn opaque(parts: &[&str]) -> String {
    let mut raw = smallvec::SmallVec::<[u8; 128]>::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            raw.push(b':');
        }
        raw.extend_from_slice(part.as_bytes());
    }
    b64(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Partners are read back by the identities declared in the process:
    /// declared here, whatever test ran before.
    fn declared() {
        passerelle_connectors::Registry::standard();
    }

    #[test]
    fn ids_and_cursors_round_trip_and_refuse_garbage() {
        declared();
        let id = GlobalId::Offer {
            partner: passerelle_connectors::cma::PARTNER,
            partner_id: "CMA-14-000001".into(),
        };
        assert_eq!(GlobalId::decode(&id.encode()), Some(id));
        let partner = passerelle_connectors::spro::PARTNER;
        for id in [
            GlobalId::Cfa {
                uai: "0141687A".into(),
            },
            GlobalId::Formation {
                partner,
                partner_id: "F:1".into(),
            },
            GlobalId::OrientationSite {
                partner,
                partner_id: "S-1".into(),
            },
            GlobalId::Event {
                partner,
                partner_id: "E:1".into(),
                start: 1_795_000_000,
            },
        ] {
            assert_eq!(GlobalId::decode(&id.encode()), Some(id));
        }
        // The opaque form: the type, then the key, joined by colons.
        let event = GlobalId::Event {
            partner,
            partner_id: "E:1".into(),
            start: 1_795_000_000,
        };
        assert_eq!(event.encode(), B64.encode("Event:spro:1795000000:E:1"));
        // Two types never share an identifier.
        let formation = GlobalId::Formation {
            partner,
            partner_id: "X".into(),
        };
        let site = GlobalId::OrientationSite {
            partner,
            partner_id: "X".into(),
        };
        assert_ne!(formation.encode(), site.encode());
        assert_eq!(GlobalId::decode(&B64.encode("Event:spro:x:E1")), None);
        assert_eq!(GlobalId::decode(&B64.encode("Formation:spro:")), None);
        assert_eq!(GlobalId::decode("bm9wZQ"), None);
        assert_eq!(GlobalId::decode("%%%"), None);
        let c = OfferCursor {
            published_at: "2026-11-20T08:30:00.123456Z".parse().unwrap(),
            partner: passerelle_connectors::cci::PARTNER,
            partner_id: "CCI-1|x".into(),
        };
        assert_eq!(OfferCursor::decode(&c.encode()), Some(c));
        assert_eq!(OfferCursor::decode("abc"), None);
    }

    #[test]
    fn keys_longer_than_the_stack_buffer_are_encoded_whole() {
        declared();
        let partner = passerelle_connectors::spro::PARTNER;
        let long = "F".repeat(300);
        let id = GlobalId::Formation {
            partner,
            partner_id: long.clone(),
        };
        assert_eq!(id.encode(), B64.encode(format!("Formation:spro:{long}")));
        assert_eq!(GlobalId::decode(&id.encode()), Some(id));
        let c = OfferCursor {
            published_at: "2026-11-20T08:30:00Z".parse().unwrap(),
            partner: passerelle_connectors::cci::PARTNER,
            partner_id: long.as_str().into(),
        };
        assert_eq!(OfferCursor::decode(&c.encode()), Some(c));
    }
}
