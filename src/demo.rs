//! The built-in demo data set, loaded on SQLite when the database has no users yet.

use crate::domain::Login;
use crate::store::import::ImportError;
use crate::store::Store;

pub const DOCUMENT: &str = include_str!("demo.json");
pub const STUDENT_LOGIN: &str = "ana.k";
pub const STUDENT_ID: &str = "a0000000-0000-4000-8000-000000000001";
pub const STAFF_LOGIN: &str = "sam.staff";
pub const STAFF_ID: &str = "a0000000-0000-4000-8000-000000000003";

/// Returns whether the demo data set is now present (loaded now or on an earlier run).
pub async fn load_if_empty(store: &Store) -> Result<bool, ImportError> {
    if store.has_no_users().await? {
        let report = store.import(DOCUMENT.as_bytes()).await?;
        tracing::info!(%report, "loaded the demo data set");
        return Ok(true);
    }
    Ok(store
        .resolve_login(&Login::from_raw(STUDENT_LOGIN))
        .await?
        .is_some())
}
