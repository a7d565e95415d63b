//! How a search's words were read, for a portal to show beside its results.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject};
use passerelle_schema::reference;

use super::Rome;
use crate::domain::words::{Words, PLACE_KM};

/// How the words of `filter.text` were read: what a portal shows beside its
/// results ("près de Caen · CAP · Boulanger / Boulangère"), so that a young
/// person sees what the search understood, and can search otherwise.
pub struct Understood(pub Arc<Words>);

/// A town named in a search.
#[derive(SimpleObject)]
pub struct Town {
    /// Its INSEE code (`14118`).
    code: &'static str,
    /// Its name (`Caen`).
    name: &'static str,
    /// How far around it records are kept, in kilometres.
    radius_km: f64,
}

#[Object]
impl Understood {
    /// The town named (`caen`, `le havre`, `st lo`), around which records
    /// are kept; null when none is.
    async fn town(&self) -> Option<Town> {
        let place = self.0.place.as_ref()?;
        Some(Town {
            code: place.commune,
            name: &reference::commune(place.commune)?.name,
            radius_km: PLACE_KM,
        })
    }

    /// The diploma level named (`cap` is 3, `bac pro` 4, `bts` 5), whose
    /// records rank first; null when none is.
    async fn level(&self) -> Option<i32> {
        self.0.level.map(|l| i32::from(l.get()))
    }

    /// The occupations the words name, whose records are found whatever
    /// their titles say, each once.
    async fn occupations(&self) -> Vec<Rome<'static>> {
        let mut codes: Vec<&'static str> = Vec::new();
        for code in self.0.words.iter().flat_map(|w| &w.occupations) {
            if !codes.contains(code) {
                codes.push(code);
            }
        }
        codes.into_iter().map(Rome).collect()
    }
}
