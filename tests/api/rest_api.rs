//! The Web API shim: bytes, headers and error bodies as the ASP.NET service wrote them.

use crate::both_backends;
use crate::helpers::*;

const DENIED: &str = r#"{"Message":"Authorization has been denied for this request."}"#;
const INVALID: &str = r#"{"Message":"The request is invalid."}"#;

async fn sessions_are_byte_identical_to_web_api(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    let reply = app.sessions("me", Some(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(reply.header("cache-control"), "no-cache");
    assert_eq!(reply.body, learner_rest_body());

    let empty = app
        .sessions("me", Some(&app.token(LONER, &["Student"])))
        .await;
    assert_eq!((empty.status, empty.body.as_str()), (200, "[]"));
}

async fn media_types_follow_the_accept_header(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    for (accept, expected) in [
        ("text/json", "text/json; charset=utf-8"),
        (
            "application/json;q=0.4, text/json;q=0.9",
            "text/json; charset=utf-8",
        ),
        ("application/json", "application/json; charset=utf-8"),
        ("application/xml", "application/json; charset=utf-8"),
        ("*/*", "application/json; charset=utf-8"),
    ] {
        let request = app
            .client
            .get(format!("{}/users/me/sessions", app.base))
            .bearer_auth(&token)
            .header("accept", accept);
        let reply = app.send(request).await;
        assert_eq!(reply.status, 200, "{accept}");
        assert_eq!(reply.header("content-type"), expected, "{accept}");
        assert_eq!(reply.body, learner_rest_body(), "{accept}");
    }
    // Error bodies are negotiated too.
    let request = app
        .client
        .get(format!("{}/users/me/sessions", app.base))
        .header("accept", "text/json");
    let reply = app.send(request).await;
    assert_eq!(
        (reply.status, reply.header("content-type")),
        (401, "text/json; charset=utf-8")
    );
}

async fn routing_matches_web_api(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(LEARNER, &["Student"]);
    for path in [
        "/USERS/me/Sessions",
        "/users/me/sessions/",
        "/users/me/sessions?x=1",
        "/users/%20me%20/sessions",
    ] {
        let reply = app.get(path, Some(&token)).await;
        assert_eq!(
            (reply.status, reply.body.clone()),
            (200, learner_rest_body()),
            "{path}"
        );
    }
    let reply = app.get("/users/me/sessions/extra", Some(&token)).await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.header("content-type"),
        "application/json; charset=utf-8"
    );
    let host = app.base.trim_start_matches("http://");
    assert_eq!(
        reply.body,
        format!(
            r#"{{"Message":"No HTTP resource was found that matches the request URI 'http://{host}/users/me/sessions/extra'."}}"#
        )
    );
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let request = app
            .client
            .request(
                method.parse().unwrap(),
                format!("{}/users/me/sessions", app.base),
            )
            .bearer_auth(&token);
        let reply = app.send(request).await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), "GET");
        assert_eq!(
            reply.body,
            format!(
                r#"{{"Message":"The requested resource does not support http method '{method}'."}}"#
            )
        );
    }
}

async fn checks_run_in_the_contract_order(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    // No header: 401 with the challenge, whatever the identifier.
    for identifier in ["me", "%20", LEARNER] {
        let reply = app.sessions(identifier, None).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (401, DENIED),
            "{identifier}"
        );
        assert_eq!(reply.header("www-authenticate"), "Bearer");
    }
    // A bad token: 401 before anything else.
    let reply = app.sessions("%20", Some("not-a-jwt")).await;
    assert_eq!((reply.status, reply.body.as_str()), (401, DENIED));
    // A malformed identifier: 400, even for a caller whose roles would be refused.
    let long = "a".repeat(257);
    for (identifier, roles) in [
        ("%20%20", &["Student"][..]),
        (long.as_str(), &["Student"]),
        ("ana%01k", &["Student"]),
        ("%09", &["QA"]),
    ] {
        let reply = app
            .sessions(identifier, Some(&app.token(LEARNER, roles)))
            .await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (400, INVALID),
            "{identifier}"
        );
    }
    // 256 characters is still an identifier (a login nobody has).
    let reply = app
        .sessions(&"a".repeat(256), Some(&app.token(S1, &["StaffMember"])))
        .await;
    assert_eq!((reply.status, reply.body.as_str()), (403, DENIED));
}

async fn health_and_readiness(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    assert_eq!(app.get("/healthz", None).await.status, 200);
    let ready = app.get("/readyz", None).await;
    assert_eq!(
        (ready.status, ready.json()["status"].as_str()),
        (200, Some("ready"))
    );
}

both_backends!(
    sessions_are_byte_identical_to_web_api,
    media_types_follow_the_accept_header,
    routing_matches_web_api,
    checks_run_in_the_contract_order,
    health_and_readiness,
);
