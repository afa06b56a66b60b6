//! The initial schema: centers, users and their centers, teachers, sessions, attendees.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_create_tables"
    }
}

/// A CHECK that keeps SQLite ids in the one canonical text form (lowercase, hyphenated), so rows
/// written by other tools are found by the same comparisons as the gateway's own. Every id
/// column has one, references included: other tools often write with foreign keys off.
fn sqlite_guid_check(column: &str) -> String {
    let hex = "[0-9a-f]";
    let group = |n: usize| hex.repeat(n);
    format!(
        "CHECK ({column} GLOB '{}-{}-{}-{}-{}')",
        group(8),
        group(4),
        group(4),
        group(4),
        group(12)
    )
}

fn sqlite_up() -> String {
    let g = sqlite_guid_check;
    format!(
        r#"
CREATE TABLE centers (
    id   TEXT NOT NULL PRIMARY KEY {id},
    name TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id           TEXT NOT NULL PRIMARY KEY {id},
    login        TEXT NOT NULL,
    login_key    TEXT NOT NULL UNIQUE,
    display_name TEXT
) STRICT;

CREATE TABLE center_members (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE {user},
    center_id TEXT NOT NULL REFERENCES centers (id) ON DELETE CASCADE {center},
    PRIMARY KEY (user_id, center_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX center_members_by_center ON center_members (center_id, user_id);

CREATE TABLE staff_assignments (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE {user},
    center_id TEXT NOT NULL REFERENCES centers (id) ON DELETE CASCADE {center},
    PRIMARY KEY (user_id, center_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE teachers (
    id      TEXT NOT NULL PRIMARY KEY {id},
    name    TEXT,
    contact TEXT,
    photo   TEXT
) STRICT;

CREATE TABLE sessions (
    id              TEXT NOT NULL PRIMARY KEY {id},
    teacher_id      TEXT NOT NULL REFERENCES teachers (id) {teacher},
    partner_id      TEXT NOT NULL {partner},
    content_item_id TEXT NOT NULL {content},
    meeting_url     TEXT NOT NULL,
    start_at        INTEGER NOT NULL,
    end_at          INTEGER NOT NULL,
    CHECK (end_at >= start_at),
    UNIQUE (id, start_at)
) STRICT;
CREATE INDEX sessions_by_teacher ON sessions (teacher_id);

-- start_at is carried here, kept equal to the session's by the composite foreign key, so that
-- "sessions of one user ordered by start" is a walk of one index.
CREATE TABLE session_attendees (
    session_id TEXT NOT NULL {session},
    start_at   INTEGER NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE {user},
    PRIMARY KEY (session_id, user_id),
    FOREIGN KEY (session_id, start_at) REFERENCES sessions (id, start_at)
        ON UPDATE CASCADE ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX session_attendees_by_user ON session_attendees (user_id, start_at, session_id);
"#,
        id = g("id"),
        partner = g("partner_id"),
        content = g("content_item_id"),
        user = g("user_id"),
        center = g("center_id"),
        teacher = g("teacher_id"),
        session = g("session_id"),
    )
}

const POSTGRES_UP: &str = r#"
CREATE TABLE centers (
    id   uuid NOT NULL PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE users (
    id           uuid NOT NULL PRIMARY KEY,
    login        text NOT NULL,
    login_key    text NOT NULL UNIQUE,
    display_name text
);

CREATE TABLE center_members (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    center_id uuid NOT NULL REFERENCES centers (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, center_id)
);
CREATE INDEX center_members_by_center ON center_members (center_id, user_id);

CREATE TABLE staff_assignments (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    center_id uuid NOT NULL REFERENCES centers (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, center_id)
);

CREATE TABLE teachers (
    id      uuid NOT NULL PRIMARY KEY,
    name    text,
    contact text,
    photo   text
);

CREATE TABLE sessions (
    id              uuid NOT NULL PRIMARY KEY,
    teacher_id      uuid NOT NULL REFERENCES teachers (id),
    partner_id      uuid NOT NULL,
    content_item_id uuid NOT NULL,
    meeting_url     text NOT NULL,
    start_at        timestamptz NOT NULL,
    end_at          timestamptz NOT NULL,
    CHECK (end_at >= start_at),
    UNIQUE (id, start_at)
);
CREATE INDEX sessions_by_teacher ON sessions (teacher_id);

CREATE TABLE session_attendees (
    session_id uuid NOT NULL,
    start_at   timestamptz NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, user_id),
    FOREIGN KEY (session_id, start_at) REFERENCES sessions (id, start_at)
        ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX session_attendees_by_user ON session_attendees (user_id, start_at, session_id);
"#;

const DOWN: &str = r#"
DROP TABLE session_attendees;
DROP TABLE sessions;
DROP TABLE teachers;
DROP TABLE staff_assignments;
DROP TABLE center_members;
DROP TABLE users;
DROP TABLE centers;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => db.execute_unprepared(&sqlite_up()).await?,
            DbBackend::Postgres => db.execute_unprepared(POSTGRES_UP).await?,
            other => {
                return Err(DbErr::Migration(format!(
                    "unsupported database backend {other:?}"
                )))
            }
        };
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
