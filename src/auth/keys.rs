//! Where the signing key comes from: a configured secret or public key, or (SQLite only) a
//! development secret kept in a file beside the database.

use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, DecodingKey};

use super::token::{TokenIssuer, TokenVerifier, VerifierSettings};
use crate::config::{Backend, ConfigError, SettingsArgs};

pub struct Keys {
    pub verifier: TokenVerifier,
    /// Present when tokens can be minted here (a shared secret).
    pub issuer: Option<TokenIssuer>,
    /// The development secret file, when that is where the secret came from.
    pub dev_secret_file: Option<PathBuf>,
}

pub fn load(settings: &SettingsArgs) -> Result<Keys, ConfigError> {
    let verifier_settings = |algorithm| VerifierSettings {
        algorithm,
        issuer: settings.jwt_issuer.clone(),
        audience: settings.jwt_audience.clone(),
        leeway: std::time::Duration::from_secs(settings.jwt_leeway_secs),
    };
    if let (Some(path), Some(algorithm)) = (&settings.jwt_public_key, settings.jwt_algorithm) {
        let key = public_key(path, algorithm)?;
        return Ok(Keys {
            verifier: TokenVerifier::new(key, &verifier_settings(algorithm)),
            issuer: None,
            dev_secret_file: None,
        });
    }
    let (secret, dev_secret_file) = match &settings.jwt_secret {
        Some(secret) => (secret.clone().into_bytes(), None),
        None if settings.backend()? == Backend::Sqlite => {
            let (secret, file) = development_secret(settings.sqlite_file().as_deref())?;
            (secret, file)
        }
        None => {
            return Err(ConfigError::new(
                "GATEWAY_JWT_SECRET",
                "a signing key must be configured on PostgreSQL (GATEWAY_JWT_SECRET, or GATEWAY_JWT_PUBLIC_KEY with GATEWAY_JWT_ALGORITHM)",
            ))
        }
    };
    let invalid = |e: jsonwebtoken::errors::Error| {
        ConfigError::new(
            "GATEWAY_JWT_SECRET",
            format!("not a usable HS256 secret ({e})"),
        )
    };
    let decoding = DecodingKey::from_secret(&secret).map_err(invalid)?;
    let issuer = TokenIssuer::hs256(
        &secret,
        settings.jwt_issuer.clone(),
        settings.jwt_audience.clone(),
    )
    .map_err(invalid)?;
    Ok(Keys {
        verifier: TokenVerifier::new(decoding, &verifier_settings(Algorithm::HS256)),
        issuer: Some(issuer),
        dev_secret_file,
    })
}

fn public_key(path: &Path, algorithm: Algorithm) -> Result<DecodingKey, ConfigError> {
    let pem = std::fs::read(path).map_err(|e| {
        ConfigError::new(
            "GATEWAY_JWT_PUBLIC_KEY",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let key = match algorithm {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => DecodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(&pem),
        _ => {
            return Err(ConfigError::new(
                "GATEWAY_JWT_ALGORITHM",
                "is not a public-key algorithm",
            ))
        }
    };
    key.map_err(|e| {
        ConfigError::new(
            "GATEWAY_JWT_PUBLIC_KEY",
            format!(
                "{} is not a PEM {algorithm:?} public key ({e})",
                path.display()
            ),
        )
    })
}

/// Reads, or creates with owner-only permissions, the development secret beside the database.
fn development_secret(database: Option<&Path>) -> Result<(Vec<u8>, Option<PathBuf>), ConfigError> {
    let fresh = || {
        let bytes: [u8; 32] = rand::random();
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let Some(database) = database else {
        tracing::warn!(
            "no GATEWAY_JWT_SECRET: using a random development secret for this in-memory database"
        );
        return Ok((fresh().into_bytes(), None));
    };
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(".dev-jwt-secret");
    let file = database.with_file_name(name);
    let secret = match std::fs::read_to_string(&file) {
        Ok(text) if text.trim().len() >= 32 => text.trim().to_owned(),
        Ok(_) => {
            return Err(ConfigError::new(
                "GATEWAY_JWT_SECRET",
                format!("unset, and the development secret file {} is too short; delete it to make a new one", file.display()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = fresh();
            write_private(&file, &secret).map_err(|e| {
                ConfigError::new("GATEWAY_JWT_SECRET", format!("unset, and {} cannot be written: {e}", file.display()))
            })?;
            secret
        }
        Err(e) => {
            return Err(ConfigError::new("GATEWAY_JWT_SECRET", format!("unset, and {} cannot be read: {e}", file.display())))
        }
    };
    tracing::warn!(file = %file.display(), "no GATEWAY_JWT_SECRET: signing with the development secret in this file; configure a real key for production");
    Ok((secret.into_bytes(), Some(file)))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
