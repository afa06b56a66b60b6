//! The application's one error type and the one table that maps it to each surface: HTTP
//! status, the Web API `Message`, and GraphQL's `extensions.code` and message.

use axum::http::StatusCode;

use crate::domain::IdentifierError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// A header that is not a valid token; the reason is safe to show (it names the check that
    /// failed, never key material).
    Invalid(String),
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("unauthenticated: {0:?}")]
    Unauthenticated(AuthFailure),
    #[error("bad user identifier: {0}")]
    BadIdentifier(IdentifierError),
    #[error("forbidden")]
    Forbidden,
    /// The cause is logged once, when the error is made, and never shown to a client.
    #[error("internal error")]
    Internal,
}

pub const MESSAGE_DENIED: &str = "Authorization has been denied for this request.";
pub const MESSAGE_INVALID: &str = "The request is invalid.";
pub const MESSAGE_INTERNAL: &str = "An error has occurred.";

impl AppError {
    /// Logs `cause` (with its chain) and returns the opaque error clients see.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        AppError::Internal
    }

    pub fn invalid_token(reason: impl Into<String>) -> Self {
        AppError::Unauthenticated(AuthFailure::Invalid(reason.into()))
    }

    /// The REST status; GraphQL uses it only for token failures (HTTP 401).
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::BadIdentifier(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `Message` the ASP.NET Web API service wrote for this outcome.
    pub fn web_api_message(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) | AppError::Forbidden => MESSAGE_DENIED,
            AppError::BadIdentifier(_) => MESSAGE_INVALID,
            AppError::Internal => MESSAGE_INTERNAL,
        }
    }

    pub fn graphql_code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::BadIdentifier(_) => "BAD_USER_INPUT",
            AppError::Forbidden => "FORBIDDEN",
            AppError::Internal => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn graphql_message(&self) -> String {
        match self {
            AppError::Unauthenticated(AuthFailure::Missing) => {
                "Authentication required: send an Authorization: Bearer <token> header.".to_owned()
            }
            AppError::Unauthenticated(AuthFailure::Invalid(reason)) => {
                format!("The bearer token was rejected: {reason}.")
            }
            AppError::BadIdentifier(why) => format!("Invalid userIdentifier: {why}."),
            AppError::Forbidden => "You are not allowed to read this user's sessions.".to_owned(),
            AppError::Internal => "Internal server error.".to_owned(),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        AppError::internal(format!("database: {err}"))
    }
}
