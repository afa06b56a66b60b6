//! All SQL the gateway runs. Reads for the request path live here; the import is in
//! `import.rs`. Every statement is prepared text built once per process.

pub mod codec;
pub mod import;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, PaginatorTrait, Statement,
    Value,
};

use crate::auth::policy::Target;
use crate::domain::{Login, TeacherSession, UserId, UserIdentifier};

const RESOLVE_LOGIN: &str = "SELECT id FROM users WHERE login_key = $1";

/// One statement resolves the target and the one relation the policy needs.
const TARGET_BY_ID: &str = "\
SELECT u.id, EXISTS (
    SELECT 1 FROM staff_assignments sa
    JOIN center_members cm ON cm.center_id = sa.center_id
    WHERE sa.user_id = $1 AND cm.user_id = u.id)
FROM users u WHERE u.id = $2";

const TARGET_BY_LOGIN: &str = "\
SELECT u.id, EXISTS (
    SELECT 1 FROM staff_assignments sa
    JOIN center_members cm ON cm.center_id = sa.center_id
    WHERE sa.user_id = $1 AND cm.user_id = u.id)
FROM users u WHERE u.login_key = $2";

/// Walks `session_attendees_by_user` in order; ties on start are broken by session id.
const SESSIONS_OF_USER: &str = "\
SELECT t.name, t.contact, t.photo, s.start_at, s.end_at,
       s.partner_id, s.content_item_id, s.teacher_id, s.meeting_url
FROM session_attendees a
JOIN sessions s ON s.id = a.session_id
JOIN teachers t ON t.id = s.teacher_id
WHERE a.user_id = $1
ORDER BY a.start_at, a.session_id";

struct Queries {
    resolve_login: String,
    target_by_id: String,
    target_by_login: String,
    sessions_of_user: String,
}

/// The database and the statements the request path runs against it.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    backend: DbBackend,
    queries: std::sync::Arc<Queries>,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Self {
        let backend = db.get_database_backend();
        let sql = |text: &str| codec::placeholders(backend, text);
        let queries = Queries {
            resolve_login: sql(RESOLVE_LOGIN),
            target_by_id: sql(TARGET_BY_ID),
            target_by_login: sql(TARGET_BY_LOGIN),
            sessions_of_user: sql(SESSIONS_OF_USER),
        };
        Self {
            db,
            backend,
            queries: std::sync::Arc::new(queries),
        }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, values)
    }

    /// Resolves a token subject that is not a GUID.
    pub async fn resolve_login(&self, login: &Login) -> Result<Option<UserId>, DbErr> {
        let stmt = self.statement(&self.queries.resolve_login, vec![login.key().into()]);
        match self.db.query_one_raw(stmt).await? {
            Some(row) => Ok(Some(UserId(codec::read_id(self.backend, &row, 0)?))),
            None => Ok(None),
        }
    }

    /// What the policy needs to know about the user `identifier` names, seen from `caller`.
    /// Naming oneself (by `me` or by one's own id) needs no query.
    pub async fn target(
        &self,
        caller: UserId,
        identifier: &UserIdentifier,
    ) -> Result<Target, DbErr> {
        let caller_value = codec::id(self.backend, caller.0);
        let stmt = match identifier {
            UserIdentifier::Me => return Ok(Target::Caller),
            UserIdentifier::Id(id) if *id == caller => return Ok(Target::Caller),
            UserIdentifier::Id(id) => self.statement(
                &self.queries.target_by_id,
                vec![caller_value, codec::id(self.backend, id.0)],
            ),
            UserIdentifier::Login(login) => self.statement(
                &self.queries.target_by_login,
                vec![caller_value, login.key().into()],
            ),
        };
        let Some(row) = self.db.query_one_raw(stmt).await? else {
            return Ok(Target::Nobody);
        };
        let id = UserId(codec::read_id(self.backend, &row, 0)?);
        if id == caller {
            return Ok(Target::Caller);
        }
        Ok(Target::Other {
            id,
            caller_assigned_to_their_center: row.try_get_by_index::<bool>(1)?,
        })
    }

    pub async fn sessions_of(&self, user: UserId) -> Result<Vec<TeacherSession>, DbErr> {
        let stmt = self.statement(
            &self.queries.sessions_of_user,
            vec![codec::id(self.backend, user.0)],
        );
        let rows = self.db.query_all_raw(stmt).await?;
        let b = self.backend;
        rows.iter()
            .map(|row| {
                Ok(TeacherSession {
                    teacher_name: row.try_get_by_index(0)?,
                    teacher_contact: row.try_get_by_index(1)?,
                    teacher_photo: row.try_get_by_index(2)?,
                    start: codec::read_instant(b, row, 3)?,
                    end: codec::read_instant(b, row, 4)?,
                    partner_id: codec::read_id(b, row, 5)?,
                    content_item_id: codec::read_id(b, row, 6)?,
                    teacher_id: codec::read_id(b, row, 7)?,
                    meeting_url: row.try_get_by_index(8)?,
                })
            })
            .collect()
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.db.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    /// True when no user has been stored yet (the first run loads demo data then).
    pub async fn has_no_users(&self) -> Result<bool, DbErr> {
        Ok(entity::prelude::User::find().count(&self.db).await? == 0)
    }
}
