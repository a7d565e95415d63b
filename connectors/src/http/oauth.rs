//! OAuth2 client-credentials tokens for partners, cached and refreshed
//! before they expire.

use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, EndpointNotSet, EndpointSet, Scope, TokenResponse, TokenUrl};
use passerelle_schema::Partner;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::ConnectorError;

/// The credentials Passerelle holds at a partner's authorisation server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentials {
    /// The token endpoint.
    pub token_url: url::Url,
    /// Passerelle's client id at the partner.
    pub client_id: String,
    /// Passerelle's client secret at the partner (never logged).
    #[serde(deserialize_with = "super::secret::deserialize")]
    pub client_secret: SecretString,
    /// The scopes to ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
}

type TokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Hands out a valid access token, asking the authorisation server for a new
/// one only when the current one is near its expiry. Concurrent callers
/// during a refresh wait for that one refresh.
pub struct TokenSource {
    partner: Partner,
    client: TokenClient,
    http: reqwest::Client,
    scopes: Vec<Scope>,
    current: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    secret: SecretString,
    refresh_at: Instant,
}

/// The lifetime assumed when the server does not state one.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

impl TokenSource {
    /// A token source for `partner`, calling its token endpoint with `http`.
    pub fn new(partner: Partner, credentials: &ClientCredentials, http: reqwest::Client) -> Self {
        let client = BasicClient::new(ClientId::new(credentials.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                credentials.client_secret.expose_secret().to_owned(),
            ))
            .set_token_uri(TokenUrl::from_url(credentials.token_url.clone()));
        Self {
            partner,
            client,
            http,
            scopes: credentials.scopes.iter().cloned().map(Scope::new).collect(),
            current: Mutex::new(None),
        }
    }

    /// A token valid for a while yet.
    pub async fn token(&self) -> Result<SecretString, ConnectorError> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(t.secret.clone());
        }
        let fresh = self.fetch().await?;
        let secret = fresh.secret.clone();
        *current = Some(fresh);
        Ok(secret)
    }

    /// Forgets the current token, after the partner refused it.
    pub async fn invalidate(&self) {
        *self.current.lock().await = None;
    }

    async fn fetch(&self) -> Result<CachedToken, ConnectorError> {
        let partner = self.partner;
        let answer = self
            .client
            .exchange_client_credentials()
            .add_scopes(self.scopes.iter().cloned())
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(partner = %partner, error = %e, "token request failed");
                match e {
                    oauth2::RequestTokenError::ServerResponse(r) => ConnectorError::Auth {
                        partner,
                        reason: r.error().to_string(),
                    },
                    // A transport failure, or an answer that is neither a
                    // token nor an OAuth2 error (an HTML 503 page, say): the
                    // server is not answering as itself.
                    _ => ConnectorError::unavailable(
                        partner,
                        "the token endpoint did not answer with a token",
                    ),
                }
            })?;
        let lifetime = answer.expires_in().unwrap_or(DEFAULT_LIFETIME);
        tracing::debug!(partner = %partner, lifetime_s = lifetime.as_secs(), "new partner token");
        Ok(CachedToken {
            secret: SecretString::from(answer.access_token().secret().to_owned()),
            refresh_at: refresh_at(Instant::now(), lifetime),
        })
    }
}

/// When a token received at `now` and valid `lifetime` is renewed: when a
/// fifth of its lifetime is left, and at most a minute before it expires,
/// so that no call goes out with a token about to expire.
fn refresh_at(now: Instant, lifetime: Duration) -> Instant {
    now + lifetime - (lifetime / 5).min(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        let now = Instant::now();
        assert_eq!(
            refresh_at(now, Duration::from_secs(3600)),
            now + Duration::from_secs(3540)
        );
        assert_eq!(
            refresh_at(now, Duration::from_secs(10)),
            now + Duration::from_secs(8)
        );
    }

    #[tokio::test]
    async fn a_token_is_reused_until_its_renewal_time_then_renewed() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "t", "token_type": "Bearer", "expires_in": 3600
            })))
            .expect(2)
            .mount(&server)
            .await;
        let credentials = ClientCredentials {
            token_url: format!("{}/token", server.uri()).parse().unwrap(),
            client_id: "c".into(),
            client_secret: SecretString::from("s"),
            scopes: vec!["offres:lecture".into()],
        };
        let source = TokenSource::new(crate::cci::PARTNER, &credentials, reqwest::Client::new());
        for _ in 0..3 {
            assert_eq!(source.token().await.unwrap().expose_secret(), "t");
        }
        // The renewal time comes: the next call asks for a new token.
        source.current.lock().await.as_mut().unwrap().refresh_at = Instant::now();
        source.token().await.unwrap();
        source.token().await.unwrap();
    }
}
