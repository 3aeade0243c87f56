//! The JSON Schema of every message, generated from the types (checked in as
//! `docs/protocol-v1.schema.json`; a test keeps it current).

use schemars::schema_for;

/// One document: the client's and server's frames and the HTTP bodies, by name.
pub fn document() -> serde_json::Value {
    let mut defs = serde_json::Map::new();
    let mut put = |name: &str, schema: schemars::Schema| {
        defs.insert(name.to_string(), schema.to_value());
    };
    put("ClientFrame", schema_for!(crate::ws::ClientFrame));
    put("ServerFrame", schema_for!(crate::ws::ServerFrame));
    put("Registration", schema_for!(crate::http::Registration));
    put("Credentials", schema_for!(crate::http::Credentials));
    put("AccountCreated", schema_for!(crate::http::AccountCreated));
    put("SessionIssued", schema_for!(crate::http::SessionIssued));
    put("PasswordChange", schema_for!(crate::http::PasswordChange));
    put("NewCharacter", schema_for!(crate::http::NewCharacter));
    put("CharacterRow", schema_for!(crate::http::CharacterRow));
    put("TicketRequest", schema_for!(crate::http::TicketRequest));
    put("TicketIssued", schema_for!(crate::http::TicketIssued));
    put("ApiError", schema_for!(crate::http::ApiError));
    put("Readiness", schema_for!(crate::http::Readiness));
    serde_json::json!({
        "$comment": "Generated from crates/realmkeep-protocol (REALMKEEP_UPDATE_SCHEMA=1 cargo test -p realmkeep-protocol --test schema); do not edit.",
        "title": "Realmkeep protocol v1",
        "version": crate::PROTOCOL_VERSION,
        "messages": defs,
    })
}

/// The checked-in document's text.
pub fn pretty() -> String {
    let mut s = serde_json::to_string_pretty(&document()).expect("a JSON value serialises");
    s.push('\n');
    s
}
