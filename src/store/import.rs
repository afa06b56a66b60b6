//! The import of contract §7: validate the whole document, then write it in one transaction.
//!
//! Nothing is written unless every record is valid and every reference resolves. Imports are
//! serialised by the database itself (an advisory lock on PostgreSQL, the write lock taken by
//! the first statement on SQLite), so concurrent imports from several processes queue up and
//! readers only ever see a whole import or none of it.

use std::collections::{HashMap, HashSet};
use std::fmt;

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value,
};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{codec, Store};
use crate::domain::{parse_instant, Instant, UserIdentifier};

/// Rows per multi-row statement: far below either backend's parameter limit.
const BATCH: usize = 400;
/// Problems listed before the report stops counting.
const MAX_PROBLEMS: usize = 50;
/// Arbitrary but fixed key of the PostgreSQL advisory lock that serialises imports.
const IMPORT_LOCK_KEY: i64 = 0x5e55_1045_1a0d;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub centers: usize,
    pub users: usize,
    pub teachers: usize,
    pub sessions: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} centers, {} users, {} teachers, {} sessions",
            self.centers, self.users, self.teachers, self.sessions
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the import was rejected and nothing was written:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("the import failed and nothing was written: {0}")]
    Database(#[from] DbErr),
}

struct Center {
    id: Uuid,
    name: String,
}

struct User {
    id: Uuid,
    login: String,
    login_key: String,
    display_name: Option<String>,
    centers: Vec<Uuid>,
    staff_centers: Vec<Uuid>,
}

struct Teacher {
    id: Uuid,
    name: String,
    contact: Option<String>,
    photo: Option<String>,
}

struct Session {
    id: Uuid,
    teacher_id: Uuid,
    partner_id: Uuid,
    content_item_id: Uuid,
    meeting_url: String,
    start: Instant,
    end: Instant,
    attendees: Vec<Uuid>,
}

#[derive(Default)]
struct Document {
    centers: Vec<Center>,
    users: Vec<User>,
    teachers: Vec<Teacher>,
    sessions: Vec<Session>,
    /// Ids of every record of the file whose id is well formed, valid or not, so a reference
    /// to a record with some other problem is not also reported as unknown.
    declared: Declared,
}

#[derive(Default)]
struct Declared {
    centers: HashSet<Uuid>,
    users: HashSet<Uuid>,
    teachers: HashSet<Uuid>,
}

/// Collects problems with the place they were found.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, place: &str, message: impl fmt::Display) {
        if self.0.len() < MAX_PROBLEMS {
            self.0.push(format!("{place}: {message}"));
        } else if self.0.len() == MAX_PROBLEMS {
            self.0.push("… further problems not listed".to_owned());
        }
    }
}

/// Reads one record's fields, naming the record and field in every problem.
struct Record<'a> {
    place: String,
    fields: &'a Map<String, Json>,
}

impl<'a> Record<'a> {
    fn new(section: &str, index: usize, value: &'a Json, problems: &mut Problems) -> Option<Self> {
        let place = format!("{section}[{index}]");
        let Some(fields) = value.as_object() else {
            problems.add(&place, "must be a JSON object");
            return None;
        };
        let place = match fields.get("id").and_then(Json::as_str) {
            Some(id) => format!("{place} (id {id:?})"),
            None => place,
        };
        Some(Self { place, fields })
    }

    /// The record's id, if well formed, without reporting anything.
    fn peek_id(&self) -> Option<Uuid> {
        self.fields
            .get("id")
            .and_then(Json::as_str)
            .and_then(|id| crate::domain::parse_guid(id.trim()))
    }

    fn field_place(&self, name: &str) -> String {
        format!("{} field \"{name}\"", self.place)
    }

    fn check_known(&self, known: &[&str], problems: &mut Problems) {
        for key in self.fields.keys() {
            if !known.contains(&key.as_str()) {
                problems.add(&self.field_place(key), "is not a known field");
            }
        }
    }

    fn string(&self, name: &str, problems: &mut Problems) -> Option<String> {
        match self.fields.get(name) {
            Some(Json::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Json::String(_)) => {
                problems.add(&self.field_place(name), "must not be empty");
                None
            }
            None | Some(Json::Null) => {
                problems.add(&self.field_place(name), "is required");
                None
            }
            Some(other) => {
                problems.add(
                    &self.field_place(name),
                    format!("must be a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// `Some(None)` for an absent or null value; `None` after a problem.
    fn optional_string(&self, name: &str, problems: &mut Problems) -> Option<Option<String>> {
        match self.fields.get(name) {
            None | Some(Json::Null) => Some(None),
            Some(Json::String(s)) => Some(Some(s.clone())),
            Some(other) => {
                problems.add(
                    &self.field_place(name),
                    format!("must be a string or null, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn guid(&self, name: &str, problems: &mut Problems) -> Option<Uuid> {
        let text = self.string(name, problems)?;
        let parsed = crate::domain::parse_guid(text.trim());
        if parsed.is_none() {
            problems.add(&self.field_place(name), format!("{text:?} is not a GUID"));
        }
        parsed
    }

    fn instant(&self, name: &str, problems: &mut Problems) -> Option<Instant> {
        let text = self.string(name, problems)?;
        match parse_instant(&text) {
            Ok(at) => Some(at),
            Err(why) => {
                problems.add(&self.field_place(name), why);
                None
            }
        }
    }

    /// A list of GUIDs; absent means empty. Duplicates inside the list are harmless and merged.
    fn guid_list(&self, name: &str, problems: &mut Problems) -> Option<Vec<Uuid>> {
        let items = match self.fields.get(name) {
            None | Some(Json::Null) => return Some(Vec::new()),
            Some(Json::Array(items)) => items,
            Some(other) => {
                problems.add(
                    &self.field_place(name),
                    format!("must be an array of GUIDs, found {}", kind(other)),
                );
                return None;
            }
        };
        let mut ids = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item
                .as_str()
                .and_then(|s| crate::domain::parse_guid(s.trim()))
            {
                Some(id) if !ids.contains(&id) => ids.push(id),
                Some(_) => {}
                None => {
                    ok = false;
                    problems.add(
                        &format!("{}[{i}]", self.field_place(name)),
                        format!("{item} is not a GUID"),
                    );
                }
            }
        }
        ok.then_some(ids)
    }
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn section<'a>(root: &'a Map<String, Json>, name: &str, problems: &mut Problems) -> &'a [Json] {
    match root.get(name) {
        None | Some(Json::Null) => &[],
        Some(Json::Array(items)) => items,
        Some(other) => {
            problems.add(name, format!("must be an array, found {}", kind(other)));
            &[]
        }
    }
}

fn parse_document(bytes: &[u8], problems: &mut Problems) -> Document {
    let root: Json = match serde_json::from_slice(bytes) {
        Ok(root) => root,
        Err(e) => {
            problems.add("document", format!("is not valid JSON ({e})"));
            return Document::default();
        }
    };
    let Some(root) = root.as_object() else {
        problems.add(
            "document",
            "must be a JSON object with centers, users, teachers and sessions",
        );
        return Document::default();
    };
    for key in root.keys() {
        if !["centers", "users", "teachers", "sessions"].contains(&key.as_str()) {
            problems.add(
                &format!("document field \"{key}\""),
                "is not a known section",
            );
        }
    }
    let mut doc = Document::default();
    for (i, value) in section(root, "centers", problems).iter().enumerate() {
        let Some(r) = Record::new("centers", i, value, problems) else {
            continue;
        };
        doc.declared.centers.extend(r.peek_id());
        r.check_known(&["id", "name"], problems);
        if let (Some(id), Some(name)) = (r.guid("id", problems), r.string("name", problems)) {
            doc.centers.push(Center { id, name });
        }
    }
    for (i, value) in section(root, "users", problems).iter().enumerate() {
        let Some(r) = Record::new("users", i, value, problems) else {
            continue;
        };
        doc.declared.users.extend(r.peek_id());
        r.check_known(
            &["id", "login", "displayName", "centers", "staffCenters"],
            problems,
        );
        let id = r.guid("id", problems);
        let login = r.string("login", problems).and_then(|login| {
            let valid = login == login.trim()
                && matches!(UserIdentifier::parse(&login), Ok(UserIdentifier::Login(_)));
            if !valid {
                problems.add(
                    &r.field_place("login"),
                    format!("{login:?} could never be looked up: a login must not be \"me\", a GUID, longer than 256 characters, or hold control characters or surrounding spaces"),
                );
            }
            valid.then_some(login)
        });
        let display_name = r.optional_string("displayName", problems);
        let centers = r.guid_list("centers", problems);
        let staff_centers = r.guid_list("staffCenters", problems);
        if let (Some(id), Some(login), Some(display_name), Some(centers), Some(staff_centers)) =
            (id, login, display_name, centers, staff_centers)
        {
            let login_key = crate::domain::Login::from_raw(&login).key().to_owned();
            doc.users.push(User {
                id,
                login,
                login_key,
                display_name,
                centers,
                staff_centers,
            });
        }
    }
    for (i, value) in section(root, "teachers", problems).iter().enumerate() {
        let Some(r) = Record::new("teachers", i, value, problems) else {
            continue;
        };
        doc.declared.teachers.extend(r.peek_id());
        r.check_known(&["id", "name", "contact", "photo"], problems);
        if let (Some(id), Some(name), Some(contact), Some(photo)) = (
            r.guid("id", problems),
            r.string("name", problems),
            r.optional_string("contact", problems),
            r.optional_string("photo", problems),
        ) {
            doc.teachers.push(Teacher {
                id,
                name,
                contact,
                photo,
            });
        }
    }
    for (i, value) in section(root, "sessions", problems).iter().enumerate() {
        let Some(r) = Record::new("sessions", i, value, problems) else {
            continue;
        };
        r.check_known(
            &[
                "id",
                "teacherId",
                "partnerId",
                "contentItemId",
                "meetingUrl",
                "startDateTime",
                "endDateTime",
                "attendees",
            ],
            problems,
        );
        let fields = (
            r.guid("id", problems),
            r.guid("teacherId", problems),
            r.guid("partnerId", problems),
            r.guid("contentItemId", problems),
            r.string("meetingUrl", problems),
            r.instant("startDateTime", problems),
            r.instant("endDateTime", problems),
            r.guid_list("attendees", problems),
        );
        if let (Some(start), Some(end)) = (fields.5, fields.6) {
            if end < start {
                problems.add(&r.field_place("endDateTime"), "is before startDateTime");
                continue;
            }
        }
        if let (
            Some(id),
            Some(teacher_id),
            Some(partner_id),
            Some(content_item_id),
            Some(meeting_url),
            Some(start),
            Some(end),
            Some(attendees),
        ) = fields
        {
            doc.sessions.push(Session {
                id,
                teacher_id,
                partner_id,
                content_item_id,
                meeting_url,
                start,
                end,
                attendees,
            });
        }
    }
    doc
}

/// Checks that need only the document: duplicate ids and logins.
fn check_duplicates(doc: &Document, problems: &mut Problems) {
    fn dups<'a>(section: &str, ids: impl Iterator<Item = &'a Uuid>, problems: &mut Problems) {
        let mut seen = HashSet::new();
        for (i, id) in ids.enumerate() {
            if !seen.insert(*id) {
                problems.add(
                    &format!("{section}[{i}] (id \"{id}\")"),
                    "the id appears twice in this file",
                );
            }
        }
    }
    dups("centers", doc.centers.iter().map(|c| &c.id), problems);
    dups("users", doc.users.iter().map(|u| &u.id), problems);
    dups("teachers", doc.teachers.iter().map(|t| &t.id), problems);
    dups("sessions", doc.sessions.iter().map(|s| &s.id), problems);
    let mut logins = HashMap::new();
    for (i, user) in doc.users.iter().enumerate() {
        if let Some(first) = logins.insert(user.login_key.as_str(), i) {
            problems.add(
                &format!("users[{i}] (id \"{}\") field \"login\"", user.id),
                format!("{:?} duplicates the login of users[{first}] (logins compare case-insensitively)", user.login),
            );
        }
    }
}

impl Store {
    /// Validates and writes one import document. See the module docs for the guarantees.
    pub async fn import(&self, bytes: &[u8]) -> Result<ImportReport, ImportError> {
        let mut problems = Problems::default();
        let doc = parse_document(bytes, &mut problems);
        check_duplicates(&doc, &mut problems);
        let report = ImportReport {
            centers: doc.centers.len(),
            users: doc.users.len(),
            teachers: doc.teachers.len(),
            sessions: doc.sessions.len(),
        };
        // SQLite: take the write lock at BEGIN, so imports queue (within the busy timeout)
        // instead of failing when a read transaction would have to be upgraded.
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let tx = self.connection().begin_with_options(options).await?;
        let writer = Writer {
            tx: &tx,
            backend: self.backend(),
        };
        writer.lock().await?;
        writer.check_references(&doc, &mut problems).await?;
        if !problems.0.is_empty() {
            return Err(ImportError::Invalid(problems.0));
        }
        writer.write(&doc).await?;
        tx.commit().await?;
        Ok(report)
    }
}

struct Writer<'a> {
    tx: &'a DatabaseTransaction,
    backend: DbBackend,
}

impl Writer<'_> {
    fn id(&self, id: Uuid) -> Value {
        codec::id(self.backend, id)
    }

    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<(), DbErr> {
        let sql = codec::placeholders(self.backend, sql);
        self.tx
            .execute_raw(Statement::from_sql_and_values(self.backend, sql, values))
            .await?;
        Ok(())
    }

    /// On PostgreSQL, an advisory lock held to the end of the transaction serialises imports.
    async fn lock(&self) -> Result<(), DbErr> {
        if self.backend == DbBackend::Postgres {
            self.exec(
                "SELECT pg_advisory_xact_lock($1)",
                vec![IMPORT_LOCK_KEY.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Which of `ids` exist in `table`.
    async fn existing(&self, table: &str, ids: &HashSet<Uuid>) -> Result<HashSet<Uuid>, DbErr> {
        let ids: Vec<Uuid> = ids.iter().copied().collect();
        let mut found = HashSet::new();
        for chunk in ids.chunks(BATCH) {
            let sql = codec::placeholders(
                self.backend,
                &format!(
                    "SELECT id FROM {table} WHERE id IN ({})",
                    numbered(1, chunk.len())
                ),
            );
            let values = chunk.iter().map(|id| self.id(*id)).collect::<Vec<_>>();
            for row in self
                .tx
                .query_all_raw(Statement::from_sql_and_values(self.backend, sql, values))
                .await?
            {
                found.insert(codec::read_id(self.backend, &row, 0)?);
            }
        }
        Ok(found)
    }

    async fn check_references(&self, doc: &Document, problems: &mut Problems) -> Result<(), DbErr> {
        let Declared {
            centers,
            users,
            teachers,
        } = &doc.declared;

        let wanted_centers: HashSet<Uuid> = doc
            .users
            .iter()
            .flat_map(|u| u.centers.iter().chain(&u.staff_centers))
            .filter(|id| !centers.contains(id))
            .copied()
            .collect();
        let wanted_users: HashSet<Uuid> = doc
            .sessions
            .iter()
            .flat_map(|s| &s.attendees)
            .filter(|id| !users.contains(id))
            .copied()
            .collect();
        let wanted_teachers: HashSet<Uuid> = doc
            .sessions
            .iter()
            .map(|s| s.teacher_id)
            .filter(|id| !teachers.contains(id))
            .collect();
        let db_centers = self.existing("centers", &wanted_centers).await?;
        let db_users = self.existing("users", &wanted_users).await?;
        let db_teachers = self.existing("teachers", &wanted_teachers).await?;

        let known = |file: &HashSet<Uuid>, db: &HashSet<Uuid>, id: &Uuid| {
            file.contains(id) || db.contains(id)
        };
        for (i, user) in doc.users.iter().enumerate() {
            for (field, list) in [
                ("centers", &user.centers),
                ("staffCenters", &user.staff_centers),
            ] {
                for id in list.iter().filter(|id| !known(centers, &db_centers, id)) {
                    problems.add(
                        &format!("users[{i}] (id \"{}\") field \"{field}\"", user.id),
                        format!("center \"{id}\" is neither in this file nor in the database"),
                    );
                }
            }
        }
        for (i, session) in doc.sessions.iter().enumerate() {
            let place = format!("sessions[{i}] (id \"{}\")", session.id);
            if !known(teachers, &db_teachers, &session.teacher_id) {
                problems.add(
                    &format!("{place} field \"teacherId\""),
                    format!(
                        "teacher \"{}\" is neither in this file nor in the database",
                        session.teacher_id
                    ),
                );
            }
            for id in session
                .attendees
                .iter()
                .filter(|id| !known(users, &db_users, id))
            {
                problems.add(
                    &format!("{place} field \"attendees\""),
                    format!("user \"{id}\" is neither in this file nor in the database"),
                );
            }
        }
        self.check_logins(doc, problems).await
    }

    /// A login may move between users of this file, but may not take one held by a user
    /// that this file leaves alone.
    async fn check_logins(&self, doc: &Document, problems: &mut Problems) -> Result<(), DbErr> {
        let by_key: HashMap<&str, (usize, Uuid)> = doc
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.login_key.as_str(), (i, u.id)))
            .collect();
        let file_ids: HashSet<Uuid> = doc.users.iter().map(|u| u.id).collect();
        let keys: Vec<&str> = by_key.keys().copied().collect();
        for chunk in keys.chunks(BATCH) {
            let sql = codec::placeholders(
                self.backend,
                &format!(
                    "SELECT id, login_key FROM users WHERE login_key IN ({})",
                    numbered(1, chunk.len())
                ),
            );
            let values = chunk
                .iter()
                .map(|k| Value::from(k.to_string()))
                .collect::<Vec<_>>();
            for row in self
                .tx
                .query_all_raw(Statement::from_sql_and_values(self.backend, sql, values))
                .await?
            {
                let holder = codec::read_id(self.backend, &row, 0)?;
                let key: String = row.try_get_by_index(1)?;
                if let Some((i, id)) = by_key.get(key.as_str()) {
                    if *id != holder && !file_ids.contains(&holder) {
                        problems.add(
                            &format!("users[{i}] (id \"{id}\") field \"login\""),
                            format!("is already the login of user \"{holder}\""),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    async fn write(&self, doc: &Document) -> Result<(), DbErr> {
        let b = self.backend;
        self.upsert("centers", &["id", "name"], &doc.centers, |c| {
            vec![self.id(c.id), c.name.clone().into()]
        })
        .await?;
        self.upsert(
            "teachers",
            &["id", "name", "contact", "photo"],
            &doc.teachers,
            |t| {
                vec![
                    self.id(t.id),
                    t.name.clone().into(),
                    t.contact.clone().into(),
                    t.photo.clone().into(),
                ]
            },
        )
        .await?;
        // Free the logins of this file's users first, so logins may move between them.
        let user_ids: Vec<Uuid> = doc.users.iter().map(|u| u.id).collect();
        self.release_logins(&user_ids).await?;
        self.upsert(
            "users",
            &["id", "login", "login_key", "display_name"],
            &doc.users,
            |u| {
                vec![
                    self.id(u.id),
                    u.login.clone().into(),
                    u.login_key.clone().into(),
                    u.display_name.clone().into(),
                ]
            },
        )
        .await?;
        for (table, pick) in [
            (
                "center_members",
                (|u: &User| &u.centers) as fn(&User) -> &Vec<Uuid>,
            ),
            ("staff_assignments", |u: &User| &u.staff_centers),
        ] {
            self.delete_where_in(table, "user_id", &user_ids).await?;
            let pairs: Vec<(Uuid, Uuid)> = doc
                .users
                .iter()
                .flat_map(|u| pick(u).iter().map(move |c| (u.id, *c)))
                .collect();
            self.insert(table, &["user_id", "center_id"], &pairs, |(u, c)| {
                vec![self.id(*u), self.id(*c)]
            })
            .await?;
        }
        self.upsert(
            "sessions",
            &[
                "id",
                "teacher_id",
                "partner_id",
                "content_item_id",
                "meeting_url",
                "start_at",
                "end_at",
            ],
            &doc.sessions,
            |s| {
                vec![
                    self.id(s.id),
                    self.id(s.teacher_id),
                    self.id(s.partner_id),
                    self.id(s.content_item_id),
                    s.meeting_url.clone().into(),
                    codec::instant(b, s.start),
                    codec::instant(b, s.end),
                ]
            },
        )
        .await?;
        let session_ids: Vec<Uuid> = doc.sessions.iter().map(|s| s.id).collect();
        self.delete_where_in("session_attendees", "session_id", &session_ids)
            .await?;
        let rows: Vec<(Uuid, Instant, Uuid)> = doc
            .sessions
            .iter()
            .flat_map(|s| s.attendees.iter().map(move |u| (s.id, s.start, *u)))
            .collect();
        self.insert(
            "session_attendees",
            &["session_id", "start_at", "user_id"],
            &rows,
            |(s, at, u)| vec![self.id(*s), codec::instant(b, *at), self.id(*u)],
        )
        .await
    }
}

impl Writer<'_> {
    /// Prefixes the stored login keys of `ids` with a control character (which no real login
    /// holds), keeping them unique while the new ones are written.
    async fn release_logins(&self, ids: &[Uuid]) -> Result<(), DbErr> {
        for chunk in ids.chunks(BATCH) {
            let mut values = vec![Value::from("\u{1}".to_owned())];
            values.extend(chunk.iter().map(|id| self.id(*id)));
            let sql = format!(
                "UPDATE users SET login_key = $1 || login_key WHERE id IN ({})",
                numbered(2, chunk.len())
            );
            self.exec(&sql, values).await?;
        }
        Ok(())
    }

    async fn delete_where_in(&self, table: &str, column: &str, ids: &[Uuid]) -> Result<(), DbErr> {
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "DELETE FROM {table} WHERE {column} IN ({})",
                numbered(1, chunk.len())
            );
            self.exec(&sql, chunk.iter().map(|id| self.id(*id)).collect())
                .await?;
        }
        Ok(())
    }

    async fn insert<T>(
        &self,
        table: &str,
        columns: &[&str],
        rows: &[T],
        values: impl Fn(&T) -> Vec<Value>,
    ) -> Result<(), DbErr> {
        self.write_rows(table, columns, rows, values, "").await
    }

    /// Insert-or-update by `id`; every other column takes the new value.
    async fn upsert<T>(
        &self,
        table: &str,
        columns: &[&str],
        rows: &[T],
        values: impl Fn(&T) -> Vec<Value>,
    ) -> Result<(), DbErr> {
        let updates = columns
            .iter()
            .filter(|c| **c != "id")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.write_rows(
            table,
            columns,
            rows,
            values,
            &format!(" ON CONFLICT (id) DO UPDATE SET {updates}"),
        )
        .await
    }

    async fn write_rows<T>(
        &self,
        table: &str,
        columns: &[&str],
        rows: &[T],
        values: impl Fn(&T) -> Vec<Value>,
        suffix: &str,
    ) -> Result<(), DbErr> {
        for chunk in rows.chunks(BATCH) {
            let tuples = (0..chunk.len())
                .map(|r| format!("({})", numbered(1 + r * columns.len(), columns.len())))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES {tuples}{suffix}",
                columns.join(", ")
            );
            self.exec(&sql, chunk.iter().flat_map(&values).collect())
                .await?;
        }
        Ok(())
    }
}

/// `$first, $first+1, …` (`count` placeholders).
fn numbered(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
