//! The authorization table, written by hand from the original API page (not derived from the
//! implementation): first the pure policy, then the same cases end to end on both surfaces.

use sessions_gateway::auth::policy::{authorize, Target};
use sessions_gateway::domain::{AuthenticatedUser, Role, RoleSet, UserId};

use crate::both_backends;
use crate::helpers::*;

fn user(roles: &[Role]) -> AuthenticatedUser {
    AuthenticatedUser {
        id: UserId(uuid::Uuid::nil()),
        roles: RoleSet::of(roles),
    }
}

const OTHER_ASSIGNED: Target = Target::Other {
    id: UserId(uuid::Uuid::from_u128(7)),
    caller_assigned_to_their_center: true,
};
const OTHER_UNASSIGNED: Target = Target::Other {
    id: UserId(uuid::Uuid::from_u128(7)),
    caller_assigned_to_their_center: false,
};

#[test]
fn policy_table_from_the_seed() {
    use Role::*;
    // (roles, target, allowed?) — rule 2: StaffMember, Student, Administrator,
    // ProspectWithTrial, User; rule 3 adds QA, ISUSTeacher, FocusTool; rule 1: self, or staff
    // assigned to one of the target's centers.
    let table: &[(&[Role], Target, bool)] = &[
        // Each role alone, asking for oneself.
        (&[StaffMember], Target::Caller, true),
        (&[Student], Target::Caller, true),
        (&[QA], Target::Caller, false),
        (&[ISUSTeacher], Target::Caller, false),
        (&[Administrator], Target::Caller, true),
        (&[FocusTool], Target::Caller, false),
        (&[ProspectWithTrial], Target::Caller, true),
        (&[User], Target::Caller, true),
        (&[], Target::Caller, false),
        // Combinations: a role that fails rule 2 with one that passes it.
        (&[QA, Student], Target::Caller, true),
        (&[ISUSTeacher, FocusTool, QA], Target::Caller, false),
        (&[FocusTool, User], Target::Caller, true),
        // Another user, caller assigned to one of their centers.
        (&[StaffMember], OTHER_ASSIGNED, true),
        (&[StaffMember, QA], OTHER_ASSIGNED, true),
        (&[Student], OTHER_ASSIGNED, false),
        (&[Administrator], OTHER_ASSIGNED, false),
        (&[QA], OTHER_ASSIGNED, false),
        (&[], OTHER_ASSIGNED, false),
        // Another user, no shared assignment: no role bypasses rule 1.
        (&[StaffMember], OTHER_UNASSIGNED, false),
        (&[StaffMember, Administrator], OTHER_UNASSIGNED, false),
        (
            &[Administrator, User, Student, ProspectWithTrial],
            OTHER_UNASSIGNED,
            false,
        ),
        // Nobody by that identifier.
        (&[StaffMember], Target::Nobody, false),
        (&[Administrator], Target::Nobody, false),
    ];
    for (roles, target, allowed) in table {
        // Allowed, the policy names whose sessions to read: the caller's own or the target's.
        let expected = allowed.then(|| match target {
            Target::Other { id, .. } => *id,
            _ => user(roles).id,
        });
        assert_eq!(
            authorize(&user(roles), *target).ok(),
            expected,
            "roles {roles:?}, target {target:?}"
        );
    }
}

enum Expect {
    Sessions(&'static [&'static str]),
    Denied,
}

/// (caller sub, roles, identifier, expected): the seed's rules on the fixture.
fn http_table() -> Vec<(&'static str, &'static [&'static str], String, Expect)> {
    use Expect::*;
    const LEARNER_SESSIONS: &[&str] = &[SESSION_A, SESSION_B, SESSION_C];
    let unknown_id = "99999999-0000-4000-8000-000000000000".to_string();
    vec![
        // Self, by every identifier form.
        (
            LEARNER,
            &["Student"],
            "me".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            "ME".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            LEARNER.into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            LEARNER.to_uppercase(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            LEARNER.replace('-', ""),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            format!("{{{LEARNER}}}"),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            format!("({})", LEARNER.to_uppercase()),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            "learner.one".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["Student"],
            "LEARNER.ONE".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        // Self, by roles.
        (LEARNER, &["QA"], "me".into(), Denied),
        (LEARNER, &[], "me".into(), Denied),
        (LEARNER, &["ISUSTeacher", "FocusTool"], "me".into(), Denied),
        (
            LEARNER,
            &["QA", "Student"],
            "me".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            LEARNER,
            &["ProspectWithTrial"],
            "me".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (LEARNER, &["Unknown", "student"], "me".into(), Denied),
        // A learner of the same center, and an administrator, may not read another user.
        (LEARNER, &["Student"], PEER.into(), Denied),
        (LEARNER, &["Administrator"], PEER.into(), Denied),
        // Staff of a shared center, by id and by login.
        (
            S1,
            &["StaffMember"],
            LEARNER.into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            S1,
            &["StaffMember"],
            "learner.one".into(),
            Sessions(LEARNER_SESSIONS),
        ),
        (
            S1,
            &["StaffMember", "QA"],
            PEER.into(),
            Sessions(&[SESSION_C]),
        ),
        // Staff of another center; the staff role without an assignment; an assignment
        // without the staff role.
        (S1, &["StaffMember"], FAR.into(), Denied),
        (S2, &["StaffMember"], LEARNER.into(), Denied),
        (S2, &["StaffMember"], FAR.into(), Sessions(&[SESSION_D])),
        (S3, &["StaffMember"], LEARNER.into(), Denied),
        (S1, &["Student"], LEARNER.into(), Denied),
        (S1, &["Administrator"], LEARNER.into(), Denied),
        // Unknown id and unknown login: denied like any other refusal.
        (S1, &["StaffMember"], unknown_id.clone(), Denied),
        (S1, &["StaffMember"], "nobody.here".into(), Denied),
        // Oneself with no sessions, and a caller id that no user row has.
        (S1, &["StaffMember"], "me".into(), Sessions(&[])),
        (LONER, &["User"], LONER.into(), Sessions(&[])),
        (
            "99999999-0000-4000-8000-000000000000",
            &["Student"],
            "me".into(),
            Sessions(&[]),
        ),
        (
            "99999999-0000-4000-8000-000000000000",
            &["Student"],
            unknown_id,
            Sessions(&[]),
        ),
        // A login as the token subject.
        (
            "staff.one",
            &["StaffMember"],
            LEARNER.into(),
            Sessions(LEARNER_SESSIONS),
        ),
        ("STAFF.ONE", &["StaffMember"], "me".into(), Sessions(&[])),
    ]
}

async fn authorization_table_on_both_surfaces(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let denied_body = r#"{"Message":"Authorization has been denied for this request."}"#;
    for (sub, roles, identifier, expected) in http_table() {
        let token = app.token(sub, roles);
        let case = format!("{sub} {roles:?} -> {identifier:?}");
        let rest = app
            .sessions(
                &identifier.replace('{', "%7B").replace('}', "%7D"),
                Some(&token),
            )
            .await;
        let query =
            format!(r#"{{ userSessions(userIdentifier: "{identifier}") {{ meetingUrl }} }}"#);
        let gql = app.graphql(&query, Some(&token)).await;
        assert_eq!(gql.status, 200, "{case}: {}", gql.body);
        let gql = gql.json();
        match expected {
            Expect::Sessions(ids) => {
                assert_eq!(rest.status, 200, "{case}: {}", rest.body);
                let urls: Vec<String> = ids.iter().map(|id| url_of(id)).collect();
                assert_eq!(rest.rest_meeting_urls(), urls, "{case} (REST)");
                assert_eq!(
                    meeting_urls(&gql["data"]["userSessions"]),
                    urls,
                    "{case} (GraphQL)"
                );
                assert!(gql.get("errors").is_none(), "{case}: {gql}");
            }
            Expect::Denied => {
                assert_eq!(rest.status, 403, "{case}");
                assert_eq!(rest.body, denied_body, "{case}");
                assert_eq!(
                    gql["data"]["userSessions"],
                    serde_json::Value::Null,
                    "{case}"
                );
                assert_eq!(codes(&gql), ["FORBIDDEN"], "{case}");
                assert!(
                    !gql.to_string().contains("meet.example.test"),
                    "{case}: data leaked"
                );
            }
        }
    }
}

/// A denial for an existing user and for an unknown one must be indistinguishable.
async fn denials_do_not_reveal_existence(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = app.with_fixture().await;
    let token = app.token(S2, &["StaffMember"]);
    let existing = app.sessions(LEARNER, Some(&token)).await;
    let unknown = app
        .sessions("99999999-0000-4000-8000-000000000000", Some(&token))
        .await;
    let unknown_login = app.sessions("no.such.login", Some(&token)).await;
    for reply in [&existing, &unknown, &unknown_login] {
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (existing.status, existing.body.as_str())
        );
    }
    let q = |id: &str| format!(r#"{{ userSessions(userIdentifier: "{id}") {{ name }} }}"#);
    let a = app.graphql(&q(LEARNER), Some(&token)).await.json();
    let b = app.graphql(&q("no.such.login"), Some(&token)).await.json();
    assert_eq!(a["errors"][0]["message"], b["errors"][0]["message"]);
    assert_eq!(a["data"], b["data"]);
}

both_backends!(
    authorization_table_on_both_surfaces,
    denials_do_not_reveal_existence
);
