//! The reference play page at `/`: static files embedded in the binary (`web/`), plain HTML,
//! CSS and JavaScript speaking protocol v1 from a browser. Nothing to build but `cargo`. The
//! scripts share the page's global scope and load in order: `core.js` (state, sending, hooks,
//! tabs), `play.js` (accounts, the socket, the canvas), then the panels (`items.js`,
//! `market.js`, `social.js`).

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::IntoResponse;

const INDEX: &str = include_str!("../../web/index.html");
const CORE: &str = include_str!("../../web/core.js");
const SCRIPT: &str = include_str!("../../web/play.js");
const ITEMS: &str = include_str!("../../web/items.js");
const MARKET: &str = include_str!("../../web/market.js");
const SOCIAL: &str = include_str!("../../web/social.js");
const STYLE: &str = include_str!("../../web/play.css");

/// The page runs only its own script and style and talks only to its own origin (HTTP and
/// the WebSocket).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, CSP),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub(crate) async fn index() -> impl IntoResponse {
    file("text/html; charset=utf-8", INDEX)
}

fn js(body: &'static str) -> impl IntoResponse {
    file("text/javascript; charset=utf-8", body)
}

pub(crate) async fn core() -> impl IntoResponse {
    js(CORE)
}

pub(crate) async fn script() -> impl IntoResponse {
    js(SCRIPT)
}

pub(crate) async fn items() -> impl IntoResponse {
    js(ITEMS)
}

pub(crate) async fn market() -> impl IntoResponse {
    js(MARKET)
}

pub(crate) async fn social() -> impl IntoResponse {
    js(SOCIAL)
}

pub(crate) async fn style() -> impl IntoResponse {
    file("text/css; charset=utf-8", STYLE)
}
