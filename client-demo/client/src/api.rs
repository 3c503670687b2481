//! The HTTP half of the client: guest login, matchmaking, creating and listing matches. The
//! bodies are [`shared::api`]'s, the same types the server sends.

pub use shared::api::{ErrorBody, GuestLogin, MatchOptionsRequest, MatchSummary, MatchTicket};

use crate::error::ClientError;

/// An HTTP client for one server, e.g. `http://127.0.0.1:8080` or `https://play.example`.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    /// A client for `base`; `https://` trusts the webpki roots.
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// A client for `base` over `https://` with these TLS settings (e.g. a private CA's roots).
    pub fn with_tls(base: &str, tls: rustls::ClientConfig) -> Result<Api, ClientError> {
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .build()?;
        Ok(Api {
            http,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(
        req: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let resp = req.send().await?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(ClientError::Status {
                status: status.as_u16(),
                error: serde_json::from_str(&body).ok(),
                body,
            });
        }
        Ok(resp.json().await?)
    }

    /// A guest token for `name`.
    pub async fn guest_login(&self, name: &str) -> Result<GuestLogin, ClientError> {
        let body = shared::api::GuestRequest {
            name: name.to_owned(),
        };
        let req = self
            .http
            .post(format!("{}/v1/auth/guest", self.base))
            .json(&body);
        Self::json(req).await
    }

    /// A seat in the fullest open match (or a new one): where to connect.
    pub async fn matchmake(&self, token: &str) -> Result<MatchTicket, ClientError> {
        let req = self
            .http
            .post(format!("{}/v1/matchmake", self.base))
            .bearer_auth(token);
        Self::json(req).await
    }

    /// Creates a match: `options` is a [`MatchOptionsRequest`] (or any JSON body, to send
    /// what the typed options cannot).
    pub async fn create_match(
        &self,
        token: &str,
        options: &(impl serde::Serialize + ?Sized),
    ) -> Result<MatchTicket, ClientError> {
        let req = self
            .http
            .post(format!("{}/v1/matches", self.base))
            .bearer_auth(token)
            .json(options);
        Self::json(req).await
    }

    /// Every running match.
    pub async fn matches(&self) -> Result<Vec<MatchSummary>, ClientError> {
        Self::json(self.http.get(format!("{}/v1/matches", self.base))).await
    }

    /// One match, wherever it runs (in a cluster, any node answers), with where to connect to
    /// it; `None` once it is gone (ended, or its node died).
    pub async fn match_status(&self, match_id: &str) -> Result<Option<MatchSummary>, ClientError> {
        let req = self
            .http
            .get(format!("{}/v1/matches/{match_id}", self.base));
        match Self::json(req).await {
            Ok(m) => Ok(Some(m)),
            Err(ClientError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The text at `url` (the server's Prometheus exposition, usually `/metrics`).
    pub async fn metrics_text(&self, url: &str) -> Result<String, ClientError> {
        Ok(self.http.get(url).send().await?.text().await?)
    }
}
