//! Abuse resistance (cases K03, K04): every limit is on by default, refuses before any resolver
//! or database call, and names itself; GraphiQL's introspection keeps working.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

/// An introspection query shaped like GraphiQL's: the full type fragment and type references
/// nested nine `ofType` levels deep.
fn graphiql_introspection() -> String {
    let mut type_ref = String::from("kind name");
    for _ in 0..9 {
        type_ref = format!("kind name ofType {{ {type_ref} }}");
    }
    format!(
        r#"query IntrospectionQuery {{
  __schema {{
    description
    queryType {{ name kind }} mutationType {{ name kind }} subscriptionType {{ name kind }}
    types {{ ...AllOfAType }}
    directives {{ name description isRepeatable locations args(includeDeprecated: true) {{ ...Input }} }}
  }}
}}
fragment AllOfAType on __Type {{
  kind name description specifiedByURL
  fields(includeDeprecated: true) {{ name description args(includeDeprecated: true) {{ ...Input }} type {{ ...Ref }} isDeprecated deprecationReason }}
  inputFields(includeDeprecated: true) {{ ...Input }}
  interfaces {{ ...Ref }}
  enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }}
  possibleTypes {{ ...Ref }}
}}
fragment Input on __InputValue {{ name description type {{ ...Ref }} defaultValue isDeprecated deprecationReason }}
fragment Ref on __Type {{ {type_ref} }}"#
    )
}

fn aliased_user_sessions(count: usize) -> String {
    let fields: String = (0..count)
        .map(|i| format!(r#" a{i}: userSessions(userIdentifier: "me") {{ name }}"#))
        .collect();
    format!("{{{fields} }}")
}

/// Breaks the database, so that anything that reaches it fails with INTERNAL_SERVER_ERROR:
/// a limit error instead proves the refusal came first.
async fn break_database(app: &TestApp, backend: Backend) {
    let sql = match backend {
        Backend::Sqlite => "DROP TABLE session_attendees",
        Backend::Postgres => "DROP TABLE session_attendees CASCADE",
    };
    app.store
        .connection()
        .execute_unprepared(sql)
        .await
        .unwrap();
}

async fn refused(app: &TestApp, query: &str, limit: &str) {
    let token = app.token(LEARNER, &["Student"]);
    let reply = app.graphql(query, Some(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert!(
        body.get("data").is_none(),
        "executed despite {limit}: {body}"
    );
    assert_eq!(codes(&body), ["GRAPHQL_VALIDATION_FAILED"], "{body}");
    let message = message(&body);
    assert!(
        message.contains(limit),
        "the error does not name {limit}: {message}"
    );
    // With graphql-response+json the same refusal is a 400.
    let reply = app
        .graphql_accepting(query, Some(&token), "application/graphql-response+json")
        .await;
    assert_eq!(reply.status, 400);
}

async fn k03_introspection_works_and_heavy_queries_do_not(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let reply = app.graphql(&graphiql_introspection(), None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert!(
        body.get("errors").is_none(),
        "GraphiQL's introspection was refused: {body}"
    );
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    app.assert_still_serving().await;
    break_database(&app, backend).await;
    refused(&app, &aliased_user_sessions(60), "GATEWAY_MAX_ALIASES").await;
}

async fn complexity_refuses_many_user_sessions(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &["--max-aliases", "1000"]).await else {
        return;
    };
    let app = app.with_fixture().await;
    // 19 selections fit (19 × 51 = 969); 60 do not.
    let body = app
        .graphql(
            &aliased_user_sessions(19),
            Some(&app.token(LEARNER, &["Student"])),
        )
        .await
        .json();
    assert!(body.get("errors").is_none(), "{body}");
    break_database(&app, backend).await;
    refused(&app, &aliased_user_sessions(60), "GATEWAY_MAX_COMPLEXITY").await;
}

async fn k04_aliases_duplicates_and_suggestions(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    refused(&app, &aliased_user_sessions(101), "GATEWAY_MAX_ALIASES").await;
    app.assert_still_serving().await;
    // 500 repeated __typename: merged into one field, answered cheaply.
    let query = format!("{{ {} }}", "__typename ".repeat(500));
    let reply = app.graphql(&query, None).await;
    assert_eq!(reply.json(), json!({"data": {"__typename": "Query"}}));
    // With introspection on, a misspelling gets a hint.
    let body = app
        .graphql("{ userSesions(userIdentifier: \"me\") { name } }", None)
        .await
        .json();
    assert!(message(&body).contains("Did you mean"), "{body}");
    app.assert_still_serving().await;

    let Some(closed) = spawn_app_with(
        backend,
        &["--graphiql", "false", "--introspection", "false"],
    )
    .await
    else {
        return;
    };
    let closed = closed.with_fixture().await;
    let body = closed
        .graphql("{ userSesions(userIdentifier: \"me\") { name } }", None)
        .await
        .json();
    let message = message(&body);
    assert!(
        !message.contains("Did you mean") && !message.contains("userSessions"),
        "{message}"
    );
    let body = closed
        .graphql("{ __schema { types { name } } }", None)
        .await
        .json();
    assert!(
        body["data"]["__schema"].is_null() || body.get("data").is_none(),
        "introspection answered: {body}"
    );
    assert!(!body.to_string().contains("TeacherSession"));
    assert_eq!(closed.get("/graphiql", None).await.status, 404);
    closed.assert_still_serving().await;
}

async fn depth_directives_tokens_and_body_size(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    break_database(&app, backend).await;
    let mut deep = String::from("name");
    for _ in 0..20 {
        deep = format!("ofType {{ {deep} }}");
    }
    refused(
        &app,
        &format!("{{ __schema {{ types {{ {deep} }} }} }}"),
        "GATEWAY_MAX_DEPTH",
    )
    .await;
    refused(
        &app,
        r#"{ userSessions(userIdentifier: "me") @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) { name } }"#,
        "GATEWAY_MAX_DIRECTIVES",
    )
    .await;
    let many = format!(
        "{{ userSessions(userIdentifier: \"me\") {{ {} }} }}",
        "name ".repeat(2100)
    );
    refused(&app, &many, "GATEWAY_MAX_TOKENS").await;
    let huge = json!({"query": format!("{{ __typename }} #{}", "x".repeat(70_000))});
    let reply = app.graphql_body(huge, None).await;
    assert_eq!(reply.status, 413);
    assert_eq!(codes(&reply.json()), ["PAYLOAD_TOO_LARGE"]);
}

async fn cors_only_for_configured_origins(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        &[
            "--cors-origins",
            "https://app.example.test,https://admin.example.test",
        ],
    )
    .await
    else {
        return;
    };
    let preflight = |origin: &str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
    };
    let ok = app.send(preflight("https://admin.example.test")).await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        "https://admin.example.test"
    );
    assert!(ok
        .header("access-control-allow-headers")
        .contains("authorization"));
    let other = app.send(preflight("https://evil.example.test")).await;
    assert_eq!(other.header("access-control-allow-origin"), "");

    let Some(plain) = spawn_app(backend).await else {
        return;
    };
    let reply = plain
        .send(
            plain
                .client
                .post(format!("{}/graphql", plain.base))
                .header("origin", "https://app.example.test")
                .header("content-type", "application/json")
                .body(r#"{"query":"{ __typename }"}"#),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("access-control-allow-origin"), "");
}

/// Regression (found by the soak): a few bytes of fragments that spread each other twice
/// expand exponentially, and one such request held a worker for minutes.
async fn fragment_bombs_are_refused_at_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let mut chain = String::from("{ ...F0 }\n");
    for i in 0..40 {
        chain.push_str(&format!(
            "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    chain.push_str("fragment F40 on Query { __typename }");
    for (query, expected) in [
        (
            "{ ...A } fragment A on Query { ...A ...A }".to_owned(),
            "spreads itself",
        ),
        (chain, "GATEWAY_MAX_COMPLEXITY"),
    ] {
        let reply = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            app.graphql(&query, None),
        )
        .await
        .expect("the server must answer, not expand the fragments");
        let body = reply.json();
        assert_eq!(codes(&body), ["GRAPHQL_VALIDATION_FAILED"], "{body}");
        assert!(message(&body).contains(expected), "{body}");
    }
    app.assert_still_serving().await;
}

/// Regression (found by the soak): refusals that left the body unread closed the
/// connection without saying so, and a client's next request on it failed.
async fn refusals_keep_the_connection_usable(backend: Backend) {
    use std::io::{Read, Write};
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let addr = app.base.trim_start_matches("http://").to_owned();
    let exchange = move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let body = r#"{"query":"{ __typename }"}"#;
        let requests = [
            format!("POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
            format!("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(),
        ];
        let mut statuses = Vec::new();
        for request in requests {
            stream.write_all(request.as_bytes()).unwrap();
            statuses.push(read_response_status(&mut stream));
        }
        statuses
    };
    let statuses = tokio::task::spawn_blocking(exchange).await.unwrap();
    assert_eq!(statuses, [401, 415, 200]);

    fn read_response_status(stream: &mut std::net::TcpStream) -> u16 {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream
                .read_exact(&mut byte)
                .expect("the connection is still open");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).unwrap();
        head[9..12].parse().unwrap()
    }
}

both_backends!(
    fragment_bombs_are_refused_at_once,
    refusals_keep_the_connection_usable,
    k03_introspection_works_and_heavy_queries_do_not,
    complexity_refuses_many_user_sessions,
    k04_aliases_duplicates_and_suggestions,
    depth_directives_tokens_and_body_size,
    cors_only_for_configured_origins,
);
