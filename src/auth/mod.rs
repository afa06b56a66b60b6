//! Who the caller is: the bearer token is verified and its subject resolved to a user id
//! before any resolver or handler runs. The decision about access lives in `policy`.

pub mod keys;
pub mod policy;
pub mod token;

use axum::http::{header, HeaderMap};

use crate::domain::{AuthenticatedUser, Caller};
use crate::error::AppError;
use crate::store::Store;
pub use token::{Subject, TokenIssuer, TokenVerifier};

/// No header is anonymous; a header that is anything but one valid bearer token is an error.
pub async fn authenticate(
    headers: &HeaderMap,
    verifier: &TokenVerifier,
    store: &Store,
) -> Result<Caller, AppError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(Caller::Anonymous);
    };
    if values.next().is_some() {
        return Err(AppError::invalid_token(
            "more than one Authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AppError::invalid_token("the Authorization header is not ASCII"))?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(AppError::invalid_token(
                "the Authorization header is not \"Bearer <token>\"",
            ))
        }
    };
    if token.is_empty() {
        return Err(AppError::invalid_token("the bearer token is empty"));
    }
    let verified = verifier.verify(token).map_err(AppError::invalid_token)?;
    let id = match verified.subject {
        Subject::Id(id) => id,
        Subject::Login(login) => store
            .resolve_login(&login)
            .await?
            .ok_or_else(|| AppError::invalid_token("the token's subject matches no user"))?,
    };
    Ok(Caller::User(AuthenticatedUser {
        id,
        roles: verified.roles,
    }))
}
