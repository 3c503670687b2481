//! The operator console (`/admin`, its script and styles), embedded so one binary deploys. It
//! holds no secrets: it asks for an admin token and calls the admin API with it.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

/// `GET /admin`: the console page.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("../../assets/admin.html"))
}

/// `GET /admin.js`.
pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/admin.js"),
    )
}

/// `GET /admin.css`.
pub async fn styles() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/admin.css"),
    )
}

/// An embedded file with its type, revalidated on every load (it changes with the binary).
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}
