//! Client assertions (`private_key_jwt`): a JWT the service principal signs with its
//! certificate's key, checked as Entra ID checks it: RS256 or PS256, the certificate named by
//! `x5t` (SHA-1) or `x5t#S256`, the signature, `aud` = the token endpoint, `iss` = `sub` =
//! the client ID, and the validity window (with five minutes of clock skew).
//!
//! Every failure is `invalid_client` (401) with the AADSTS code Entra ID uses for it.
//!
//! [`verify`] gets the certificate and the accepted audiences from [`super::grants`] and returns
//! the [`EntraError`] the token endpoint answers with; the assertion itself is never echoed.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value as Json;

use super::directory::truncate;
use super::error::EntraError;
use super::keys::{JwsAlgorithm, KeyMaterial};
use crate::Sim;
use crate::http::json_response;

/// The `client_assertion_type` Entra ID accepts.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Tolerated clock skew, seconds.
const SKEW: i64 = 300;

/// What the assertion is checked against.
pub struct Expected<'a> {
    /// The certificate Entra ID holds for the app, if any.
    pub certificate: Option<&'a KeyMaterial>,
    /// Token endpoint URLs the `aud` may name (the path as requested and canonical).
    pub audiences: &'a [String],
    /// The client ID.
    pub client_id: &'a str,
    /// Now, Unix seconds, by the simulator's clock.
    pub now: i64,
}

const DOCS: &str = "Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials .";

/// AADSTS50027: the assertion is not a JWT.
fn malformed() -> EntraError {
    EntraError::invalid_client(50027, "JWT token is invalid or malformed.")
}

/// A JWT part, base64url with or without padding.
fn decode_part(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
        .or_else(|| URL_SAFE.decode(s).ok())
}

/// Verifies a client assertion; `Ok` means the client proved it holds the certificate's key.
pub fn verify(assertion: &str, expected: &Expected<'_>) -> Result<(), EntraError> {
    let mut parts = assertion.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let header: Json = decode_part(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    let claims: Json = decode_part(p)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(malformed)?;
    let signature = decode_part(s).ok_or_else(malformed)?;

    let alg = match header.get("alg").and_then(Json::as_str) {
        Some("RS256") => JwsAlgorithm::Rs256,
        Some("PS256") => JwsAlgorithm::Ps256,
        other => {
            return Err(EntraError::invalid_client(
                5002738,
                format!(
                    "Invalid JWT token. '{}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'",
                    truncate(other.unwrap_or(""), 20)
                ),
            ));
        }
    };

    // The thumbprint the client says it used, as the AADSTS messages show it (hex).
    let sha1_hint = header.get("x5t").and_then(Json::as_str);
    let sha256_hint = header.get("x5t#S256").and_then(Json::as_str);
    let shown = sha1_hint
        .or(sha256_hint)
        .and_then(decode_part)
        .map(|b| b.iter().map(|x| format!("{x:02X}")).collect::<String>())
        .unwrap_or_default();
    let key_not_found = || {
        EntraError::invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                truncate(&shown, 64),
                truncate(expected.client_id, 100)
            ),
        )
    };
    let Some(cert) = expected.certificate else {
        return Err(key_not_found());
    };
    let named = match (sha1_hint, sha256_hint) {
        (Some(t), _) => t.trim_end_matches('=') == cert.x5t,
        (None, Some(t)) => t.trim_end_matches('=') == cert.x5t_s256,
        (None, None) => false,
    };
    if !named {
        return Err(key_not_found());
    }
    let signed = &assertion[..h.len() + 1 + p.len()];
    if !cert.verify(alg, signed.as_bytes(), &signature) {
        return Err(EntraError::invalid_client(
            700027,
            format!(
                "Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{}']",
                cert.thumbprint_hex()
            ),
        ));
    }

    match claims.get("aud") {
        Some(Json::String(aud)) => {
            let aud = aud.trim_end_matches('/');
            if !expected
                .audiences
                .iter()
                .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(aud))
            {
                return Err(EntraError::invalid_client(
                    50012,
                    "Client assertion audience claim does not match Realm issuer.",
                ));
            }
        }
        _ => return Err(malformed()),
    }
    let iss = claims.get("iss").and_then(Json::as_str).unwrap_or("");
    let sub = claims.get("sub").and_then(Json::as_str).unwrap_or("");
    if iss != sub {
        return Err(EntraError::invalid_client(
            50048,
            "Subject mismatches Issuer claim in the client assertion.",
        ));
    }
    if !iss.eq_ignore_ascii_case(expected.client_id) {
        return Err(EntraError::invalid_client(
            700021,
            format!(
                "Client assertion application identifier doesn't match 'client_id' parameter. {DOCS}"
            ),
        ));
    }
    // NumericDate may have a fraction (RFC 7519); MSAL for Python sends `time.time()` floats.
    let seconds = |v: &Json| v.as_i64().or_else(|| v.as_f64().map(|f| f.floor() as i64));
    let exp = claims.get("exp").and_then(seconds).ok_or_else(malformed)?;
    let nbf = claims.get("nbf").and_then(seconds);
    // `exp` is the client's number: saturate rather than overflow on absurd values.
    if expected.now > exp.saturating_add(SKEW)
        || nbf.is_some_and(|nbf| nbf > expected.now.saturating_add(SKEW))
    {
        let when = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map(super::error::ests_timestamp)
                .unwrap_or_default()
        };
        return Err(EntraError::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {DOCS}",
                when(expected.now),
                nbf.map(when).unwrap_or_default(),
                when(exp)
            ),
        ));
    }
    Ok(())
}

/// `GET /_sim/client-certificate`: the service principal's certificate and private key (PEM)
/// and thumbprints, so a test or a real client (azure-identity's `CertificateCredential`) can
/// sign assertions. Simulator-only, like the client secret in the start-up line.
pub async fn client_certificate_endpoint(State(sim): State<Arc<Sim>>) -> Response {
    match sim
        .tokens
        .client_certificate_async(&sim.options.identity)
        .await
    {
        Some(c) => json_response(
            StatusCode::OK,
            serde_json::json!({
                "clientId": sim.options.identity.client_id,
                "certificatePem": c.certificate_pem,
                "privateKeyPem": c.private_key_pem,
                "thumbprint": c.thumbprint_hex(),
                "x5t": c.x5t,
                "x5tS256": c.x5t_s256,
            }),
        ),
        None => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": {"code": "NoClientCertificate",
                "message": "The configured client certificate or its key is unusable."}}),
        ),
    }
}
