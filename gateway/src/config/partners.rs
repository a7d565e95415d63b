//! `[sandbox]` and `[[partners]]`: the simulators, and the partners
//! configured.

use super::load::yes;

use passerelle_connectors::sandbox::SandboxSettings;
use serde::Deserialize;

/// The sandbox's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxConfig {
    /// Whether to start the simulators and use them as the partners.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The simulators' data and ports.
    #[serde(flatten)]
    pub settings: SandboxSettings,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            settings: SandboxSettings::default(),
        }
    }
}

/// The `[[partners]]` tables as written: read by the registry, which knows
/// each kind's settings. Shown by their kinds alone, since they hold
/// secrets.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct PartnerTables(pub Vec<serde_json::Value>);

impl PartnerTables {
    /// Whether no partner is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many partners are configured.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl std::fmt::Debug for PartnerTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.0
                    .iter()
                    .map(|t| t.get("kind").and_then(|k| k.as_str())),
            )
            .finish()
    }
}
