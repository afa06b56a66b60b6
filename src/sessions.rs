//! The one use-case, shared by GraphQL and REST: check the caller, resolve the target,
//! authorize, load the sessions. At most two SQL statements; none for a denial by role or for
//! a non-staff caller naming another user's id.

use crate::auth::policy;
use crate::domain::{AuthenticatedUser, Caller, IdentifierError, TeacherSession, UserIdentifier};
use crate::error::{AppError, AuthFailure};
use crate::store::Store;

/// Runs contract §5's checks in its order: anonymous, malformed identifier, policy. The
/// identifier arrives as its parse outcome so that an anonymous caller is told so first.
pub async fn user_sessions(
    store: &Store,
    caller: &Caller,
    identifier: Result<&UserIdentifier, IdentifierError>,
) -> Result<Vec<TeacherSession>, AppError> {
    let (user, identifier) = precheck(caller, identifier)?;
    let target = match identifier {
        // Only staff may read another user; without the role the answer is known unread.
        UserIdentifier::Id(id) if *id != user.id && !policy::may_read_others(user.roles) => {
            return Err(AppError::Forbidden)
        }
        _ => store.target(user.id, identifier).await?,
    };
    let whose = policy::authorize(user, target).map_err(|_| AppError::Forbidden)?;
    Ok(store.sessions_of(whose).await?)
}

/// The checks that need no database: an authenticated caller, a well-formed identifier, and
/// roles that can pass rules 2 and 3.
fn precheck<'a>(
    caller: &'a Caller,
    identifier: Result<&'a UserIdentifier, IdentifierError>,
) -> Result<(&'a AuthenticatedUser, &'a UserIdentifier), AppError> {
    let Caller::User(user) = caller else {
        return Err(AppError::Unauthenticated(AuthFailure::Missing));
    };
    let identifier = identifier.map_err(AppError::BadIdentifier)?;
    if !policy::roles_permit(user.roles) {
        return Err(AppError::Forbidden);
    }
    Ok((user, identifier))
}
