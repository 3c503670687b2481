//! The HTTP half of the client: guest login, matchmaking, creating and listing matches.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ClientError;

/// `POST /v1/auth/guest` answer.
#[derive(Deserialize, Debug, Clone)]
pub struct GuestLogin {
    pub token: String,
    pub player_id: String,
    pub expires_at: u64,
}

/// Where to connect for a match.
#[derive(Deserialize, Debug, Clone)]
pub struct MatchTicket {
    pub match_id: String,
    pub ws_url: String,
}

/// One line of `GET /v1/matches`.
#[derive(Deserialize, Debug, Clone)]
pub struct MatchInfo {
    pub id: String,
    pub players: usize,
    pub capacity: u16,
    pub tick_rate: u16,
    pub tick: u32,
    pub state: String,
}

/// An HTTP client for one server, e.g. `http://127.0.0.1:8080`.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    async fn json<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, ClientError> {
        let resp = req
            .send()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(ClientError::Status {
                status: status.as_u16(),
                body,
            });
        }
        resp.json()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))
    }

    pub async fn guest_login(&self, name: &str) -> Result<GuestLogin, ClientError> {
        let req = self
            .http
            .post(format!("{}/v1/auth/guest", self.base))
            .json(&serde_json::json!({ "name": name }));
        Self::json(req).await
    }

    pub async fn matchmake(&self, token: &str) -> Result<MatchTicket, ClientError> {
        let req = self
            .http
            .post(format!("{}/v1/matchmake", self.base))
            .bearer_auth(token);
        Self::json(req).await
    }

    /// Creates a match; `options` is the JSON body of `POST /v1/matches`.
    pub async fn create_match(
        &self,
        token: &str,
        options: serde_json::Value,
    ) -> Result<MatchTicket, ClientError> {
        let req = self
            .http
            .post(format!("{}/v1/matches", self.base))
            .bearer_auth(token)
            .json(&options);
        Self::json(req).await
    }

    pub async fn matches(&self) -> Result<Vec<MatchInfo>, ClientError> {
        Self::json(self.http.get(format!("{}/v1/matches", self.base))).await
    }

    /// The server's Prometheus text, from `path` (usually `/metrics`).
    pub async fn metrics_text(&self, url: &str) -> Result<String, ClientError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        resp.text()
            .await
            .map_err(|e| ClientError::Http(e.to_string()))
    }
}
