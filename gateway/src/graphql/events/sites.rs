//! Orientation sites: the `OrientationSite` type, which sites to list, and
//! their pages.

use async_graphql::{Context, Enum, InputObject, Object, ID};

use crate::domain::events::SiteFilter;
use crate::graphql::common::connection::connection_types;
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::inputs::{self};
use crate::graphql::common::near::NearInput;
use crate::graphql::common::place::Location;

/// Kinds of orientation site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::SiteKind")]
pub enum SiteKind {
    /// A Centre d'information et d'orientation.
    Cio,
    /// A Mission locale.
    MissionLocale,
    /// The Cité des métiers.
    CiteDesMetiers,
    /// A CFA.
    Cfa,
}

/// Which sites to list.
#[derive(InputObject, Default)]
#[graphql(name = "SiteFilter")]
pub struct SiteFilterInput {
    /// In this département.
    departement: Option<String>,
    /// In this commune (INSEE code).
    commune: Option<String>,
    /// Of this kind.
    kind: Option<SiteKind>,
    /// Around a place: a commune or a position, with a radius.
    near: Option<NearInput>,
}

impl SiteFilterInput {
    pub(super) fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<SiteFilter> {
        Ok(SiteFilter {
            departement: inputs::departement(ctx, "filter.departement", self.departement)?,
            commune: inputs::commune("filter.commune", self.commune)?,
            kind: self.kind.map(Into::into),
            uai: None,
            near: self.near.map(|n| n.parse("filter.near")).transpose()?,
        })
    }
}

/// An orientation site, read from the directory's record as fields are
/// asked.
#[derive(Clone)]
pub struct OrientationSite(pub std::sync::Arc<passerelle_schema::OrientationSite>);

/// An orientation site.
#[Object]
impl OrientationSite {
    /// Its global identifier (`node(id)`). Before, `id` was the
    /// directory's identifier, now `partnerId`.
    pub(crate) async fn id(&self) -> ID {
        ID(GlobalId::OrientationSite {
            partner: self.0.partner,
            partner_id: self.0.partner_id.clone(),
        }
        .encode())
    }

    /// Its identifier in the directory.
    async fn partner_id(&self) -> &str {
        &self.0.partner_id
    }

    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Its kind.
    async fn kind(&self) -> SiteKind {
        self.0.kind.into()
    }

    /// Where it is.
    async fn location(&self) -> Location<'_> {
        Location::of_commune(&self.0.commune).with_address(self.0.address.as_deref())
    }

    /// Its street address.
    #[graphql(deprecation = "read `location { address }`", inaccessible)]
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    /// Its commune's INSEE code.
    #[graphql(deprecation = "read `location { communeCode }`", inaccessible)]
    async fn commune_code(&self) -> &str {
        self.0.commune.as_str()
    }

    /// Its commune's name.
    #[graphql(deprecation = "read `location { communeName }`", inaccessible)]
    async fn commune_name(&self) -> &str {
        self.0.commune.name()
    }

    /// Its UAI, for a CFA.
    async fn uai(&self) -> Option<&str> {
        self.0.uai.as_ref().map(|u| u.as_str())
    }
}

/// A page of orientation sites, by identifier.
pub type OrientationSiteConnection =
    crate::graphql::common::connection::Connection<OrientationSite>;
connection_types!(
    OrientationSite,
    "OrientationSiteConnection",
    "OrientationSiteEdge"
);
