//! The GraphQL surface: values, errors per selection, and the GraphQL-over-HTTP protocol.

use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::*;

const ALL_FIELDS: &str = "name contact photo startDate endDate partnerId contentItemId teacherId meetingUrl startDateTime endDateTime";

async fn sessions_with_every_field(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(S1, &["StaffMember"]);
    let query =
        format!(r#"{{ userSessions(userIdentifier: " learner.one ") {{ {ALL_FIELDS} }} }}"#);
    let reply = app.graphql(&query, Some(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        "application/json; charset=utf-8"
    );
    let body = reply.json();
    assert!(body.get("errors").is_none(), "{body}");
    let first = &body["data"]["userSessions"][0];
    assert_eq!(
        first,
        &json!({
            "name": "Teacher Two", "contact": null, "photo": null,
            "startDate": 1772808650i64, "endDate": 1772809200i64,
            "partnerId": PARTNER, "contentItemId": CONTENT, "teacherId": T2,
            "meetingUrl": url_of(SESSION_A),
            "startDateTime": "2026-03-06T14:50:50.728216Z", "endDateTime": "2026-03-06T15:00:00Z"
        })
    );
    assert_eq!(
        meeting_urls(&body["data"]["userSessions"]),
        [url_of(SESSION_A), url_of(SESSION_B), url_of(SESSION_C)]
    );
    // Keys come in the order the document asked for them.
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.join(" "), ALL_FIELDS);
}

async fn each_alias_gets_its_own_outcome(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    let query = r#"{ mine: userSessions(userIdentifier: "me") { meetingUrl }
                    other: userSessions(userIdentifier: "far.learner") { meetingUrl }
                    broken: userSessions(userIdentifier: "  ") { meetingUrl }
                    again: userSessions(userIdentifier: "ME") { meetingUrl } }"#;
    let body = app.graphql(query, Some(&token)).await.json();
    let data = body["data"].as_object().unwrap();
    assert_eq!(
        data.keys().map(String::as_str).collect::<Vec<_>>(),
        ["mine", "other", "broken", "again"]
    );
    assert_eq!(meeting_urls(&data["mine"]).len(), 3);
    assert_eq!(meeting_urls(&data["again"]).len(), 3);
    assert_eq!(
        (&data["other"], &data["broken"]),
        (&Value::Null, &Value::Null)
    );
    let mut errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"][0].as_str().unwrap().to_owned(),
                e["extensions"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("broken".into(), "BAD_USER_INPUT".into()),
            ("other".into(), "FORBIDDEN".into())
        ]
    );
    assert!(
        !body.to_string().contains(&url_of(SESSION_D)),
        "the other learner's session leaked"
    );
}

async fn anonymous_and_invalid_tokens(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let query = r#"{ userSessions(userIdentifier: "me") { meetingUrl } }"#;
    let reply = app.graphql(query, None).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["data"], json!({"userSessions": null}));
    assert_eq!(codes(&body), ["UNAUTHENTICATED"]);

    // Anonymous and malformed: anonymous is reported first.
    let body = app
        .graphql(r#"{ userSessions(userIdentifier: "") { name } }"#, None)
        .await
        .json();
    assert_eq!(codes(&body), ["UNAUTHENTICATED"]);

    let reply = app.graphql(query, Some("not-a-jwt")).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), "Bearer");
    let body = reply.json();
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(codes(&body), ["UNAUTHENTICATED"]);

    // A bad token is refused before the document is even parsed.
    for document in ["{ userSessions(", "{ nope }", "{ __typename }"] {
        let reply = app.graphql(document, Some("not-a-jwt")).await;
        assert_eq!(reply.status, 401, "{document}");
        assert_eq!(codes(&reply.json()), ["UNAUTHENTICATED"], "{document}");
    }

    // A malformed identifier from a caller whose roles fail: the identifier is reported.
    let body = app
        .graphql(
            r#"{ userSessions(userIdentifier: "\u0001") { name } }"#,
            Some(&app.token(LEARNER, &["QA"])),
        )
        .await
        .json();
    assert_eq!(codes(&body), ["BAD_USER_INPUT"]);
    assert_eq!(body["data"]["userSessions"], Value::Null);
    app.assert_still_serving().await;
}

async fn variables_and_get_requests(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    let query =
        "query Q($id: UserIdentifier!) { userSessions(userIdentifier: $id) { meetingUrl } }";
    let body = app
        .graphql_body(
            json!({"query": query, "variables": {"id": LEARNER_LOGIN}, "operationName": "Q"}),
            Some(&token),
        )
        .await
        .json();
    assert_eq!(meeting_urls(&body["data"]["userSessions"]).len(), 3);

    // K06: GET with variables as a JSON string works.
    let request = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[
            ("query", query),
            ("variables", &json!({"id": "me"}).to_string()),
        ])
        .bearer_auth(&token);
    let reply = app.send(request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(meeting_urls(&reply.json()["data"]["userSessions"]).len(), 3);

    // K06: no query, or variables that are not JSON: 400 with a GraphQL JSON error body.
    for params in [vec![], vec![("query", query), ("variables", "not-json")]] {
        let request = app
            .client
            .get(format!("{}/graphql", app.base))
            .query(&params);
        let reply = app.send(request).await;
        assert_eq!(reply.status, 400, "{params:?}");
        assert_eq!(
            reply.header("content-type"),
            "application/json; charset=utf-8"
        );
        let body = reply.json();
        assert!(body["errors"][0]["message"].is_string(), "{body}");
        assert!(
            !reply.body.contains("Error(") && !reply.body.contains("{ "),
            "debug text: {}",
            reply.body
        );
    }

    // Regression: bytes that are not UTF-8 were replaced and parsed.
    let reply = app.get("/graphql?query=%FF", None).await;
    assert_eq!(reply.status, 400);
    assert!(message(&reply.json()).contains("UTF-8"));

    // Mutations are never run over GET.
    let request = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "mutation { x }")]);
    let reply = app.send(request).await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), "POST");
    app.assert_still_serving().await;
}

async fn status_codes_follow_the_negotiated_media_type(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    const GQL: &str = "application/graphql-response+json; charset=utf-8";
    const JSON: &str = "application/json; charset=utf-8";
    // K05: malformed requests are 400 whatever the Accept; the unknown field depends on it.
    let cases: &[(&str, u16, u16)] = &[
        (r#"{"query":"#, 400, 400),
        (r#"{"qeury":"{ __typename }"}"#, 400, 400),
        (r#"{"query":"{ __typename }","variables":[]}"#, 400, 400),
        (r#"[{"query":"{ __typename }"}]"#, 400, 400),
        // Regression: repeated keys were accepted, the last one winning.
        (
            r#"{"query":"{ __typename }","query":"{ userSessions }"}"#,
            400,
            400,
        ),
        (r#"{"query":"{ notAField }"}"#, 200, 400),
        (r#"{"query":"{ __typename "}"#, 200, 400),
    ];
    for (body, json_status, gql_status) in cases {
        for (accept, status, content_type) in [
            ("application/json", *json_status, JSON),
            ("application/graphql-response+json", *gql_status, GQL),
        ] {
            let request = app
                .client
                .post(format!("{}/graphql", app.base))
                .header("content-type", "application/json")
                .header("accept", accept)
                .body(body.to_string());
            let reply = app.send(request).await;
            assert_eq!(reply.status, status, "{body} with {accept}: {}", reply.body);
            assert_eq!(
                reply.header("content-type"),
                content_type,
                "{body} with {accept}"
            );
            let json = reply.json();
            assert!(
                json.get("data").is_none(),
                "{body}: nothing may be executed: {json}"
            );
            assert!(!json["errors"].as_array().unwrap().is_empty());
        }
    }
    // No Accept header: application/json. An Accept naming neither type: 406.
    let reply = app
        .send(
            app.client
                .post(format!("{}/graphql", app.base))
                .header("content-type", "application/json")
                .body(r#"{"query":"{ __typename }"}"#),
        )
        .await;
    assert_eq!((reply.status, reply.header("content-type")), (200, JSON));
    assert_eq!(reply.json(), json!({"data": {"__typename": "Query"}}));
    let reply = app
        .graphql_accepting("{ __typename }", None, "text/html")
        .await;
    assert_eq!(reply.status, 406);
    assert!(reply.json()["errors"].is_array());
    app.assert_still_serving().await;
}

async fn only_json_bodies_are_executed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    let body =
        json!({"query": r#"{ userSessions(userIdentifier: "me") { meetingUrl } }"#}).to_string();
    // K07: text/plain, form-encoded and missing Content-Type are refused unexecuted.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
        Some("application/json; charset=latin1"),
    ] {
        let mut request = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&token)
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let reply = app.send(request).await;
        assert_eq!(reply.status, 415, "{content_type:?}");
        assert!(
            !reply.body.contains("meet.example.test"),
            "{content_type:?} was executed"
        );
        let body = reply.json();
        assert_eq!(codes(&body), ["UNSUPPORTED_MEDIA_TYPE"], "{content_type:?}");
        assert!(message(&body).contains("Content-Type"), "{body}");
    }
    let reply = app
        .send(
            app.client
                .post(format!("{}/graphql", app.base))
                .bearer_auth(&token)
                .header("content-type", "Application/JSON; charset=UTF-8")
                .body(body),
        )
        .await;
    assert_eq!(reply.status, 200);
    // Other methods.
    let reply = app
        .send(app.client.put(format!("{}/graphql", app.base)))
        .await;
    assert_eq!((reply.status, reply.header("allow")), (405, "GET, POST"));
    app.assert_still_serving().await;
}

async fn hostile_documents_get_ordinary_errors(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    // K13: a list where a scalar is expected, and a deep fragment chain.
    let reply = app
        .graphql(
            "{ userSessions(userIdentifier: [4e444]) { name } }",
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(codes(&reply.json()), ["GRAPHQL_PARSE_FAILED"]);
    let body = app
        .graphql(
            "{ userSessions(userIdentifier: [4]) { name } }",
            Some(&token),
        )
        .await
        .json();
    assert_eq!(codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
    let mut fragments = String::from("query { ...F0 }\n");
    for i in 0..60 {
        fragments.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
    }
    fragments.push_str("fragment F60 on Query { __typename }\n");
    let reply = app.graphql(&fragments, Some(&token)).await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(codes(&body), ["GRAPHQL_VALIDATION_FAILED"], "{body}");
    assert!(message(&body).contains("recursion depth"), "{body}");
    // K12: a batch of 1,000 operations is refused as a whole.
    let batch: Vec<Value> = (0..1000)
        .map(|_| json!({"query": "{ __typename }"}))
        .collect();
    let reply = app.graphql_body(Value::Array(batch), Some(&token)).await;
    assert_eq!(reply.status, 400);
    assert!(message(&reply.json()).contains("Batched"));
    // The server still answers.
    let body = app
        .graphql(
            r#"{ userSessions(userIdentifier: "me") { meetingUrl } }"#,
            Some(&token),
        )
        .await
        .json();
    assert_eq!(meeting_urls(&body["data"]["userSessions"]).len(), 3);
}

async fn graphiql_is_served_from_the_binary(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let page = app.get("/graphiql", None).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page
        .header("content-security-policy")
        .contains("script-src 'self'"));
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "the page must not name another host"
    );
    for asset in [
        "init.js",
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        assert!(
            page.body.contains(&format!("/graphiql/assets/{asset}")),
            "{asset} not referenced"
        );
        let reply = app.get(&format!("/graphiql/assets/{asset}"), None).await;
        assert_eq!(reply.status, 200, "{asset}");
    }
    for missing in [
        "/graphiql/assets/nope.js",
        "/graphiql/assets/%FF",
        "/graphiql/assets/a/b",
    ] {
        let reply = app.get(missing, None).await;
        assert_eq!(reply.status, 404, "{missing}");
        assert!(
            reply.json()["Message"]
                .as_str()
                .unwrap()
                .starts_with("No HTTP resource"),
            "{missing}"
        );
    }
    // Every route answers other methods with a JSON 405.
    for path in ["/graphiql", "/healthz", "/readyz"] {
        let reply = app
            .send(app.client.post(format!("{}{path}", app.base)))
            .await;
        assert_eq!(
            (reply.status, reply.header("allow")),
            (405, "GET"),
            "{path}"
        );
        assert!(reply.json()["Message"].is_string(), "{path}");
    }
}

both_backends!(
    sessions_with_every_field,
    each_alias_gets_its_own_outcome,
    anonymous_and_invalid_tokens,
    variables_and_get_requests,
    status_codes_follow_the_negotiated_media_type,
    only_json_bodies_are_executed,
    hostile_documents_get_ordinary_errors,
    graphiql_is_served_from_the_binary,
);
