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
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(limit),
        "the error does not name {limit}: {message}"
    );
    // With graphql-response+json the same refusal is a 400.
    let request = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(json!({"query": query}).to_string());
    assert_eq!(app.send(request).await.status, 400);
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
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{body}"
    );
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
    let message = body["errors"][0]["message"].as_str().unwrap();
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

both_backends!(
    k03_introspection_works_and_heavy_queries_do_not,
    complexity_refuses_many_user_sessions,
    k04_aliases_duplicates_and_suggestions,
    depth_directives_tokens_and_body_size,
    cors_only_for_configured_origins,
);
