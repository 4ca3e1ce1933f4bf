//! Access tokens: signed JWTs with the claims Azure puts there (`tid`, `oid`, `upn`, `aud`,
//! `exp`...), and their verification on every ARM request.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::Sim;
use crate::http::Caller;

/// The claims of a simulated Entra ID token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Audience (`https://management.azure.com/` style, here the simulator's URL).
    pub aud: String,
    /// Issuer.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Tenant ID.
    pub tid: String,
    /// Object ID of the principal.
    pub oid: String,
    /// Subject.
    pub sub: String,
    /// Application ID of the client.
    pub appid: String,
    /// User principal name (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Display name (users only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `app` for service principals, absent for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    /// Scopes granted (delegated tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `exp` has passed.
    #[error("The access token expiry UTC time '{0}' is earlier than current UTC time.")]
    Expired(String),
    /// The audience is not this Resource Manager.
    #[error(
        "The access token has been obtained for wrong audience or resource '{0}'. It should exactly match with one of the allowed audiences."
    )]
    WrongAudience(String),
    /// Not a token this simulator signed.
    #[error("The access token is invalid.")]
    Invalid,
}

impl TokenError {
    /// ARM's error code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Expired(_) => "ExpiredAuthenticationToken",
            TokenError::WrongAudience(_) => "InvalidAuthenticationTokenAudience",
            TokenError::Invalid => "InvalidAuthenticationToken",
        }
    }
}

/// The signing key (a random secret per simulator run, HS256).
pub struct TokenKeys {
    secret: Vec<u8>,
}

impl TokenKeys {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut secret = vec![0u8; 32];
        rand::fill(&mut secret[..]);
        TokenKeys { secret }
    }

    /// Signs claims into a JWT.
    pub fn issue(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .unwrap_or_default()
    }

    /// Decodes and checks a token's signature, without judging expiry or audience.
    pub fn decode(&self, token: &str) -> Result<Claims, TokenError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.validate_aud = false;
        v.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &v)
            .map(|d| d.claims)
            .map_err(|_| TokenError::Invalid)
    }

    /// Verifies a token presented to ARM: signature, expiry by the simulator's clock, audience.
    pub fn verify_arm(&self, sim: &Sim, token: &str) -> Result<Caller, TokenError> {
        let claims = self.decode(token)?;
        let now = sim.now().unix_timestamp();
        if claims.exp <= now {
            let when = time::OffsetDateTime::from_unix_timestamp(claims.exp)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
            return Err(TokenError::Expired(when));
        }
        let aud = claims.aud.trim_end_matches('/').to_ascii_lowercase();
        let allowed = [
            sim.base_url.to_ascii_lowercase(),
            "https://management.azure.com".into(),
            "https://management.core.windows.net".into(),
        ];
        if !allowed.contains(&aud) {
            return Err(TokenError::WrongAudience(claims.aud));
        }
        Ok(Caller {
            object_id: claims.oid,
            tenant_id: claims.tid,
            name: claims.upn.unwrap_or(claims.appid),
        })
    }
}
