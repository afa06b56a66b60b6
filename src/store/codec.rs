//! The one conversion layer between domain values and stored columns.
//!
//! SQLite: ids are canonical text (lowercase, hyphenated) and instants are integer microseconds
//! since the Unix epoch. PostgreSQL: `uuid` and `timestamptz`. Binding a `Uuid` value straight
//! to SQLite would store a BLOB that text written by other tools never matches, so every id
//! and instant goes through here.

use sea_orm::{DbBackend, DbErr, QueryResult, Value};
use uuid::Uuid;

use crate::domain::Instant;

pub fn id(backend: DbBackend, id: Uuid) -> Value {
    match backend {
        DbBackend::Postgres => Value::from(id),
        _ => Value::from(id.hyphenated().to_string()),
    }
}

pub fn instant(backend: DbBackend, at: Instant) -> Value {
    match backend {
        DbBackend::Postgres => Value::from(at.to_chrono()),
        _ => Value::from(at.micros()),
    }
}

pub fn read_id(backend: DbBackend, row: &QueryResult, index: usize) -> Result<Uuid, DbErr> {
    match backend {
        DbBackend::Postgres => row.try_get_by_index::<Uuid>(index),
        _ => {
            let text: String = row.try_get_by_index(index)?;
            Uuid::try_parse(&text)
                .map_err(|e| DbErr::Type(format!("column {index} holds a malformed id: {e}")))
        }
    }
}

pub fn read_instant(backend: DbBackend, row: &QueryResult, index: usize) -> Result<Instant, DbErr> {
    match backend {
        DbBackend::Postgres => Ok(Instant::from_chrono(
            row.try_get_by_index::<chrono::DateTime<chrono::Utc>>(index)?,
        )),
        _ => Ok(Instant::from_micros(row.try_get_by_index::<i64>(index)?)),
    }
}

/// SQL is written once with PostgreSQL's `$n` placeholders; SQLite reads the same numbered
/// parameters as `?n`.
pub fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}
