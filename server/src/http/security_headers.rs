//! Security headers on every response (OWASP REST and WebSocket cheat sheets): nosniff, no
//! framing, no referrer, and a Content-Security-Policy — for pages, only this server's own
//! scripts, styles and connections; for everything else, nothing at all.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// The CSP of API answers: they are data, never documents to render or frame.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The two policies, built once from the configuration.
#[derive(Debug, Clone)]
pub struct Policies {
    page: HeaderValue,
    api: HeaderValue,
}

impl Policies {
    /// `public_url`, when set, is where game pages open their WebSockets (allowed besides the
    /// page's own origin); `connect_src` lists more such places (a cluster's other nodes).
    pub fn new(public_url: Option<&str>, connect_src: &[String]) -> Policies {
        let mut extra = public_url.map(origin_of).unwrap_or_default();
        for src in connect_src {
            extra.push(' ');
            extra.push_str(src);
        }
        let page = format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'{extra}; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        );
        Policies {
            page: HeaderValue::from_str(&page)
                .unwrap_or_else(|_| HeaderValue::from_static(API_CSP)),
            api: HeaderValue::from_static(API_CSP),
        }
    }
}

/// ` scheme://host[:port]` of a URL (public_url is validated as ws:// or wss:// at start).
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("wss", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!(" {scheme}://{host}")
}

/// Adds the headers to every response; an HTML page gets the page policy.
pub async fn add(State(policies): State<Policies>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    let csp = if is_page {
        &policies.page
    } else {
        &policies.api
    };
    headers.insert(CONTENT_SECURITY_POLICY, csp.clone());
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_the_public_websocket_origin() {
        let p = Policies::new(Some("wss://play.example.com/base"), &[]);
        let page = p.page.to_str().expect("ascii");
        assert!(
            page.contains("connect-src 'self' wss://play.example.com;"),
            "{page}"
        );
        assert!(page.contains("frame-ancestors 'none'"));
        let local = Policies::new(None, &[]);
        assert!(
            local
                .page
                .to_str()
                .expect("ascii")
                .contains("connect-src 'self';")
        );
        let cluster = Policies::new(None, &["wss://*.play.example".to_owned()]);
        let page = cluster.page.to_str().expect("ascii");
        assert!(
            page.contains("connect-src 'self' wss://*.play.example;"),
            "{page}"
        );
    }
}
