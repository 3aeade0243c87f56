//! The admin API's calls as the tests make them (`mod support;` then `support::admin`).

use super::Env;
use realmkeep_domain::AdminRole;
use realmkeep_protocol::admin::AdminSessionIssued;
use realmkeep_protocol::Reason;
use realmkeep_testkit::OPERATOR_PASSWORD;
use serde::de::DeserializeOwned;

/// A call: status and body.
pub async fn call(
    env: &Env,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    env.http
        .raw(method, path, token, body)
        .await
        .expect("answered")
}

/// A call that must answer `status` with a `T`.
pub async fn ok<T: DeserializeOwned>(
    env: &Env,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
    status: u16,
) -> T {
    let (s, b) = call(env, method, path, Some(token), body).await;
    assert_eq!(s, status, "{method} {path}: {b}");
    serde_json::from_str(&b).unwrap_or_else(|e| panic!("{method} {path}: {e}: {b}"))
}

/// A call that must be refused with `status` and `reason`; returns the message.
pub async fn refused(
    env: &Env,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
    status: u16,
    reason: Reason,
) -> String {
    let (s, b) = call(env, method, path, token, body).await;
    assert_eq!(s, status, "{method} {path}: {b}");
    let e: realmkeep_protocol::http::ApiError = serde_json::from_str(&b).unwrap();
    assert_eq!(e.error, reason, "{method} {path}: {b}");
    e.message
}

pub async fn login(env: &Env, name: &str, role: AdminRole) -> String {
    realmkeep_testkit::operator(&env.db.store, name, role).await;
    let body = serde_json::json!({ "name": name, "password": OPERATOR_PASSWORD }).to_string();
    let s: AdminSessionIssued = ok(env, "POST", "/v1/admin/sessions", "", &body, 200).await;
    assert_eq!(s.operator.role, role.as_str());
    s.token
}
