//! One way to start the gateway for a test: a fresh database made by the real migrations,
//! the real router on a real port, real tokens.

use std::sync::OnceLock;

use clap::Parser;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use sessions_gateway::auth::TokenIssuer;
use sessions_gateway::config::{Cli, SettingsArgs};
use sessions_gateway::startup::Application;
use sessions_gateway::store::Store;

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server for tests, from `TEST_POSTGRES_URL` (set by `.ci/run`). Without it
/// the PostgreSQL half is skipped loudly, except under `CI=true`, where it is required.
pub fn postgres_admin_url() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
        if url.is_none() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL tests are required in CI");
            }
            eprintln!("\n!!! TEST_POSTGRES_URL is not set: SKIPPING the PostgreSQL half of the suite !!!\n");
        }
        url
    })
    .clone()
}

/// A database of its own for one test, dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("gateway.db").display()
                );
                Some(Self {
                    url,
                    admin: None,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!("gw_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL {admin} is unreachable: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
                let url = match admin.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("TEST_POSTGRES_URL must end in /<database>"),
                };
                Some(Self {
                    url,
                    admin: Some((admin, name)),
                    _dir: None,
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.admin.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) =
                        <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await
                    {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(&mut conn)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Test settings: the given database, port 0, no demo data, and the test secret unless
/// `extra` configures a public key instead.
pub fn settings(database_url: &str, extra: &[&str]) -> SettingsArgs {
    let mut args = vec![
        "sessions-gateway",
        "--database-url",
        database_url,
        "--listen",
        "127.0.0.1:0",
        "--demo-data",
        "false",
    ];
    if !extra.contains(&"--jwt-public-key") {
        args.extend_from_slice(&["--jwt-secret", SECRET]);
    }
    args.extend_from_slice(extra);
    Cli::try_parse_from(args)
        .expect("test settings parse")
        .settings
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub issuer: TokenIssuer,
    /// Kept for its lifetime: the database goes when the app does.
    pub _db: TestDatabase,
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// `extra` are command-line flags added to the defaults.
pub async fn spawn_app_with(backend: Backend, extra: &[&str]) -> Option<TestApp> {
    let db = TestDatabase::new(backend).await?;
    let settings = settings(&db.url, extra);
    Some(start(db, &settings).await)
}

/// Builds and serves the application with `settings`; `db` lives as long as the app.
pub async fn start(db: TestDatabase, settings: &SettingsArgs) -> TestApp {
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let base = format!("http://{}", app.local_addr());
    let store = app.store.clone();
    tokio::spawn(app.run_until_stopped());
    let issuer = TokenIssuer::hs256(
        SECRET.as_bytes(),
        settings.jwt_issuer.clone(),
        settings.jwt_audience.clone(),
    )
    .unwrap();
    TestApp {
        base,
        client: reqwest::Client::new(),
        store,
        issuer,
        _db: db,
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `MeetingUrl`s of a REST sessions body, in order.
    pub fn rest_meeting_urls(&self) -> Vec<String> {
        self.json()
            .as_array()
            .unwrap_or_else(|| panic!("expected a list: {}", self.body))
            .iter()
            .map(|s| s["MeetingUrl"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl TestApp {
    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        self.issuer
            .mint(sub, &roles, std::time::Duration::from_secs(600))
            .unwrap()
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request sent");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body read"),
        }
    }

    /// `GET {path}` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn sessions(&self, identifier: &str, token: Option<&str>) -> Reply {
        self.get(&format!("/users/{identifier}/sessions"), token)
            .await
    }

    pub async fn graphql(&self, query: &str, token: Option<&str>) -> Reply {
        self.graphql_body(json!({ "query": query }), token).await
    }

    /// A GraphQL POST with an explicit `Accept` header.
    pub async fn graphql_accepting(&self, query: &str, token: Option<&str>, accept: &str) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(json!({ "query": query }).to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn graphql_body(&self, body: Value, token: Option<&str>) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn import(&self, document: &Value) {
        self.store
            .import(document.to_string().as_bytes())
            .await
            .expect("fixture imports");
    }

    pub async fn with_fixture(self) -> Self {
        self.import(&fixture()).await;
        self
    }
}

/// Runs `$body` (an async fn taking `Backend`) once per backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Postgres).await })*
        }
    };
}

// The fixture: two centers, learners and staff around them, two teachers, and sessions whose
// local times sort differently from their instants.
pub const C1: &str = "10000000-0000-4000-8000-0000000000c1";
pub const C2: &str = "10000000-0000-4000-8000-0000000000c2";
/// A learner of C1 with three sessions.
pub const LEARNER: &str = "20000000-0000-4000-8000-000000000001";
pub const LEARNER_LOGIN: &str = "Learner.One";
/// Another learner of C1, one session.
pub const PEER: &str = "20000000-0000-4000-8000-000000000002";
/// A learner of C2 only.
pub const FAR: &str = "20000000-0000-4000-8000-000000000003";
/// Staff assigned to C1.
pub const S1: &str = "30000000-0000-4000-8000-000000000001";
/// Staff assigned only to C2.
pub const S2: &str = "30000000-0000-4000-8000-000000000002";
/// A user with no assignment.
pub const S3: &str = "30000000-0000-4000-8000-000000000003";
/// A user with no sessions at all, no centers.
pub const LONER: &str = "20000000-0000-4000-8000-000000000004";
pub const T1: &str = "40000000-0000-4000-8000-000000000001";
pub const T2: &str = "40000000-0000-4000-8000-000000000002";
pub const SESSION_A: &str = "50000000-0000-4000-8000-00000000000a";
pub const SESSION_B: &str = "50000000-0000-4000-8000-00000000000b";
pub const SESSION_C: &str = "50000000-0000-4000-8000-00000000000c";
pub const SESSION_D: &str = "50000000-0000-4000-8000-00000000000d";
pub const SESSION_E: &str = "50000000-0000-4000-8000-00000000000e";
pub const PARTNER: &str = "60000000-0000-4000-8000-000000000001";
pub const CONTENT: &str = "70000000-0000-4000-8000-000000000001";

pub fn fixture() -> Value {
    let session = |id: &str, teacher: &str, start: &str, end: &str, attendees: &[&str]| {
        json!({"id": id, "teacherId": teacher, "partnerId": PARTNER, "contentItemId": CONTENT,
               "meetingUrl": format!("https://meet.example.test/{id}"),
               "startDateTime": start, "endDateTime": end, "attendees": attendees})
    };
    json!({
        "centers": [{"id": C1, "name": "Center One"}, {"id": C2, "name": "Center Two"}],
        "users": [
            {"id": LEARNER, "login": LEARNER_LOGIN, "displayName": "Learner One", "centers": [C1], "staffCenters": []},
            {"id": PEER, "login": "peer.one", "displayName": null, "centers": [C1], "staffCenters": []},
            {"id": FAR, "login": "far.learner", "displayName": "Far", "centers": [C2], "staffCenters": []},
            {"id": S1, "login": "staff.one", "displayName": "Staff One", "centers": [], "staffCenters": [C1]},
            {"id": S2, "login": "staff.two", "displayName": "Staff Two", "centers": [C1], "staffCenters": [C2]},
            {"id": S3, "login": "staff.none", "displayName": "No Assignment", "centers": [C1], "staffCenters": []},
            {"id": LONER, "login": "loner", "displayName": null, "centers": [], "staffCenters": []}
        ],
        "teachers": [
            {"id": T1, "name": "Teacher \"One\" \u{2028}", "contact": "one@example.test", "photo": "https://img.example.test/1.png"},
            {"id": T2, "name": "Teacher Two", "contact": null, "photo": null}
        ],
        "sessions": [
            // 14:50:50.7282163Z, written with a +02:00 offset: later local time, earlier instant.
            session(SESSION_B, T1, "2026-03-06T16:50:50.7282163+02:00", "2026-03-06T17:50:50+02:00", &[LEARNER]),
            // 15:00Z written zone-less: earlier local time than B's, later instant.
            session(SESSION_C, T2, "2026-03-06 15:00:00", "2026-03-06 16:00:00", &[LEARNER, PEER]),
            // Same instant as B: the tie is broken by session id (A before B).
            session(SESSION_A, T2, "2026-03-06T14:50:50.728216Z", "2026-03-06T15:00:00Z", &[LEARNER]),
            session(SESSION_D, T1, "2026-04-01T08:00:00-05:00", "2026-04-01T09:00:00-05:00", &[FAR]),
            session(SESSION_E, T1, "2026-05-01T08:00:00Z", "2026-05-01T08:00:00Z", &[])
        ]
    })
}

/// The learner's sessions, in the order and form the REST shim must give them.
pub fn learner_rest_body() -> String {
    let t1 = r#""Name":"Teacher \"One\" \u2028","Contact":"one@example.test","Photo":"https://img.example.test/1.png""#;
    let t2 = r#""Name":"Teacher Two","Contact":null,"Photo":null"#;
    let ids = format!(r#""PartnerId":"{PARTNER}","ContentItemId":"{CONTENT}""#);
    format!(
        concat!(
            "[",
            r#"{{{t2},"StartDate":1772808650,"EndDate":1772809200,{ids},"TeacherId":"{T2}","MeetingUrl":"https://meet.example.test/{A}","StartDateTime":"2026-03-06T14:50:50.728216+00:00","EndDateTime":"2026-03-06T15:00:00+00:00"}},"#,
            r#"{{{t1},"StartDate":1772808650,"EndDate":1772812250,{ids},"TeacherId":"{T1}","MeetingUrl":"https://meet.example.test/{B}","StartDateTime":"2026-03-06T14:50:50.728216+00:00","EndDateTime":"2026-03-06T15:50:50+00:00"}},"#,
            r#"{{{t2},"StartDate":1772809200,"EndDate":1772812800,{ids},"TeacherId":"{T2}","MeetingUrl":"https://meet.example.test/{C}","StartDateTime":"2026-03-06T15:00:00+00:00","EndDateTime":"2026-03-06T16:00:00+00:00"}}"#,
            "]"
        ),
        t1 = t1,
        t2 = t2,
        ids = ids,
        T1 = T1,
        T2 = T2,
        A = SESSION_A,
        B = SESSION_B,
        C = SESSION_C
    )
}

/// The meeting URLs of a GraphQL `userSessions` list, to compare orders and contents.
pub fn meeting_urls(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {list}"))
        .iter()
        .map(|s| s["meetingUrl"].as_str().unwrap().to_owned())
        .collect()
}

pub fn url_of(session: &str) -> String {
    format!("https://meet.example.test/{session}")
}

/// The first error message of a GraphQL body.
pub fn message(body: &Value) -> &str {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {body}"))
}

/// Every error code in a GraphQL body.
pub fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl TestApp {
    /// After a hostile or malformed request: a normal query still gets its normal answer.
    pub async fn assert_still_serving(&self) {
        let token = self.token(LEARNER, &["Student"]);
        let reply = self
            .graphql(
                r#"{ userSessions(userIdentifier: "me") { meetingUrl } }"#,
                Some(&token),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            meeting_urls(&reply.json()["data"]["userSessions"]),
            [url_of(SESSION_A), url_of(SESSION_B), url_of(SESSION_C)]
        );
    }
}
