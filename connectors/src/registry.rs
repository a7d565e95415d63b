//! The partners Passerelle knows, one registration each.
//!
//! A partner's folder declares its identity and says what the registry
//! needs of it ([`PartnerSpec`]: the mapping files it ships, the type its
//! `[[partners]]` table is read as, whose value ([`Configured`]) gives the
//! sources it provides); its simulator, in a build with the sandbox, says
//! its routes and its settings against them ([`crate::sandbox::Simulated`]).
//! [`Kind`] makes of these a [`PartnerKind`], the registration. The gateway
//! knows partners only through this registry: adding one is a folder, its
//! mapping files and one line in [`Registry::standard`] (or, for a test, in
//! the registry a test builds).

use std::sync::Arc;

use passerelle_mappings::{Catalog, EntityKind, Mapping, MappingFileError};
use passerelle_schema::Partner;

use crate::declared::{shipped, DeclaredKind, DECLARED};
#[cfg(feature = "sandbox")]
use crate::sandbox::{Faults, SandboxData, SandboxSettings};
use crate::source::Source;

/// A configuration table of a partner, as read from a file: its `kind`
/// aside.
pub type Table = serde_json::Map<String, serde_json::Value>;

/// What a kind of partner is, for the gateway.
pub trait PartnerKind: Send + Sync + 'static {
    /// Its identity.
    fn partner(&self) -> Partner;
    /// The mapping files shipped with it: each a path under `mappings/`
    /// (`cci/offer.toml`) and its text.
    fn mappings(&self) -> &'static [(&'static str, &'static str)];
    /// Reads its connection settings: its `[[partners]]` table, `kind`
    /// removed.
    fn configure(&self, table: Table) -> Result<Arc<dyn Configured>, serde_json::Error>;
    /// Its simulator's routes, serving the sandbox's data with `faults`;
    /// none for a partner declared in configuration.
    #[cfg(feature = "sandbox")]
    fn simulator(&self, data: &SandboxData, faults: Faults) -> Option<axum::Router>;
    /// Its connection settings against its simulator at `base`.
    #[cfg(feature = "sandbox")]
    fn sandboxed(&self, base: &url::Url, settings: &SandboxSettings)
        -> Option<Arc<dyn Configured>>;
}

/// What a partner's folder says of it; [`Kind`] makes it a [`PartnerKind`].
/// Its simulator, for the sandbox, is said apart (see
/// [`crate::sandbox::Simulated`]).
pub trait PartnerSpec: Send + Sync + 'static {
    /// Its connection settings, as its `[[partners]]` table is read.
    type Config: Configured + serde::de::DeserializeOwned;
    /// Its identity.
    const PARTNER: Partner;
    /// The mapping files shipped with it: each a path under `mappings/`
    /// and its text.
    const MAPPINGS: &'static [(&'static str, &'static str)];
}

/// What a partner must also be to be registered: simulated, in a build
/// with the sandbox.
#[cfg(feature = "sandbox")]
pub trait Registrable: crate::sandbox::Simulated {}
#[cfg(feature = "sandbox")]
impl<S: crate::sandbox::Simulated> Registrable for S {}
/// What a partner must also be to be registered: nothing more, in a build
/// without the sandbox.
#[cfg(not(feature = "sandbox"))]
pub trait Registrable {}
#[cfg(not(feature = "sandbox"))]
impl<S> Registrable for S {}

/// The registration of the partner of `S`.
pub struct Kind<S>(std::marker::PhantomData<fn() -> S>);

impl<S> Kind<S> {
    /// The registration of the partner of `S`.
    pub const fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<S> Default for Kind<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: PartnerSpec + Registrable> PartnerKind for Kind<S> {
    fn partner(&self) -> Partner {
        S::PARTNER
    }

    fn mappings(&self) -> &'static [(&'static str, &'static str)] {
        S::MAPPINGS
    }

    fn configure(&self, table: Table) -> Result<Arc<dyn Configured>, serde_json::Error> {
        Ok(Arc::new(read::<S::Config>(table)?))
    }

    #[cfg(feature = "sandbox")]
    fn simulator(&self, data: &SandboxData, faults: Faults) -> Option<axum::Router> {
        Some(<S as crate::sandbox::Simulated>::simulator(data, faults))
    }

    #[cfg(feature = "sandbox")]
    fn sandboxed(
        &self,
        base: &url::Url,
        settings: &SandboxSettings,
    ) -> Option<Arc<dyn Configured>> {
        Some(Arc::new(<S as crate::sandbox::Simulated>::sandboxed(
            base, settings,
        )))
    }
}

/// A partner's connection settings, read and checked.
pub trait Configured: std::fmt::Debug + Send + Sync {
    /// The `[[partners]]` table that reads back as these settings, secrets
    /// in clear: for the configuration the sandbox writes.
    fn table(&self) -> toml::Table;
    /// Its sources, mapped by `catalog`.
    fn sources(&self, catalog: &Catalog) -> Result<Vec<Source>, MissingMapping>;
}

/// A configured partner whose mapping is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {entity} mapping for {partner}: a mapping file `{partner}/{entity}.toml` (in `mappings_dir`) reads its records", entity = .entity.name())]
pub struct MissingMapping {
    /// The partner.
    pub partner: Partner,
    /// The entity.
    pub entity: EntityKind,
}

/// The mapping of `partner`'s `entity` in `catalog`.
pub fn mapping(
    catalog: &Catalog,
    partner: Partner,
    entity: EntityKind,
) -> Result<Arc<Mapping>, MissingMapping> {
    catalog
        .get(partner, entity)
        .ok_or(MissingMapping { partner, entity })
}

/// A configured partner: who, and its settings.
#[derive(Debug, Clone)]
pub struct ConfiguredPartner {
    /// The partner.
    pub partner: Partner,
    /// Its settings.
    pub settings: Arc<dyn Configured>,
}

/// A `[[partners]]` table that cannot be used; the message names it.
#[derive(Debug, thiserror::Error)]
#[error("at partners[{index}]: {reason}")]
pub struct ConfigureError {
    /// Its position in the list.
    pub index: usize,
    /// Why.
    pub reason: String,
}

/// The partners of a gateway, in the order answers list them.
#[derive(Clone)]
pub struct Registry {
    kinds: Vec<Arc<dyn PartnerKind>>,
}

impl Registry {
    /// Every partner Passerelle ships with.
    pub fn standard() -> Self {
        Self::empty()
            .with(shipped::CCI.kind())
            .with(shipped::CMA.kind())
            .with(shipped::CARIF.kind())
            .with(shipped::ERASMUS.kind())
            .with(shipped::PASS_MONDE.kind())
            .with(crate::spro::KIND)
            .with(crate::cnfpt::KIND)
    }

    /// No partner.
    pub fn empty() -> Self {
        Self { kinds: Vec::new() }
    }

    /// This registry and `kind`, after the others; its identity becomes
    /// readable back from configuration, records and requests.
    pub fn with(mut self, kind: impl PartnerKind) -> Self {
        let partner = kind.partner().declare();
        assert!(
            self.kind(partner).is_none(),
            "{partner} is registered twice"
        );
        self.kinds.push(Arc::new(kind));
        self
    }

    /// This registry and the partners `tables` declare (`kind =
    /// "declared"`), after the others, in their order; an identifier or
    /// API name already a partner's is an error naming its table.
    pub fn declaring(mut self, tables: &[serde_json::Value]) -> Result<Self, ConfigureError> {
        for (index, table) in tables.iter().enumerate() {
            let Some(table) = table.as_object() else {
                continue;
            };
            if table.get("kind").and_then(|k| k.as_str()) != Some(DECLARED) {
                continue;
            }
            let error = |reason: String| ConfigureError { index, reason };
            let mut table = table.clone();
            table.remove("kind");
            if let Some(id) = table.get("id").and_then(|i| i.as_str()) {
                if let Some(known) = self.partner(id) {
                    return Err(error(format!(
                        "id: {known} is already a partner; configure it with kind = \"{known}\""
                    )));
                }
            }
            let kind = DeclaredKind::declared(table).map_err(error)?;
            self.kinds.push(Arc::new(kind));
        }
        Ok(self)
    }

    /// Every kind, in order.
    pub fn kinds(&self) -> impl Iterator<Item = &Arc<dyn PartnerKind>> {
        self.kinds.iter()
    }

    /// Every partner, in order.
    pub fn partners(&self) -> impl Iterator<Item = Partner> + '_ {
        self.kinds.iter().map(|k| k.partner())
    }

    /// The kind of `partner`.
    pub fn kind(&self, partner: Partner) -> Option<&Arc<dyn PartnerKind>> {
        self.kinds.iter().find(|k| k.partner() == partner)
    }

    /// The partner whose identifier is `id`, in any case.
    pub fn partner(&self, id: &str) -> Option<Partner> {
        self.partners()
            .find(|p| p.id().eq_ignore_ascii_case(id.trim()))
    }

    /// The mapping files every partner ships, then every file under
    /// `overrides` (`<partner>/<entity>.toml`) in their place.
    pub fn catalog(
        &self,
        overrides: Option<&std::path::Path>,
    ) -> Result<Catalog, MappingFileError> {
        let shipped = self.kinds.iter().flat_map(|k| k.mappings().iter().copied());
        let catalog = Catalog::of_files(shipped)?;
        match overrides {
            Some(dir) => catalog.with_overrides(dir),
            None => Ok(catalog),
        }
    }

    /// Reads `[[partners]]` tables, each by the kind its `kind` names; a
    /// partner configured twice is an error.
    pub fn configure(
        &self,
        tables: &[serde_json::Value],
    ) -> Result<Vec<ConfiguredPartner>, ConfigureError> {
        let mut out: Vec<ConfiguredPartner> = Vec::new();
        for (index, table) in tables.iter().enumerate() {
            let error = |reason: String| ConfigureError { index, reason };
            let Some(mut table) = table.as_object().cloned() else {
                return Err(error("not a table".into()));
            };
            let kind = match table.remove("kind") {
                Some(serde_json::Value::String(k)) => k,
                Some(_) => return Err(error("`kind` is not a string".into())),
                None => return Err(error(format!("missing field `kind`; {}", self.known()))),
            };
            // A declared partner is named by its identifier.
            let named = if kind == DECLARED {
                table
                    .get("id")
                    .and_then(|i| i.as_str())
                    .unwrap_or_default()
                    .to_owned()
            } else {
                kind
            };
            let Some(partner) = self.partner(&named) else {
                return Err(error(format!("unknown kind {named:?}; {}", self.known())));
            };
            if out.iter().any(|c| c.partner == partner) {
                return Err(error(format!("{partner} is configured twice")));
            }
            let kind = self.kind(partner).expect("a registered partner has a kind");
            let settings = kind
                .configure(table)
                .map_err(|e| error(format!("{partner}: {e}")))?;
            out.push(ConfiguredPartner { partner, settings });
        }
        Ok(out)
    }

    fn known(&self) -> String {
        let ids: Vec<&str> = self.partners().map(Partner::id).collect();
        format!(
            "known kinds: {}, or {DECLARED:?} to declare a partner",
            ids.join(", ")
        )
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.partners()).finish()
    }
}

/// Reads a typed configuration from a table.
pub fn read<T: serde::de::DeserializeOwned>(table: Table) -> Result<T, serde_json::Error> {
    serde::Deserialize::deserialize(serde_json::Value::Object(table))
}

/// A TOML table of these entries.
pub fn toml_table<const N: usize>(entries: [(&str, toml::Value); N]) -> toml::Table {
    entries
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapping_file_is_shipped_by_its_partner() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mappings");
        let mut files: Vec<String> = passerelle_mappings::mapping_files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        let registry = Registry::standard();
        let mut shipped: Vec<String> = registry
            .kinds()
            .flat_map(|k| k.mappings().iter().map(|(file, _)| (*file).to_owned()))
            .collect();
        files.sort();
        shipped.sort();
        assert_eq!(shipped, files);
        // Each under its partner's folder, and loading.
        for kind in registry.kinds() {
            for (file, _) in kind.mappings() {
                assert!(
                    file.starts_with(&format!("{}/", kind.partner().id())),
                    "{file}"
                );
            }
        }
        registry.catalog(None).expect("the shipped mappings load");
        // Every declaration under `mappings/` is shipped.
        let mut declarations: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path().join(passerelle_mappings::DECLARATION))
            .filter(|p| p.exists())
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        declarations.sort();
        let mut shipped: Vec<&str> = crate::declared::shipped::ALL
            .iter()
            .map(|s| s.file())
            .collect();
        shipped.sort();
        assert_eq!(declarations, shipped);
    }

    #[test]
    fn tables_are_read_by_their_kind_and_errors_name_them() {
        let registry = Registry::standard();
        let tables: Vec<serde_json::Value> = serde_json::from_str(
            r#"[{"kind": "cma", "feed_url": "https://cma.example/flux.xml", "sync_interval": "6h"},
                {"kind": "opca"}]"#,
        )
        .unwrap();
        let e = registry.configure(&tables).unwrap_err().to_string();
        assert!(
            e.starts_with("at partners[1]: unknown kind \"opca\""),
            "{e}"
        );
        assert!(e.contains("cci") && e.contains("cnfpt"), "{e}");
        let configured = registry.configure(&tables[..1]).unwrap();
        assert_eq!(configured[0].partner.id(), "cma");
        let twice = [tables[0].clone(), tables[0].clone()];
        let e = registry.configure(&twice).unwrap_err().to_string();
        assert!(e.contains("cma is configured twice"), "{e}");
        let bad: Vec<serde_json::Value> =
            serde_json::from_str(r#"[{"kind": "carif", "feed": "x"}]"#).unwrap();
        let e = registry.configure(&bad).unwrap_err().to_string();
        assert!(e.contains("carif") && e.contains("feed_url"), "{e}");
    }
}
