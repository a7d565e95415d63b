//! The ROME referential's codes and job titles, as every record's
//! occupation is served.

use async_graphql::Object;
use passerelle_schema::reference::{self, RomeAppellation};

pub struct Rome<'a>(pub &'a str);

/// An occupation of the ROME referential.
#[Object]
impl Rome<'_> {
    /// The code (`D1102`).
    async fn code(&self) -> &str {
        self.0
    }

    /// The label in the ROME referential (source: France Travail, ROME 4.0
    /// version 60 of 18/09/2025, Licence Ouverte); null for a code it does
    /// not know.
    async fn label(&self) -> Option<&'static str> {
        reference::rome_label(self.0)
    }

    /// The occupation (fiche métier) this code belongs to: itself for one
    /// of the ROME's 532 occupations, the broader one for a finer code of
    /// ROME 4.0 (`D1108` → `D1102`); null for a code the referential does
    /// not know.
    async fn occupation(&self) -> Option<Rome<'static>> {
        reference::rome_parent(self.0).map(Rome)
    }

    /// The job titles (appellations) the referential lists under this
    /// code, by label.
    async fn appellations(&self) -> Vec<Appellation> {
        reference::appellations_of(self.0)
            .iter()
            .map(Appellation)
            .collect()
    }
}

pub struct Appellation(pub(super) &'static RomeAppellation);

/// A job title of the ROME referential (an appellation).
#[Object]
impl Appellation {
    /// Its code in the referential (`11573`).
    async fn code(&self) -> &str {
        self.0.code
    }

    /// The job title, in its masculine and feminine forms where they differ
    /// (`Boulanger / Boulangère`).
    async fn label(&self) -> &str {
        self.0.label
    }

    /// The title shortened for a narrow screen, as the referential gives
    /// it (often the same as `label`).
    async fn short_label(&self) -> &str {
        self.0.short_label
    }

    /// The code it is listed under.
    async fn rome(&self) -> Rome<'static> {
        Rome(self.0.rome)
    }
}
