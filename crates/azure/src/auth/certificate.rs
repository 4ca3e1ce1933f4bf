//! A service principal signing in with a certificate: client credentials with a signed JWT
//! assertion (RS256, `x5t#S256`), as Entra ID documents for certificate credentials. Ours
//! rather than azure_identity's `ClientCertificateCredential`: that one needs OpenSSL at build
//! time on every platform and a PKCS#12 bundle, where users hold a PEM certificate and key.
//! Access tokens are cached in memory until five minutes before they expire.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::Scope;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use super::entra::{EntraClient, oauth_error};
use super::error::SignInError;
use super::refresh::REFRESH_MARGIN;

/// The assertion type of a signed JWT (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid; Entra ID accepts up to ten minutes.
const ASSERTION_LIFETIME: i64 = 600;

/// A service principal authenticating with a certificate and its RSA private key.
pub struct ClientCertificateCredential {
    entra: EntraClient,
    key: RsaKeyPair,
    x5t_s256: String,
    cache: Mutex<HashMap<Vec<String>, AccessToken>>,
}

impl fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificateCredential")
            .field("entra", &self.entra)
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

impl ClientCertificateCredential {
    /// A credential for the app `client_id` in `entra`'s tenant, from a PEM certificate and
    /// its RSA private key (PKCS#8 or PKCS#1 PEM; both may be in one text).
    pub fn new(
        entra: EntraClient,
        client_id: &str,
        certificate_pem: &str,
        key_pem: &str,
    ) -> Result<Self, SignInError> {
        let bad = |what: &str| SignInError::Config {
            message: format!("the client certificate's {what} cannot be read"),
        };
        let certificate = CertificateDer::pem_slice_iter(certificate_pem.as_bytes())
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| bad("certificate (PEM)"))?;
        let key = match PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| bad("private key (PEM)"))?
        {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => return Err(bad("private key (only RSA keys sign Entra ID assertions)")),
        }
        .map_err(|_| bad("RSA private key"))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, certificate.as_ref());
        Ok(ClientCertificateCredential {
            entra: entra.client_id(client_id),
            key,
            x5t_s256: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// A signed client assertion for the token endpoint.
    fn assertion(&self, audience: &str) -> Result<String, SignInError> {
        let now = self.entra.clock().now().unix_timestamp();
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t#S256": self.x5t_s256});
        let client_id = self.entra.public_client_id();
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| SignInError::Config {
                message: "cannot sign the client assertion with the certificate's key".into(),
            })?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// An app token for `scopes` (a `/.default` scope), from the cache while it has more than
    /// five minutes left.
    pub async fn token(&self, scopes: &[&str]) -> Result<AccessToken, SignInError> {
        let mut key: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        key.sort();
        let now = self.entra.clock().now();
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(t) = cached
            && t.expires_on - REFRESH_MARGIN > now
        {
            return Ok(t);
        }
        let token_url = self.entra.endpoint("token")?;
        let assertion = self.assertion(token_url.as_str())?;
        let response = self
            .entra
            .oauth()?
            .exchange_client_credentials()
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .add_extra_param("client_assertion_type", JWT_BEARER)
            .add_extra_param("client_assertion", assertion)
            .request_async(self.entra.http())
            .await
            .map_err(oauth_error)?;
        let session = self.entra.session(&response, &key);
        let token = AccessToken::new(session.access_token().clone(), session.expires_on());
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, token.clone());
        Ok(token)
    }
}

#[async_trait::async_trait]
impl TokenCredential for ClientCertificateCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        Ok(self.token(scopes).await?)
    }
}
