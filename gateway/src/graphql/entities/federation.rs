//! Passerelle as an Apollo Federation 2 subgraph: the entities other
//! subgraphs may reference by key, resolved by `_entities` in batches.
//!
//! A router sends every representation of one fetch in one `_entities`
//! field; each is resolved here through the batch loaders of the joins (the
//! CFAs from the directory kept per snapshot), so a hundred CFAs
//! make the partner calls of one, as a page of `cfas` does. Representations
//! are checked before anything runs (`shape::admit`): too many, or one
//! that is malformed, refuse the request with a code. A key that names
//! nothing is answered `null` with a `NOT_FOUND` error at its index.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::parser::types::Field;
use async_graphql::{
    Context, ContextSelectionSet, Object, OutputType, PathSegment, Positioned, ServerResult, ID,
};
use passerelle_schema::{Partner, Siret, Uai};
use serde_json::Value;

use crate::domain::offers::{OfferFilter, OfferService};
use crate::graphql::cfas::{employer_offers, spawn_in_operation, CfaNode, EmployerProfile, Joined};
use crate::graphql::common::errors::{report_partner_errors, ErrorCode};
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::ApiState;
use crate::graphql::events::OrientationSite;
use crate::graphql::offers::OfferNode;
use crate::graphql::programmes::FormationNode;
use crate::partners::sync::{record_at, record_of};

/// The entities and the field of their key, as the federation SDL's
/// `@key`s name them; what a representation must carry.
pub(crate) const KEYS: &[(&str, &str)] = &[
    ("Offer", "id"),
    ("Cfa", "uai"),
    ("EmployerProfile", "siret"),
    ("Formation", "id"),
    ("OrientationSite", "id"),
];

/// Checks one representation: an object naming an entity of this
/// subgraph and a well-formed key. Says what is wrong otherwise.
pub fn check_representation(r: &Value) -> Result<(), String> {
    let Value::Object(r) = r else {
        return Err("is not an object".into());
    };
    let Some(Value::String(typename)) = r.get("__typename") else {
        return Err("has no __typename".into());
    };
    let Some((_, key)) = KEYS.iter().find(|(t, _)| t == typename) else {
        let known: Vec<&str> = KEYS.iter().map(|(t, _)| *t).collect();
        return Err(format!(
            "names {typename}, which is not an entity of this subgraph ({})",
            known.join(", ")
        ));
    };
    let Some(Value::String(value)) = r.get(*key) else {
        return Err(format!("has no {key}, the key of {typename}, as a string"));
    };
    let wrong = match typename.as_str() {
        "Cfa" => Uai::parse(value).err().map(|e| e.to_string()),
        "EmployerProfile" => Siret::parse(value).err().map(|e| e.to_string()),
        "Offer" => GlobalId::decode(value)
            .is_none()
            .then(|| "not an identifier of this API".to_owned()),
        _ => value.is_empty().then(|| "empty".to_owned()),
    };
    match wrong {
        Some(why) => Err(format!("{key}: {why}")),
        None => Ok(()),
    }
}

/// An offer's primary source: its exchange and its identifier there.
type SourceKey = (Partner, String);

/// Where representations stand in one `_entities` field: the first index
/// of each type and key.
type Places = HashMap<(String, String), usize>;

/// Loads offers by their primary source: one search of every offer
/// serves the batch.
pub struct OfferLoader {
    offers: Arc<OfferService>,
}

impl Loader<SourceKey> for OfferLoader {
    type Value = Joined<Option<Arc<passerelle_schema::Offer>>>;
    type Error = Arc<String>;

    #[tracing::instrument(name = "entities.offers.load", skip_all, fields(offers = keys.len()))]
    async fn load(
        &self,
        keys: &[SourceKey],
    ) -> Result<HashMap<SourceKey, Self::Value>, Self::Error> {
        let all = self.offers.search(&OfferFilter::default()).await;
        let wanted: Vec<(Partner, &str)> = keys.iter().map(|(p, id)| (*p, id.as_str())).collect();
        let found = all.offers.find_sources(&wanted);
        Ok(keys
            .iter()
            .cloned()
            .zip(found)
            .map(|(k, offer)| (k, Joined::new(offer, all.errors.clone())))
            .collect())
    }
}

/// The loaders of entities the schema holds.
pub struct EntityLoaders {
    offers: DataLoader<OfferLoader>,
}

impl EntityLoaders {
    /// Loaders over these services.
    pub fn new(offers: Arc<OfferService>) -> Self {
        Self {
            offers: DataLoader::new(OfferLoader { offers }, spawn_in_operation),
        }
    }
}

fn load_error(e: Arc<String>) -> async_graphql::Error {
    tracing::error!(error = %e, "a batch of entities failed to load");
    ErrorCode::Internal.error("an entity could not be loaded")
}

/// What the entities of one request share, gathered once, when an entity
/// first needs it: where each representation of its `_entities` fields
/// stands (by field, the first index of each type and key).
#[derive(Default)]
pub struct EntityMemo {
    positions: Mutex<HashMap<(usize, usize), Arc<Places>>>,
}

impl EntityMemo {
    fn positions(&self, ctx: &Context<'_>) -> Arc<Places> {
        let field = (ctx.item.pos.line, ctx.item.pos.column);
        let mut memo = self.positions.lock().unwrap_or_else(|e| e.into_inner());
        memo.entry(field)
            .or_insert_with(|| Arc::new(positions(ctx)))
            .clone()
    }
}

fn positions(ctx: &Context<'_>) -> Places {
    let Ok((_, reps)) = ctx.param_value::<Vec<async_graphql::Any>>("representations", None) else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    for (i, r) in reps.iter().enumerate() {
        let async_graphql::Value::Object(r) = &r.0 else {
            continue;
        };
        let Some(async_graphql::Value::String(typename)) = r.get("__typename") else {
            continue;
        };
        let Some((_, key)) = KEYS.iter().find(|(t, _)| t == typename) else {
            continue;
        };
        if let Some(async_graphql::Value::String(value)) = r.get(*key) {
            out.entry((typename.clone(), value.clone())).or_insert(i);
        }
    }
    out
}

/// The index in `representations` of the first representation of
/// `typename` with this key.
fn index_of(ctx: &Context<'_>, typename: &str, key: &str) -> Option<usize> {
    let found = |p: &Places| p.get(&(typename.to_owned(), key.to_owned())).copied();
    match ctx.data_opt::<EntityMemo>() {
        Some(memo) => found(&memo.positions(ctx)),
        None => found(&positions(ctx)),
    }
}

/// An entity answered at its place in `representations`: the errors of its
/// fields carry its index, so that a router puts them on the right entity.
pub struct AtIndex<T>(Option<usize>, T);

impl<T: OutputType> OutputType for AtIndex<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<async_graphql::Value> {
        match self.0 {
            Some(i) => self.1.resolve(&ctx.with_index(i), field).await,
            None => self.1.resolve(ctx, field).await,
        }
    }
}

/// One entity's answer: found, with the failures met loading it (said at
/// its index), or `null` with a `NOT_FOUND` error at its index.
fn answer<T>(
    ctx: &Context<'_>,
    typename: &str,
    key: (&str, &str),
    found: Option<T>,
    errors: &[passerelle_connectors::ConnectorError],
) -> Option<AtIndex<T>> {
    let at = index_of(ctx, typename, key.1);
    let here = at.map(|i| ctx.with_index(i));
    report_partner_errors(here.as_ref().unwrap_or(ctx), errors);
    if found.is_none() {
        let (name, value) = key;
        let mut error = ErrorCode::NotFound
            .error(format!("no {typename} has {name} {value}"))
            .into_server_error(ctx.item.pos);
        error.path = vec![PathSegment::Field("_entities".into())];
        error.path.extend(at.map(PathSegment::Index));
        ctx.add_error(error);
    }
    Some(AtIndex(at, found?))
}

/// The entities' resolvers: the part of the root of queries that answers
/// `_entities`.
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    /// A CFA referenced by its UAI.
    #[graphql(entity)]
    async fn cfa_by_uai(
        &self,
        ctx: &Context<'_>,
        uai: String,
    ) -> async_graphql::Result<Option<AtIndex<CfaNode>>> {
        let key =
            Uai::parse(&uai).map_err(|e| ErrorCode::InvalidInput.error(format!("uai: {e}")))?;
        let state = ctx.data::<ApiState>()?;
        let found = CfaNode::of(state, &key);
        Ok(answer(ctx, "Cfa", ("uai", &uai), found, &[]))
    }

    /// An employer referenced by its SIRET.
    #[graphql(entity)]
    async fn employer_by_siret(
        &self,
        ctx: &Context<'_>,
        siret: String,
    ) -> async_graphql::Result<Option<AtIndex<EmployerProfile>>> {
        let key = Siret::parse(&siret)
            .map_err(|e| ErrorCode::InvalidInput.error(format!("siret: {e}")))?;
        let joined = employer_offers(ctx, key.clone()).await?;
        let (offers, errors) = joined.map_or((None, Vec::new()), |j| (Some(j.value), j.errors));
        let found = offers
            .filter(|o| !o.is_empty())
            .map(|o| EmployerProfile::new(key, Arc::new(o)));
        Ok(answer(
            ctx,
            "EmployerProfile",
            ("siret", &siret),
            found,
            &errors,
        ))
    }

    /// An offer referenced by its global identifier.
    #[graphql(entity)]
    async fn offer_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<AtIndex<OfferNode>>> {
        let key = GlobalId::offer_source(&id)?;
        let loaders = ctx.data::<EntityLoaders>()?;
        let joined = loaders.offers.load_one(key).await.map_err(load_error)?;
        let (offer, errors) = joined.map_or((None, Vec::new()), |j| (j.value, j.errors));
        Ok(answer(
            ctx,
            "Offer",
            ("id", &id),
            offer.map(OfferNode),
            &errors,
        ))
    }

    /// A programme referenced by its global identifier (or, deprecated,
    /// by its catalogue's identifier, which `id` was before).
    #[graphql(entity)]
    async fn formation_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<AtIndex<FormationNode>>> {
        let state = ctx.data::<ApiState>()?;
        let found = match GlobalId::decode(&id) {
            Some(GlobalId::Formation {
                partner,
                partner_id,
            }) => record_at(&state.sources.formations, partner, &partner_id),
            Some(_) => None,
            None => record_of(&state.sources.formations, &id),
        };
        Ok(answer(
            ctx,
            "Formation",
            ("id", &id),
            found.map(FormationNode),
            &[],
        ))
    }

    /// An orientation site referenced by its global identifier (or,
    /// deprecated, by its directory's identifier, which `id` was before).
    #[graphql(entity)]
    async fn orientation_site_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<AtIndex<OrientationSite>>> {
        let state = ctx.data::<ApiState>()?;
        let found = match GlobalId::decode(&id) {
            Some(GlobalId::OrientationSite {
                partner,
                partner_id,
            }) => record_at(&state.sources.sites, partner, &partner_id),
            Some(_) => None,
            None => record_of(&state.sources.sites, &id),
        };
        Ok(answer(
            ctx,
            "OrientationSite",
            ("id", &id),
            found.map(OrientationSite),
            &[],
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_key_is_a_key_of_the_federation_sdl() {
        let sdl = crate::graphql::federation_sdl();
        for (typename, key) in KEYS {
            let declared = format!("type {typename} @key(fields: \"{key}\")");
            let declared_as_interface =
                format!("type {typename} implements Node @key(fields: \"{key}\")");
            assert!(
                sdl.contains(&declared) || sdl.contains(&declared_as_interface),
                "{typename} is not declared with @key on {key}"
            );
        }
        assert_eq!(
            sdl.matches("@key(").count(),
            KEYS.len(),
            "an entity is missing from KEYS"
        );
    }

    #[test]
    fn malformed_representations_say_what_is_wrong() {
        let cases = [
            (json!("Cfa"), "is not an object"),
            (json!({ "uai": "0141687H" }), "has no __typename"),
            (
                json!({ "__typename": "Grant", "id": "1" }),
                "not an entity of this subgraph",
            ),
            (json!({ "__typename": "Cfa" }), "has no uai"),
            (json!({ "__typename": "Cfa", "uai": 141687 }), "has no uai"),
            (json!({ "__typename": "Cfa", "uai": "0141687A" }), "uai: "),
            (
                json!({ "__typename": "EmployerProfile", "siret": "123" }),
                "siret: ",
            ),
            (
                json!({ "__typename": "Offer", "id": "not-an-id" }),
                "id: not an identifier",
            ),
            (json!({ "__typename": "Formation", "id": "" }), "id: empty"),
        ];
        for (rep, said) in cases {
            let why = check_representation(&rep).expect_err(&rep.to_string());
            assert!(why.contains(said), "{rep}: {why}");
        }
        assert_eq!(
            check_representation(&json!({ "__typename": "Formation", "id": "F-1" })),
            Ok(())
        );
    }
}
