//! JWT verification (and, for development and tests, minting) with `jsonwebtoken`.

use std::collections::HashSet;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{parse_guid, Login, Role, RoleSet, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Id(UserId),
    Login(Login),
}

#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub subject: Subject,
    pub roles: RoleSet,
}

/// A role claim may be one name or a list of names.
#[derive(Deserialize, Serialize)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    roles: Option<Names>,
    role: Option<Names>,
    #[serde(rename = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role")]
    ms_role: Option<Names>, // the ASP.NET claim type for roles
}

pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

#[derive(Debug, Clone)]
pub struct VerifierSettings {
    pub algorithm: Algorithm,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Duration,
}

impl TokenVerifier {
    pub fn new(key: DecodingKey, settings: &VerifierSettings) -> Self {
        let mut validation = Validation::new(settings.algorithm);
        let mut required: HashSet<String> = ["exp", "sub"].map(String::from).into();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = settings.leeway.as_secs();
        if let Some(issuer) = &settings.issuer {
            validation.set_issuer(&[issuer]);
            required.insert("iss".into());
        }
        match &settings.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        validation.required_spec_claims = required;
        Self { key, validation }
    }

    /// Checks signature, algorithm, time claims and configured issuer/audience, then reads the
    /// subject and roles. The error is a short reason fit for the client.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, String> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(describe)?;
        let claims = data.claims;
        let sub = claims.sub.trim();
        if sub.is_empty() {
            return Err("the sub claim is empty".into());
        }
        let subject = match parse_guid(sub) {
            Some(id) => Subject::Id(UserId(id)),
            None => Subject::Login(Login::from_raw(sub)),
        };
        let roles = [claims.roles, claims.role, claims.ms_role]
            .into_iter()
            .flatten()
            .flat_map(|names| match names {
                Names::One(name) => vec![name],
                Names::Many(names) => names,
            })
            .filter_map(|name| Role::from_name(&name))
            .collect();
        Ok(VerifiedToken { subject, roles })
    }
}

fn describe(err: jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match err.kind() {
        ExpiredSignature => "the token has expired".into(),
        ImmatureSignature => "the token is not valid yet (nbf)".into(),
        InvalidSignature => "the signature does not verify".into(),
        InvalidAlgorithm | InvalidAlgorithmName => {
            "the token's algorithm is not the configured one".into()
        }
        InvalidIssuer => "the issuer is not the configured one".into(),
        InvalidAudience => "the audience is not the configured one".into(),
        // jsonwebtoken reports a claim of the wrong type as missing, so say both.
        MissingRequiredClaim(claim) | InvalidClaimFormat(claim) => {
            format!("the {claim} claim is missing or malformed")
        }
        Json(_) => "the token's claims are malformed".into(),
        _ => "the token is malformed".into(),
    }
}

/// Mints HS256 tokens: the `token` command, the demo tokens printed at first run, and tests.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
}

#[derive(Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    roles: Vec<&'a str>,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

impl TokenIssuer {
    pub fn hs256(
        secret: &[u8],
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            key: EncodingKey::from_secret(secret)?,
            issuer,
            audience,
        })
    }

    pub fn mint(
        &self,
        sub: &str,
        roles: &[String],
        ttl: Duration,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = MintedClaims {
            sub,
            roles: roles.iter().map(String::as_str).collect(),
            iat: now,
            nbf: now,
            // The ttl is bounded at parse time (ten years), so this cannot overflow.
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
    }
}
