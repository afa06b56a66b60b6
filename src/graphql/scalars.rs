//! The custom scalars of contract §6.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::domain::{parse_guid, IdentifierError, Instant, UserIdentifier};

/// A user: a GUID (32 hex digits, or hyphenated, the hyphenated form also inside {} or ()),
/// "me", or a login.
/// Any string is accepted here; a malformed one is reported by the field as BAD_USER_INPUT.
pub struct UserIdentifierArg(Result<UserIdentifier, IdentifierError>);

impl UserIdentifierArg {
    pub fn outcome(&self) -> Result<&UserIdentifier, IdentifierError> {
        self.0.as_ref().map_err(|e| *e)
    }
}

/// A user: a GUID (32 hex digits, or hyphenated, the hyphenated form also inside {} or ()),
/// "me" for the caller, or a login (case-insensitive).
#[Scalar(name = "UserIdentifier")]
impl ScalarType for UserIdentifierArg {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Ok(Self(UserIdentifier::parse(&text))),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        match &self.0 {
            Ok(UserIdentifier::Me) => Value::String("me".into()),
            Ok(UserIdentifier::Id(id)) => Value::String(id.to_string()),
            Ok(UserIdentifier::Login(login)) => Value::String(login.key().into()),
            Err(_) => Value::Null,
        }
    }
}

/// A GUID, written lowercase and hyphenated.
pub struct Guid(pub uuid::Uuid);

/// A GUID, written lowercase and hyphenated.
#[Scalar(name = "UUID")]
impl ScalarType for Guid {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => parse_guid(text.trim())
                .map(Guid)
                .ok_or_else(|| InputValueError::custom(format!("{text:?} is not a GUID"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.hyphenated().to_string())
    }
}

/// An instant, RFC 3339 in UTC (`Z`), to the microsecond.
pub struct DateTime(pub Instant);

/// An instant in RFC 3339, in UTC, to the microsecond.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => crate::domain::parse_instant(text)
                .map(DateTime)
                .map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

/// A 64-bit integer, written as a JSON number.
pub struct Long(pub i64);

/// A 64-bit integer, written as a JSON number.
#[Scalar(name = "Long")]
impl ScalarType for Long {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_i64()
                .map(Long)
                .ok_or_else(|| InputValueError::custom("not a 64-bit integer")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}
