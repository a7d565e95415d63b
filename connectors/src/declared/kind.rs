//! A declared partner's registration: its identity, the mapping files
//! shipped with it, and for a partner shipped with Passerelle, the
//! declaration's settings left to operators and its simulator.

use std::sync::Arc;

use passerelle_schema::Partner;
use serde::de::Error as _;

use super::declaration::Declaration;
use super::settings::{settings_of, substitute, DeclaredConfig};
use crate::registry::{Configured, PartnerKind, Table};
#[cfg(feature = "sandbox")]
use crate::sandbox::{Faults, SandboxData, SandboxSettings};

/// A declared partner, registered.
pub struct DeclaredKind {
    partner: Partner,
    /// The declaration; a shipped one's settings filled with placeholders.
    declaration: Declaration,
    /// A shipped declaration, as written: its settings as `"${name}"`.
    template: Option<serde_json::Value>,
    mappings: &'static [(&'static str, &'static str)],
    #[cfg(feature = "sandbox")]
    simulation: Option<Simulation>,
}

/// The simulator of a declared partner shipped with Passerelle: the
/// settings that point its declaration at the simulator's address, and
/// its routes.
#[cfg(feature = "sandbox")]
#[derive(Clone, Copy)]
pub struct Simulation {
    /// The settings of the declaration against a simulator at this
    /// address, as an operator's table gives them (`feed_url`).
    pub settings: fn(&url::Url) -> Table,
    /// Its routes, serving the sandbox's data with its faults.
    pub router: fn(&SandboxData, Faults) -> axum::Router,
}

/// What a setting is taken to be while a shipped declaration is checked.
const PLACEHOLDER: &str = "https://setting.invalid/";

impl DeclaredKind {
    /// A partner shipped with Passerelle as a declaration (`file`, its
    /// TOML `text`, its settings as `"${name}"`) and mapping files, which
    /// must hold.
    pub fn shipped(
        file: &str,
        text: &str,
        mappings: &'static [(&'static str, &'static str)],
    ) -> Self {
        let template: toml::Table = toml::from_str(text)
            .unwrap_or_else(|e| panic!("the shipped declaration {file} does not read: {e}"));
        let template = serde_json::to_value(template).expect("TOML is JSON");
        // Optional settings left out, the others placeholders.
        let placeheld = substitute(&template, &|s| (!s.optional).then(|| PLACEHOLDER.into()))
            .and_then(|v| v.as_object().cloned())
            .expect("a TOML table");
        let declaration = Declaration::read(placeheld)
            .unwrap_or_else(|e| panic!("the shipped declaration {file}: {e}"));
        let partner = declaration
            .partner()
            .unwrap_or_else(|e| panic!("the shipped declaration {file}: {e}"));
        Self {
            partner,
            declaration,
            template: Some(template),
            mappings,
            #[cfg(feature = "sandbox")]
            simulation: None,
        }
    }

    /// The same partner, simulated in the sandbox by `simulation`.
    #[cfg(feature = "sandbox")]
    pub fn simulated(self, simulation: Simulation) -> Self {
        Self {
            simulation: Some(simulation),
            ..self
        }
    }

    /// A partner declared by a `[[partners]]` table (`kind` removed): its
    /// identity, declared in this process; its mapping files are the
    /// operator's (`mappings_dir`).
    pub fn declared(table: Table) -> Result<Self, String> {
        let declaration = Declaration::read(table)?;
        let partner = declaration.partner()?;
        Ok(Self {
            partner,
            declaration,
            template: None,
            mappings: &[],
            #[cfg(feature = "sandbox")]
            simulation: None,
        })
    }

    /// The declaration (a shipped one's settings as placeholders).
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }

    /// The settings a shipped declaration leaves to operators, in order;
    /// none for a partner declared whole.
    pub fn settings(&self) -> Vec<String> {
        self.template
            .as_ref()
            .map(settings_of)
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.name)
            .collect()
    }

    /// Its configuration by an operator's `table` (`kind` removed).
    pub fn config(&self, table: Table) -> Result<DeclaredConfig, String> {
        match &self.template {
            Some(_) if table.contains_key("id") => Err(format!(
                "{} is shipped with Passerelle: configure it by its settings ({}), or declare another partner",
                self.partner,
                self.settings().join(", ")
            )),
            Some(template) => DeclaredConfig::by_settings(self.partner, template, table),
            None => Ok(DeclaredConfig::declared(self.partner, Declaration::read(table)?)),
        }
    }
}

impl PartnerKind for DeclaredKind {
    fn partner(&self) -> Partner {
        self.partner
    }

    fn mappings(&self) -> &'static [(&'static str, &'static str)] {
        self.mappings
    }

    fn configure(&self, table: Table) -> Result<Arc<dyn Configured>, serde_json::Error> {
        Ok(Arc::new(
            self.config(table).map_err(serde_json::Error::custom)?,
        ))
    }

    #[cfg(feature = "sandbox")]
    fn simulator(&self, data: &SandboxData, faults: Faults) -> Option<axum::Router> {
        self.simulation.map(|s| (s.router)(data, faults))
    }

    #[cfg(feature = "sandbox")]
    fn sandboxed(
        &self,
        base: &url::Url,
        settings: &SandboxSettings,
    ) -> Option<Arc<dyn Configured>> {
        let simulation = self.simulation?;
        let config = self
            .config((simulation.settings)(base))
            .unwrap_or_else(|e| panic!("{}: the simulator's settings: {e}", self.partner));
        Some(Arc::new(config.with_resilience(&settings.resilience)))
    }
}
