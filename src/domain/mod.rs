//! Domain values parsed once at the edge: identifiers, roles, the caller and a session.
//! Nothing here knows about HTTP, GraphQL or SQL.

mod identifier;
mod role;
mod time;

pub use identifier::{parse_guid, IdentifierError, Login, UserId, UserIdentifier};
pub use role::{Role, RoleSet};
pub use time::parse_instant;

/// Who is asking, after the bearer token has been verified and its subject resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No `Authorization` header at all.
    Anonymous,
    User(AuthenticatedUser),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub id: UserId,
    pub roles: RoleSet,
}

/// An instant in UTC with microsecond precision (the precision both backends store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(i64);

impl Instant {
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Whole Unix seconds, rounded toward the past (so pre-1970 instants stay consistent).
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    pub fn to_chrono(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    /// Truncates (never rounds) anything below a microsecond.
    pub fn from_chrono(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self(at.timestamp_micros())
    }
}

/// One row of the answer: a session the user attends, with its teacher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherSession {
    pub teacher_name: Option<String>,
    pub teacher_contact: Option<String>,
    pub teacher_photo: Option<String>,
    pub start: Instant,
    pub end: Instant,
    pub partner_id: uuid::Uuid,
    pub content_item_id: uuid::Uuid,
    pub teacher_id: uuid::Uuid,
    pub meeting_url: String,
}
