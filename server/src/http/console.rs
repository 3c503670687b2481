//! The operator console (`/admin`, its script and styles), embedded so one binary deploys. It
//! holds no secrets: it asks for an admin token and calls the admin API with it.

use axum::response::{Html, Response};

use crate::http::web::asset;

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
