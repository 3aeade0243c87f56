//! The HTTP API under `/v1/`, one module per resource, and the health endpoints.

mod accounts;
mod admin;
mod auth;
mod characters;
mod health;
mod metrics;
mod sessions;
mod tickets;
mod web;

use crate::error::ApiFailure;
use crate::limits::HTTP_BODY_BYTES_MAX;
use crate::state::App;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::routing::{delete, get, post, put};
use axum::Router;
use realmkeep_cache::{RateAction, RateDecision};
use realmkeep_protocol::Reason;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) type AppState = Arc<App>;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(web::index))
        .route("/core.js", get(web::core))
        .route("/play.js", get(web::script))
        .route("/items.js", get(web::items))
        .route("/market.js", get(web::market))
        .route("/social.js", get(web::social))
        .route("/play.css", get(web::style))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/v1/accounts", post(accounts::register))
        .route("/v1/accounts/password", put(accounts::change_password))
        .route(
            "/v1/sessions",
            post(sessions::login).delete(sessions::logout),
        )
        .route("/v1/sessions/refresh", post(sessions::refresh))
        .route(
            "/v1/characters",
            get(characters::list).post(characters::create),
        )
        .route("/v1/characters/{id}", delete(characters::remove))
        .route("/v1/tickets", post(tickets::issue))
        .route("/v1/ws", get(crate::ws::upgrade))
        .merge(admin::routes())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(HTTP_BODY_BYTES_MAX))
        .with_state(app)
}

async fn not_found() -> ApiFailure {
    ApiFailure::new(Reason::NotFound, "no such endpoint or method")
}

/// A JSON body whose every rejection is an `ApiFailure` with a reason code.
pub(crate) struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiFailure::new(Reason::BadFields, e.body_text()))
            }
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiFailure::new(Reason::BadJson, e.body_text()))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiFailure::new(
                Reason::BadJson,
                "Content-Type: application/json expected",
            )),
            Err(e) => Err(ApiFailure::new(Reason::BadJson, e.body_text())),
        }
    }
}

/// Counts one hit of `action` from the caller's address (`rate_limit:{ip}:{action}`).
pub(crate) async fn rate_limit(
    app: &App,
    peer: ConnectInfo<SocketAddr>,
    action: RateAction,
) -> Result<(), ApiFailure> {
    match app.cache().rate_limits().check(peer.0.ip(), action).await {
        RateDecision::Allowed { .. } => Ok(()),
        RateDecision::Limited { retry_after, .. } => Err({
            crate::meters::Meters::rate_limited(action.as_str());
            ApiFailure::new(
                Reason::RateLimited,
                format!("too many {} requests from this address", action.as_str()),
            )
            .retry_after(retry_after)
        }),
    }
}
