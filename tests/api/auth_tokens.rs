//! Token verification on both surfaces (cases K10, K11): every invalid token is a 401 before
//! anything runs, never data and never a 500.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::*;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(claims: &Value, algorithm: Algorithm, key: &EncodingKey) -> String {
    encode(&Header::new(algorithm), claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(
        claims,
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
}

fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    )
}

/// Sends `authorization` (a whole header value) to both surfaces and expects 401s with no data.
async fn assert_rejected(app: &TestApp, authorization: &str, case: &str) {
    let rest = app
        .send(
            app.client
                .get(format!("{}/users/me/sessions", app.base))
                .header("authorization", authorization),
        )
        .await;
    assert_eq!(rest.status, 401, "{case} (REST): {}", rest.body);
    assert_eq!(
        rest.body, r#"{"Message":"Authorization has been denied for this request."}"#,
        "{case}"
    );
    assert_eq!(rest.header("www-authenticate"), "Bearer");
    let gql = app
        .send(
            app.client
                .post(format!("{}/graphql", app.base))
                .header("authorization", authorization)
                .header("content-type", "application/json")
                .body(r#"{"query":"{ userSessions(userIdentifier: \"me\") { meetingUrl } }"}"#),
        )
        .await;
    assert_eq!(gql.status, 401, "{case} (GraphQL): {}", gql.body);
    let body = gql.json();
    assert!(body.get("data").is_none(), "{case}: {body}");
    assert_eq!(codes(&body), ["UNAUTHENTICATED"], "{case}");
}

async fn assert_accepted(app: &TestApp, token: &str, case: &str) {
    let rest = app.sessions("me", Some(token)).await;
    assert_eq!(rest.status, 200, "{case}: {}", rest.body);
}

async fn forged_and_broken_tokens_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let claims = json!({"sub": LEARNER, "roles": ["Student"], "exp": now() + 600});
    let valid = hs256(&claims);
    assert_accepted(&app, &valid, "a valid token").await;
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut altered = signature.to_owned();
    altered.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });

    let cases = [
        (
            "alg none",
            format!(
                "Bearer {}",
                unsigned(&json!({"alg": "none", "typ": "JWT"}), &claims, "")
            ),
        ),
        (
            "alg none with a signature",
            format!(
                "Bearer {}",
                unsigned(&json!({"alg": "none"}), &claims, "c2lnbmF0dXJl")
            ),
        ),
        ("signature removed", format!("Bearer {head}.{payload}.")),
        (
            "signature altered",
            format!("Bearer {head}.{payload}.{altered}"),
        ),
        ("two parts", format!("Bearer {head}.{payload}")),
        ("not a JWT", "Bearer not-a-jwt".to_owned()),
        ("empty bearer", "Bearer".to_owned()),
        ("empty bearer with space", "Bearer  ".to_owned()),
        ("another scheme", format!("Basic {valid}")),
        (
            "another secret",
            format!(
                "Bearer {}",
                sign(
                    &claims,
                    Algorithm::HS256,
                    &EncodingKey::from_secret(b"another-secret-another-secret-xx").unwrap()
                )
            ),
        ),
        (
            "another algorithm",
            format!(
                "Bearer {}",
                sign(
                    &claims,
                    Algorithm::HS384,
                    &EncodingKey::from_secret(SECRET.as_bytes()).unwrap()
                )
            ),
        ),
        (
            "expired",
            format!(
                "Bearer {}",
                hs256(&json!({"sub": LEARNER, "roles": ["Student"], "exp": now() - 120}))
            ),
        ),
        (
            "not yet valid",
            format!(
                "Bearer {}",
                hs256(
                    &json!({"sub": LEARNER, "roles": ["Student"], "exp": now() + 600, "nbf": now() + 120})
                )
            ),
        ),
        (
            "no exp",
            format!(
                "Bearer {}",
                hs256(&json!({"sub": LEARNER, "roles": ["Student"]}))
            ),
        ),
        (
            "exp as a string",
            format!(
                "Bearer {}",
                hs256(
                    &json!({"sub": LEARNER, "roles": ["Student"], "exp": (now() + 600).to_string()})
                )
            ),
        ),
        (
            "nbf as a string",
            format!(
                "Bearer {}",
                hs256(&json!({"sub": LEARNER, "exp": now() + 600, "nbf": "yesterday"}))
            ),
        ),
        (
            "no sub",
            format!(
                "Bearer {}",
                hs256(&json!({"roles": ["Student"], "exp": now() + 600}))
            ),
        ),
        (
            "a login that matches no user",
            format!(
                "Bearer {}",
                hs256(&json!({"sub": "ghost", "roles": ["Student"], "exp": now() + 600}))
            ),
        ),
        (
            "roles of the wrong type",
            format!(
                "Bearer {}",
                hs256(&json!({"sub": LEARNER, "roles": {"a": 1}, "exp": now() + 600}))
            ),
        ),
    ];
    for (case, header) in &cases {
        assert_rejected(&app, header, case).await;
    }
    // The leeway (30 s by default) covers a little clock skew.
    let skewed =
        hs256(&json!({"sub": LEARNER, "roles": ["Student"], "exp": now() - 10, "nbf": now() + 10}));
    assert_accepted(&app, &skewed, "within the leeway").await;
    // Role claims under every accepted name and shape.
    for claims in [
        json!({"sub": LEARNER, "role": "Student", "exp": now() + 600}),
        json!({"sub": LEARNER, "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": ["Nope", "Student"], "exp": now() + 600}),
    ] {
        assert_accepted(&app, &hs256(&claims), &claims.to_string()).await;
    }
    // Still serving.
    assert_accepted(&app, &valid, "after the forgeries").await;
}

async fn issuer_and_audience_are_required_when_configured(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        &[
            "--jwt-issuer",
            "https://idp.test",
            "--jwt-audience",
            "sessions",
            "--jwt-leeway-secs",
            "0",
        ],
    )
    .await
    else {
        return;
    };
    let app = app.with_fixture().await;
    let base = |extra: Value| {
        let mut claims = json!({"sub": LEARNER, "roles": ["Student"], "exp": now() + 600, "iss": "https://idp.test", "aud": "sessions"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        hs256(&claims)
    };
    assert_accepted(&app, &base(json!({})), "issuer and audience right").await;
    assert_accepted(
        &app,
        &base(json!({"aud": ["other", "sessions"]})),
        "audience in a list",
    )
    .await;
    for (case, extra) in [
        ("no aud", json!({"aud": null})),
        ("no iss", json!({"iss": null})),
        ("wrong aud", json!({"aud": "other"})),
        ("wrong iss", json!({"iss": "https://evil.test"})),
        ("no exp", json!({"exp": null})),
        ("expired, no leeway", json!({"exp": now() - 2})),
    ] {
        assert_rejected(&app, &format!("Bearer {}", base(extra)), case).await;
    }
    app.assert_still_serving().await;
}

fn key_file(name: &str) -> String {
    format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn public_keys_verify_their_algorithm_only(backend: Backend) {
    let claims = json!({"sub": LEARNER, "roles": ["Student"], "exp": now() + 600});
    let read = |name: &str| std::fs::read(key_file(name)).unwrap();
    for (algorithm, name, public, private) in [
        (
            Algorithm::RS256,
            "RS256",
            "rsa-public.pem",
            EncodingKey::from_rsa_pem(&read("rsa-private.pem")).unwrap(),
        ),
        (
            Algorithm::PS256,
            "PS256",
            "rsa-public.pem",
            EncodingKey::from_rsa_pem(&read("rsa-private.pem")).unwrap(),
        ),
        (
            Algorithm::ES256,
            "ES256",
            "ec256-public.pem",
            EncodingKey::from_ec_pem(&read("ec256-private.pk8.pem")).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            "EdDSA",
            "ed25519-public.pem",
            EncodingKey::from_ed_pem(&read("ed25519-private.pem")).unwrap(),
        ),
    ] {
        let public_path = key_file(public);
        let Some(app) = spawn_app_with(
            backend,
            &["--jwt-public-key", &public_path, "--jwt-algorithm", name],
        )
        .await
        else {
            return;
        };
        let app = app.with_fixture().await;
        assert_accepted(&app, &sign(&claims, algorithm, &private), name).await;
        // The classic confusion: an HS256 token whose secret is the public key's PEM text.
        let confused = sign(
            &claims,
            Algorithm::HS256,
            &EncodingKey::from_secret(&read(public)).unwrap(),
        );
        assert_rejected(
            &app,
            &format!("Bearer {confused}"),
            &format!("{name}: HS256 with the public key"),
        )
        .await;
        assert_rejected(
            &app,
            &format!("Bearer {}", hs256(&claims)),
            &format!("{name}: HS256 token"),
        )
        .await;
    }
}

both_backends!(
    forged_and_broken_tokens_are_refused,
    issuer_and_audience_are_required_when_configured,
    public_keys_verify_their_algorithm_only,
);
