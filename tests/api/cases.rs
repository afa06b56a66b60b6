//! Regression tests for failure kinds that servers on this stack have shipped (K01, K02, K08,
//! K09; K05–K07 and K12–K13 are in `graphql_api`, K10–K11 in `auth_tokens`).

use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::both_backends;
use crate::helpers::*;

/// K01: the check must hold on every selection path, not only the direct one.
async fn k01_guard_holds_through_fragments(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let document = format!(
        r#"query {{
             a: userSessions(userIdentifier: "{LEARNER}") {{ meetingUrl name }}
             ... on Query {{ b: userSessions(userIdentifier: "{LEARNER}") {{ meetingUrl name }} }}
             ...Named
           }}
           fragment Named on Query {{ c: userSessions(userIdentifier: "{LEARNER}") {{ meetingUrl name }} }}"#
    );
    for token in [
        app.token(LEARNER, &["QA"]),
        app.token(S2, &["StaffMember"]),
        app.token(S3, &["StaffMember"]),
    ] {
        let reply = app.graphql(&document, Some(&token)).await;
        assert_eq!(reply.status, 200);
        let body = reply.json();
        assert_eq!(
            body["data"],
            serde_json::json!({"a": null, "b": null, "c": null}),
            "{body}"
        );
        let mut paths: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"][0].as_str().unwrap())
            .collect();
        paths.sort();
        assert_eq!(paths, ["a", "b", "c"]);
        assert!(codes(&body).iter().all(|c| c == "FORBIDDEN"));
        assert!(
            !reply.body.contains("meet.example.test") && !reply.body.contains("Teacher"),
            "session data leaked: {}",
            reply.body
        );
    }
    let body = app
        .graphql(&document, Some(&app.token(S1, &["StaffMember"])))
        .await
        .json();
    assert!(body.get("errors").is_none(), "{body}");
    for alias in ["a", "b", "c"] {
        assert_eq!(
            meeting_urls(&body["data"][alias]),
            [url_of(SESSION_A), url_of(SESSION_B), url_of(SESSION_C)],
            "{alias}"
        );
    }
    app.assert_still_serving().await;
}

/// K02: a broken database gives generic errors on both surfaces, with no internals.
async fn k02_database_errors_stay_inside(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let db = app.store.connection();
    let drop = match backend {
        Backend::Sqlite => "DROP TABLE session_attendees; DROP TABLE sessions",
        Backend::Postgres => "DROP TABLE sessions CASCADE",
    };
    db.execute_unprepared(drop).await.unwrap();
    let forbidden_words = [
        "no such table",
        "relation",
        "sqlx",
        "sqlite",
        "SQLite",
        "postgres",
        "Postgres",
        "session_attendees",
        "DbErr",
        "database",
        "SELECT",
        ".rs",
        "Execution Error",
        "error returned",
    ];
    for (caller, identifier) in [
        (app.token(LEARNER, &["Student"]), "me"),
        (app.token(S1, &["StaffMember"]), "learner.one"),
    ] {
        let rest = app.sessions(identifier, Some(&caller)).await;
        assert_eq!(
            (rest.status, rest.body.as_str()),
            (500, r#"{"Message":"An error has occurred."}"#)
        );
        let gql = app
            .graphql(
                &format!(r#"{{ userSessions(userIdentifier: "{identifier}") {{ name }} }}"#),
                Some(&caller),
            )
            .await;
        assert_eq!(gql.status, 200);
        let body = gql.json();
        assert_eq!(body["data"]["userSessions"], Value::Null);
        assert_eq!(codes(&body), ["INTERNAL_SERVER_ERROR"]);
        assert_eq!(body["errors"][0]["message"], "Internal server error.");
        for word in forbidden_words {
            assert!(
                !gql.body.contains(word) && !rest.body.contains(word),
                "{word:?} leaked: {} / {}",
                gql.body,
                rest.body
            );
        }
    }
    // Readiness is about reaching the database, which still works.
    assert_eq!(app.get("/readyz", None).await.status, 200);
}

/// K08: ids written as text by another tool are found by the same queries, in any case.
async fn k08_rows_written_by_other_tools_match(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let foreign = "50000000-0000-4000-8000-0000000000ff";
    let db = app.store.connection();
    let start = match backend {
        Backend::Sqlite => "1772900000000000".to_owned(),
        Backend::Postgres => "'2026-03-07T16:13:20Z'".to_owned(),
    };
    let end = match backend {
        Backend::Sqlite => "1772903600000000".to_owned(),
        Backend::Postgres => "'2026-03-07T17:13:20Z'".to_owned(),
    };
    db.execute_unprepared(&format!(
        "INSERT INTO sessions (id, teacher_id, partner_id, content_item_id, meeting_url, start_at, end_at) \
         VALUES ('{foreign}', '{T1}', '{PARTNER}', '{CONTENT}', 'https://meet.example.test/{foreign}', {start}, {end})"
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO session_attendees (session_id, start_at, user_id) VALUES ('{foreign}', {start}, '{LEARNER}')"
    ))
    .await
    .unwrap();
    let staff = app.token(S1, &["StaffMember"]);
    let mut bodies = Vec::new();
    for identifier in [
        LEARNER.to_owned(),
        LEARNER.to_uppercase(),
        format!("{{{}}}", LEARNER.to_uppercase()),
        LEARNER.replace('-', "").to_uppercase(),
    ] {
        let identifier = identifier.replace('{', "%7B").replace('}', "%7D");
        let reply = app.sessions(&identifier, Some(&staff)).await;
        assert_eq!(reply.status, 200, "{identifier}");
        let urls = reply.rest_meeting_urls();
        assert_eq!(
            urls,
            [
                url_of(SESSION_A),
                url_of(SESSION_B),
                url_of(SESSION_C),
                url_of(foreign)
            ],
            "{identifier}"
        );
        bodies.push(reply.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    let self_token = app.token(&LEARNER.to_uppercase(), &["Student"]);
    assert_eq!(app.sessions("me", Some(&self_token)).await.body, bodies[0]);
    if backend == Backend::Sqlite {
        // The product writes text too, and the schema refuses ids in any other form.
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(),
            "SELECT COUNT(*) FROM session_attendees WHERE typeof(user_id) <> 'text' OR typeof(session_id) <> 'text'")).await.unwrap().unwrap();
        assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 0);
        let upper = db
            .execute_unprepared(&format!(
                "INSERT INTO centers (id, name) VALUES ('{}', 'x')",
                C2.replace("c2", "C3")
            ))
            .await;
        assert!(upper.is_err(), "an upper-case id was stored");
        // Regression: references had no check, so a tool writing with foreign keys off could
        // store an attendee that no query would ever match.
        use sqlx::ConnectOptions;
        let options: sqlx::sqlite::SqliteConnectOptions = app._db.url.parse().unwrap();
        let mut other_tool = options.foreign_keys(false).connect().await.unwrap();
        let attendee = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO session_attendees (session_id, start_at, user_id) VALUES ('{foreign}', {start}, '{}')",
            C1.to_uppercase()
        )))
        .execute(&mut other_tool)
        .await;
        assert!(attendee.is_err(), "an upper-case reference was stored");
    }
}

/// K09: offsets, 7-digit fractions and zone-less times; order by instant, output in UTC.
async fn k09_instants_keep_offsets_and_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    assert_eq!(
        app.sessions("me", Some(&token)).await.body,
        learner_rest_body()
    );
    let body = app
        .graphql(
            r#"{ userSessions(userIdentifier: "me") { startDateTime meetingUrl } }"#,
            Some(&token),
        )
        .await
        .json();
    let starts: Vec<&str> = body["data"]["userSessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["startDateTime"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-03-06T14:50:50.728216Z",
            "2026-03-06T14:50:50.728216Z",
            "2026-03-06T15:00:00Z"
        ]
    );
}

both_backends!(
    k01_guard_holds_through_fragments,
    k02_database_errors_stay_inside,
    k08_rows_written_by_other_tools_match,
    k09_instants_keep_offsets_and_order,
);
