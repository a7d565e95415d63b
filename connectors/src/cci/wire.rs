//! The CCI API's JSON, exactly as it is sent.

use serde::{Deserialize, Serialize};

/// One page of `GET /api/v1/offres`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    /// The offers of the page.
    pub data: Vec<T>,
    /// Where the next page is.
    pub pagination: Pagination,
}

/// Pagination of a page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pagination {
    /// How many offers match the filters in all.
    pub total: u64,
    /// The cursor of the next page; absent on the last.
    pub suivant: Option<String>,
}

/// An offer of the exchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Offre {
    pub id: String,
    pub intitule: String,
    pub description: Option<String>,
    pub codes_rome: Vec<String>,
    pub niveau_vise: Option<NiveauVise>,
    pub entreprise: Entreprise,
    pub lieu: Lieu,
    pub contrat: Contrat,
    pub nombre_postes: u32,
    /// `Active`, `Pourvue`, `Annulée`, `En attente`.
    pub statut: String,
    pub publication: Publication,
    pub url: String,
    /// Last change, RFC 3339.
    pub maj: String,
}

/// The diploma level aimed at, on the European scale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NiveauVise {
    pub europeen: String,
    pub libelle: String,
}

/// The employer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entreprise {
    pub siret: String,
    pub raison_sociale: String,
    pub tranche_effectif: Option<String>,
    pub code_naf: Option<String>,
    pub opco: Option<String>,
}

/// The workplace.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lieu {
    pub adresse: Option<String>,
    pub code_postal: String,
    pub code_insee: String,
    pub ville: String,
    pub geo: Option<Geo>,
}

/// A position.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Geo {
    pub lat: f64,
    pub lon: f64,
}

/// The contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contrat {
    pub date_debut: String,
    pub duree_mois: u32,
    pub rythme: Option<String>,
}

/// Publication dates, RFC 3339.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publication {
    pub creation: String,
    pub expiration: Option<String>,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub scope: String,
}

/// An OAuth2 error answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthError {
    pub error: String,
    pub error_description: String,
}
