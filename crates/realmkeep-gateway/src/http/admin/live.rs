//! An operator's gold or item change from the admin API: the server crate's
//! `admin::change_character`, reached from this node (its own zones directly, other nodes' over
//! Redis), its errors as the API's answers.

use super::failure;
use crate::error::ApiFailure;
use crate::state::App;
use realmkeep_domain::{AdminChange, AdminReceipt, CharacterId};
use realmkeep_protocol::Reason;
use realmkeep_server::admin::{change_character, ChangeError, Reach};
use realmkeep_store::admin::AdminNote;

/// Runs `change` of `c` and answers what the character holds after it.
pub(crate) async fn change(
    app: &App,
    c: CharacterId,
    change: AdminChange,
    note: &AdminNote,
) -> Result<AdminReceipt, ApiFailure> {
    let reach = Reach {
        store: app.store(),
        cache: Some(app.cache()),
        node: Some(&app.cluster),
    };
    change_character(reach, c, change, note)
        .await
        .map_err(|e| match e {
            ChangeError::Store(e) => failure(e),
            ChangeError::Refused(message) => ApiFailure::new(Reason::GameRule, message),
            e @ ChangeError::NotApplied => ApiFailure::new(Reason::TryAgain, e.to_string()),
        })
}
