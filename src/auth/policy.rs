//! The authorization policy of `GET users/{userIdentifier}/sessions` (contract §5), as one pure
//! function. The GraphQL resolver and the REST route both reach it through `sessions.rs`;
//! nothing else decides access.

use crate::domain::{AuthenticatedUser, Role, RoleSet, UserId};

/// Rule 2 of the original page.
const RULE_2: RoleSet = RoleSet::of(&[
    Role::StaffMember,
    Role::Student,
    Role::Administrator,
    Role::ProspectWithTrial,
    Role::User,
]);

/// Rule 3 of the original page.
const RULE_3: RoleSet = RoleSet::of(&[
    Role::StaffMember,
    Role::Student,
    Role::QA,
    Role::ISUSTeacher,
    Role::Administrator,
    Role::FocusTool,
    Role::ProspectWithTrial,
    Role::User,
]);

/// What the database says about the user an identifier names, relative to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The identifier names the caller (by `me`, by their id, or by their login).
    Caller,
    /// Another existing user; `caller_assigned_to_their_center` is true when the caller has a
    /// staff assignment to a center this user belongs to (whatever the caller's roles).
    Other {
        id: UserId,
        caller_assigned_to_their_center: bool,
    },
    /// Nobody: an unknown id or login.
    Nobody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied;

/// Rules 2 and 3: the roles alone. Checked before any database work, so a caller whose roles can
/// never pass costs no query.
pub fn roles_permit(roles: RoleSet) -> bool {
    roles.intersects(RULE_2) && roles.intersects(RULE_3)
}

/// The staff branch of rule 1: only these roles can ever read another user's sessions.
pub fn may_read_others(roles: RoleSet) -> bool {
    roles.contains(Role::StaffMember)
}

/// Rule 1: the relation between caller and target. No role bypasses it.
fn relation_permits(roles: RoleSet, target: Target) -> bool {
    match target {
        Target::Caller => true,
        Target::Other {
            caller_assigned_to_their_center,
            ..
        } => may_read_others(roles) && caller_assigned_to_their_center,
        Target::Nobody => false,
    }
}

/// All three rules. Allowed, it names whose sessions may be read; a denial carries nothing,
/// so it cannot reveal whether the target exists.
pub fn authorize(caller: &AuthenticatedUser, target: Target) -> Result<UserId, Denied> {
    if !(roles_permit(caller.roles) && relation_permits(caller.roles, target)) {
        return Err(Denied);
    }
    match target {
        Target::Caller => Ok(caller.id),
        Target::Other { id, .. } => Ok(id),
        Target::Nobody => Err(Denied),
    }
}
