//! Test harness for the end-to-end tests in `tests/it/`: a real server on 127.0.0.1:0 and
//! helpers that poll with deadlines instead of sleeping.

pub mod in_process;
pub mod raw;
pub mod tcp;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use server::app::{AppState, serve};
use server::config::{Config, random_secret};
use tickwire_client::api::{GuestLogin, MatchTicket};
use tickwire_client::{Api, ClientError, ConnectOptions, Connection, Event};
use tokio::sync::oneshot;

/// A server running in this process on an ephemeral loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub api: Api,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server with the default config changed by `tune`. Every test client comes
    /// from 127.0.0.1 and logs in far faster than players do, so the per-address request
    /// budget is off unless `tune` sets it (the budget's own tests do).
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::with_secret(random_secret());
        config.http_rate_limit = 0;
        tune(&mut config);
        let state = AppState::new(config).expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            state,
            api: Api::new(&format!("http://{addr}")),
            _stop: stop,
        }
    }

    pub fn ws_url(&self, match_id: &str) -> String {
        format!("ws://{}/v1/ws?match={match_id}", self.addr)
    }

    /// An admin-kind token signed with this server's secret.
    pub fn admin_token(&self) -> String {
        admin_token(&self.state)
    }

    /// An HTTP request to this server with a bearer token.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let req = reqwest::Client::new().request(method, format!("http://{}{path}", self.addr));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// The match's newest replicated world (tick, entities), asked through its inbox like an
    /// operator's question; `None` before its first snapshot or once it has ended.
    pub async fn world(&self, match_id: &str) -> Option<(u32, Vec<shared::delta::Entry>)> {
        let handle = self.state.registry.get(match_id)?;
        let (reply, answer) = oneshot::channel();
        let ask = server::game::messages::MatchCmd::World { reply };
        handle.inbox.send(ask).await.ok()?;
        answer.await.ok().flatten()
    }

    pub async fn login(&self, name: &str) -> GuestLogin {
        self.api.guest_login(name).await.expect("guest login")
    }

    /// Creates a match with `options` (JSON) using a throwaway player's token.
    pub async fn create_match(&self, options: serde_json::Value) -> MatchTicket {
        let owner = self.login("owner").await;
        self.api
            .create_match(&owner.token, &options)
            .await
            .expect("create match")
    }

    /// Logs in as `name` and connects to `match_id`.
    pub async fn join(&self, match_id: &str, name: &str) -> Connection {
        self.join_with(match_id, name, ConnectOptions::default())
            .await
    }

    pub async fn join_with(&self, match_id: &str, name: &str, opts: ConnectOptions) -> Connection {
        let login = self.login(name).await;
        Connection::connect(&self.ws_url(match_id), &login.token, opts)
            .await
            .expect("connect")
    }
}

/// The HTTP status and error code a refused WebSocket handshake to `url` got (fails the test if
/// it was not refused).
pub async fn refusal(url: &str, token: &str) -> (u16, String) {
    match Connection::connect(url, token, ConnectOptions::default()).await {
        Err(ClientError::Status { status, error, .. }) => {
            (status, error.map(|e| e.error).unwrap_or_default())
        }
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected a refusal, got a connection"),
    }
}

/// Polls `check` every 10 ms until it gives `Some`, failing the test after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads events until `pick` returns `Some`, failing the test after `timeout`.
pub async fn read_until<T>(
    conn: &mut Connection,
    what: &str,
    timeout: Duration,
    mut pick: impl FnMut(&Event, &Connection) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let ev = tokio::time::timeout_at(deadline, conn.next_event())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|e| panic!("error while waiting for {what}: {e}"));
        if let Some(v) = pick(&ev, conn) {
            return v;
        }
        if let Event::Closed { code, reason } = ev {
            panic!("connection closed ({code} {reason}) while waiting for {what}");
        }
    }
}

/// An admin token from `state`'s issuer (the socket and the in-process servers both use it).
pub fn admin_token(state: &server::state::AppState) -> String {
    state
        .auth
        .issue("admin:tester", "tester", server::auth::TokenKind::Admin)
        .expect("admin token")
        .0
}

/// Reads until the server closes the connection and returns the close code.
pub async fn close_code(conn: &mut Connection, timeout: Duration) -> u16 {
    read_until(conn, "close", timeout, |ev, _| match ev {
        Event::Closed { code, .. } => Some(*code),
        _ => None,
    })
    .await
}

/// Reads `n` snapshots, failing after `timeout`.
pub async fn snapshots(conn: &mut Connection, n: usize, timeout: Duration) {
    let mut seen = 0;
    read_until(conn, "snapshots", timeout, |ev, _| {
        if matches!(ev, Event::Snapshot { .. }) {
            seen += 1;
        }
        (seen >= n).then_some(())
    })
    .await
}

/// The HTTP status of a WebSocket handshake with `token` (101 when it upgrades).
pub async fn handshake_status(url: &str, token: &str) -> u16 {
    match Connection::connect(url, token, ConnectOptions::default()).await {
        Ok(_) => 101,
        Err(ClientError::Status { status, .. }) => status,
        Err(e) => panic!("expected an HTTP status, got {e}"),
    }
}

/// Base64url without padding, for hand-made JWTs.
pub fn base64url(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
