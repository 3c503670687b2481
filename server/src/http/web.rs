//! The browser game client (client-demo/web), embedded so one binary deploys: `/`, the replay
//! viewer `/replay`, `/style.css`, `/js/*`, and the JS SDK's modules at `/sdk/*`.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;

const INDEX: &str = include_str!("../../../client-demo/web/index.html");
const REPLAY: &str = include_str!("../../../client-demo/web/replay.html");

/// The modules the page imports, by file name.
const MODULES: [(&str, &str); 11] = [
    (
        "arena-rule.js",
        include_str!("../../../client-demo/web/js/arena-rule.js"),
    ),
    (
        "replay.js",
        include_str!("../../../client-demo/web/js/replay.js"),
    ),
    (
        "playback.js",
        include_str!("../../../client-demo/web/js/playback.js"),
    ),
    (
        "main.js",
        include_str!("../../../client-demo/web/js/main.js"),
    ),
    (
        "codec.js",
        include_str!("../../../client-demo/web/js/codec.js"),
    ),
    (
        "rules.js",
        include_str!("../../../client-demo/web/js/rules.js"),
    ),
    (
        "mirror.js",
        include_str!("../../../client-demo/web/js/mirror.js"),
    ),
    ("net.js", include_str!("../../../client-demo/web/js/net.js")),
    (
        "predict.js",
        include_str!("../../../client-demo/web/js/predict.js"),
    ),
    (
        "interp.js",
        include_str!("../../../client-demo/web/js/interp.js"),
    ),
    (
        "render.js",
        include_str!("../../../client-demo/web/js/render.js"),
    ),
];

/// `GET /`: the game page.
pub async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// `GET /replay`: the replay viewer (its data comes from the admin API).
pub async fn replay() -> Html<&'static str> {
    Html(REPLAY)
}

/// An embedded file with its type, revalidated on every load (it changes with the binary).
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

/// `GET /style.css`: the page's styles.
pub async fn styles() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../../client-demo/web/style.css"),
    )
}

/// The JS SDK's modules (client-demo/web/sdk), by file name: any game's page can import them
/// from the server that hosts it.
const SDK: [(&str, &str); 1] = [(
    "wire.js",
    include_str!("../../../client-demo/web/sdk/wire.js"),
)];

/// `GET /sdk/{file}`: one of the JS SDK's ES modules.
pub async fn sdk_module(Path(file): Path<String>) -> Response {
    serve_module(&SDK, &file)
}

fn serve_module(modules: &[(&str, &'static str)], file: &str) -> Response {
    match modules.iter().find(|(name, _)| *name == file) {
        Some((_, source)) => asset("text/javascript; charset=utf-8", source),
        None => AppError::new(StatusCode::NOT_FOUND, "not_found", "no such module").into_response(),
    }
}

/// `GET /js/{file}`: one of the page's ES modules.
pub async fn module(Path(file): Path<String>) -> Response {
    serve_module(&MODULES, &file)
}
