//! The import of contract §7: all or nothing, on both backends.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use sessions_gateway::store::import::ImportError;

use crate::both_backends;
use crate::helpers::*;

const TABLES: [&str; 7] = [
    "centers",
    "users",
    "center_members",
    "staff_assignments",
    "teachers",
    "sessions",
    "session_attendees",
];

async fn count(app: &TestApp, table: &str) -> i64 {
    let db = app.store.connection();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut all = Vec::new();
    for table in TABLES {
        all.push(count(app, table).await);
    }
    all
}

fn id(prefix: u32, n: usize) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012x}")
}

/// A few thousand records: 20 centers, 1,500 users, 40 teachers, 2,500 sessions.
fn generated() -> Value {
    let centers: Vec<Value> = (0..20)
        .map(|n| json!({"id": id(0xc, n), "name": format!("Center {n}")}))
        .collect();
    let users: Vec<Value> = (0..1500)
        .map(|n| json!({"id": id(0xa, n), "login": format!("user.{n}"), "displayName": format!("User {n}"),
                        "centers": [id(0xc, n % 20)], "staffCenters": if n % 100 == 0 { vec![id(0xc, n % 20)] } else { vec![] }}))
        .collect();
    let teachers: Vec<Value> = (0..40).map(|n| json!({"id": id(0xb, n), "name": format!("Teacher {n}"), "contact": null, "photo": null})).collect();
    let sessions: Vec<Value> = (0..2500)
        .map(|n| json!({"id": id(0xd, n), "teacherId": id(0xb, n % 40), "partnerId": id(0xe, 1), "contentItemId": id(0xf, n),
                        "meetingUrl": format!("https://meet.example.test/g{n}"),
                        "startDateTime": format!("2026-06-{:02}T{:02}:00:00+0{}:00", 1 + n % 28, n % 24, n % 3),
                        "endDateTime": format!("2026-06-{:02}T{:02}:59:00+0{}:00", 1 + n % 28, n % 24, n % 3),
                        "attendees": [id(0xa, n % 1500), id(0xa, (n * 7) % 1500)]}))
        .collect();
    json!({"centers": centers, "users": users, "teachers": teachers, "sessions": sessions})
}

async fn thousands_of_records_and_an_idempotent_reimport(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let document = generated().to_string();
    let report = app.store.import(document.as_bytes()).await.unwrap();
    assert_eq!(
        (
            report.centers,
            report.users,
            report.teachers,
            report.sessions
        ),
        (20, 1500, 40, 2500)
    );
    let after_first = counts(&app).await;
    assert_eq!(after_first[0..2], [20, 1500]);
    let user = id(0xa, 7);
    let token = app.token(&user, &["Student"]);
    let first = app.sessions("me", Some(&token)).await;
    assert_eq!(first.status, 200);
    // user 7 attends sessions n with n % 1500 == 7 or 7n % 1500 == 7.
    let expected = (0..2500)
        .filter(|n| n % 1500 == 7 || (n * 7) % 1500 == 7)
        .count();
    assert_eq!(first.json().as_array().unwrap().len(), expected);
    app.store.import(document.as_bytes()).await.unwrap();
    assert_eq!(
        counts(&app).await,
        after_first,
        "re-importing changed the row counts"
    );
    assert_eq!(
        app.sessions("me", Some(&token)).await.body,
        first.body,
        "re-importing changed the answer"
    );
}

async fn assert_rejected(app: &TestApp, document: &str, expected: &[&str]) {
    let before = counts(app).await;
    match app.store.import(document.as_bytes()).await {
        Err(ImportError::Invalid(problems)) => {
            let text = problems.join("\n");
            for part in expected {
                assert!(text.contains(part), "expected {part:?} in:\n{text}");
            }
        }
        other => panic!("expected a rejection naming {expected:?}, got {other:?}"),
    }
    assert_eq!(
        counts(app).await,
        before,
        "a rejected import wrote something"
    );
}

async fn every_kind_of_bad_record_is_rejected_whole(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let good_session = |patch: Value| {
        let mut s = json!({"id": id(0xd, 1), "teacherId": T1, "partnerId": PARTNER, "contentItemId": CONTENT,
            "meetingUrl": "https://m.test/1", "startDateTime": "2026-07-01T10:00:00Z", "endDateTime": "2026-07-01T11:00:00Z",
            "attendees": [LEARNER]});
        for (k, v) in patch.as_object().unwrap() {
            s[k] = v.clone();
        }
        // A valid center rides along in every file: it must not be written either.
        json!({"centers": [{"id": id(0xc, 99), "name": "Should not appear"}], "sessions": [s]})
            .to_string()
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (good_session(json!({"teacherId": id(0xb, 999)})), vec!["sessions[0]", "\"teacherId\"", "neither in this file nor in the database"]),
        (good_session(json!({"attendees": [LEARNER, id(0xa, 999)]})), vec!["sessions[0]", "\"attendees\"", "0000000003e7"]),
        (good_session(json!({"endDateTime": "2026-07-01T09:59:59Z"})), vec!["sessions[0]", "\"endDateTime\"", "before startDateTime"]),
        (good_session(json!({"id": "not-a-guid"})), vec!["sessions[0]", "\"id\"", "not a GUID"]),
        (good_session(json!({"partnerId": 42})), vec!["sessions[0]", "\"partnerId\"", "must be a string"]),
        (good_session(json!({"startDateTime": "next tuesday"})), vec!["sessions[0]", "\"startDateTime\"", "ISO 8601"]),
        (good_session(json!({"meetingUrl": null})), vec!["sessions[0]", "\"meetingUrl\"", "required"]),
        (good_session(json!({"attendees": "x"})), vec!["\"attendees\"", "must be an array"]),
        (good_session(json!({"colour": "red"})), vec!["\"colour\"", "not a known field"]),
        (json!({"users": [{"id": id(0xa, 1), "login": "LEARNER.one", "centers": [], "staffCenters": []}]}).to_string(),
            vec!["users[0]", "\"login\"", "already the login of user"]),
        (json!({"users": [{"id": id(0xa, 1), "login": "dup"}, {"id": id(0xa, 2), "login": "DUP"}]}).to_string(),
            vec!["users[1]", "\"login\"", "duplicates the login of users[0]"]),
        (json!({"users": [{"id": id(0xa, 1), "login": "me"}]}).to_string(), vec!["users[0]", "\"login\"", "could never be looked up"]),
        (json!({"users": [{"id": id(0xa, 1), "login": "x", "centers": [id(0xc, 404)]}]}).to_string(), vec!["users[0]", "\"centers\"", "center"]),
        (json!({"teachers": [{"id": T1, "name": 5}]}).to_string(), vec!["teachers[0]", "\"name\"", "must be a string"]),
        (json!({"centers": [{"id": C1, "name": "a"}, {"id": C1, "name": "b"}]}).to_string(), vec!["centers[1]", "appears twice"]),
        (json!({"centers": {}}).to_string(), vec!["centers", "must be an array"]),
        (json!({"sessionz": []}).to_string(), vec!["\"sessionz\"", "not a known section"]),
        ("[1, 2]".to_string(), vec!["document", "JSON object"]),
        ("{\"centers\": [".to_string(), vec!["document", "not valid JSON"]),
    ];
    for (document, expected) in &cases {
        assert_rejected(&app, document, expected).await;
    }
    // Every problem of a file is listed at once: a malformed field, an unknown reference
    // (checked against the database) and a login already taken, in one report. A reference
    // to a record that is in the file but has another problem is not called unknown.
    let mixed = json!({
        "teachers": [{"id": id(0xb, 7), "name": 5}],
        "users": [{"id": id(0xa, 1), "login": "LEARNER.ONE"}],
        "sessions": [{"id": id(0xd, 1), "teacherId": id(0xb, 7), "partnerId": PARTNER, "contentItemId": CONTENT,
            "meetingUrl": "https://m.test/1", "startDateTime": "2026-07-01T10:00:00Z", "endDateTime": "2026-07-01T09:00:00Z",
            "attendees": [id(0xa, 404), "bad"]}]
    });
    assert_rejected(
        &app,
        &mixed.to_string(),
        &[
            "teachers[0]",
            "\"name\"",
            "already the login of user",
            "\"endDateTime\"",
            "bad",
        ],
    )
    .await;
    match app.store.import(mixed.to_string().as_bytes()).await {
        Err(ImportError::Invalid(problems)) => {
            assert!(
                !problems.iter().any(|p| p.contains("teacher \"0000000b")),
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The fixture is still served unchanged.
    let reply = app
        .sessions("me", Some(&app.token(LEARNER, &["Student"])))
        .await;
    assert_eq!(reply.body, learner_rest_body());
}

/// A trigger makes the database itself fail on the last session of the file.
async fn a_database_failure_part_way_writes_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = app.store.connection();
    let poison = id(0xd, 2499);
    let ddl = match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER poison BEFORE INSERT ON sessions WHEN NEW.id = '{poison}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
        )],
        Backend::Postgres => vec![
            format!("CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.id = '{poison}' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"),
            "CREATE TRIGGER poison BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION poison()".to_owned(),
        ],
    };
    for statement in ddl {
        db.execute_unprepared(&statement).await.unwrap();
    }
    let result = app.store.import(generated().to_string().as_bytes()).await;
    assert!(
        matches!(result, Err(ImportError::Database(_))),
        "{result:?}"
    );
    assert_eq!(
        counts(&app).await,
        vec![0; 7],
        "a failed import left rows behind"
    );
}

async fn lists_replace_and_references_reach_the_database(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    // The learner moves to C2; the session C now has only PEER; references to fixture rows.
    app.import(&json!({
        "users": [{"id": LEARNER, "login": LEARNER_LOGIN, "displayName": "Learner One", "centers": [C2], "staffCenters": []}],
        "sessions": [{"id": SESSION_C, "teacherId": T2, "partnerId": PARTNER, "contentItemId": CONTENT,
            "meetingUrl": url_of(SESSION_C), "startDateTime": "2026-03-06 15:00:00", "endDateTime": "2026-03-06 16:00:00", "attendees": [PEER]}]
    })).await;
    let learner = app.token(LEARNER, &["Student"]);
    let urls = app.sessions("me", Some(&learner)).await.rest_meeting_urls();
    assert_eq!(urls, [url_of(SESSION_A), url_of(SESSION_B)]);
    assert_eq!(
        app.sessions(LEARNER, Some(&app.token(S1, &["StaffMember"])))
            .await
            .status,
        403,
        "C1 staff still reach the learner"
    );
    assert_eq!(
        app.sessions(LEARNER, Some(&app.token(S2, &["StaffMember"])))
            .await
            .status,
        200,
        "C2 staff can't reach the learner"
    );
    // Moving a session's start moves it in every attendee's order.
    app.import(&json!({"sessions": [{"id": SESSION_A, "teacherId": T2, "partnerId": PARTNER, "contentItemId": CONTENT,
        "meetingUrl": url_of(SESSION_A), "startDateTime": "2026-03-07T00:00:00Z", "endDateTime": "2026-03-07T01:00:00Z", "attendees": [LEARNER]}]})).await;
    let urls = app.sessions("me", Some(&learner)).await.rest_meeting_urls();
    assert_eq!(urls, [url_of(SESSION_B), url_of(SESSION_A)]);
    // Two users of one file may swap logins.
    app.import(&json!({"users": [
        {"id": PEER, "login": "far.learner", "centers": [C1]},
        {"id": FAR, "login": "peer.one", "centers": [C2]}
    ]}))
    .await;
    let far_token = app.token("peer.one", &["Student"]);
    assert_eq!(
        app.sessions("me", Some(&far_token)).await.json()[0]["MeetingUrl"],
        url_of(SESSION_D)
    );
}

async fn readers_never_see_half_an_import(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let document = generated().to_string();
    let user = id(0xa, 7);
    let token = app.token(&user, &["Student"]);
    let expected = (0..2500)
        .filter(|n| n % 1500 == 7 || (n * 7) % 1500 == 7)
        .count();
    let store = app.store.clone();
    let doc2 = document.clone();
    let import = tokio::spawn(async move { store.import(doc2.as_bytes()).await.map(|_| ()) });
    let mut seen = std::collections::BTreeSet::new();
    while !import.is_finished() {
        let reply = app.sessions("me", Some(&token)).await;
        assert_eq!(reply.status, 200);
        seen.insert(reply.json().as_array().unwrap().len());
    }
    import.await.unwrap().unwrap();
    seen.insert(
        app.sessions("me", Some(&token))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
    );
    assert!(
        seen.iter().all(|n| *n == 0 || *n == expected),
        "a reader saw a partial import: {seen:?}"
    );
    // Two overlapping imports queue up and both land whole.
    let small = fixture().to_string();
    let (a, b) = tokio::join!(
        app.store.import(document.as_bytes()),
        app.store.import(small.as_bytes())
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(count(&app, "sessions").await, 2505);
    assert_eq!(
        app.sessions("me", Some(&app.token(LEARNER, &["Student"])))
            .await
            .body,
        learner_rest_body()
    );
}

both_backends!(
    thousands_of_records_and_an_idempotent_reimport,
    every_kind_of_bad_record_is_rejected_whole,
    a_database_failure_part_way_writes_nothing,
    lists_replace_and_references_reach_the_database,
    readers_never_see_half_an_import,
);
