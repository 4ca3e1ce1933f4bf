//! RSA keys with self-signed certificates: the key that signs every token the simulator issues
//! (published at the JWKS endpoint with `x5c`, as Entra ID publishes its keys) and the service
//! principal's client certificate (the public part Entra ID would hold for the app).
//!
//! RSA key generation is slow in a debug build, so the signing key is generated once per process
//! at first use ([`signing_key`]); async callers go through [`signing_key_async`], which moves the
//! work off the runtime's threads.
//!
//! Errors are plain strings (they only reach a log line or a `None`): a key or certificate that
//! cannot be made or read. No private key ever appears in them, or in `Debug`.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha1::Digest as _;
use sha2::Digest as _;

/// An RSA private key with a certificate for its public part.
#[derive(Clone)]
pub struct KeyMaterial {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The certificate, DER.
    pub certificate_der: Vec<u8>,
    /// The private key, PKCS#8 PEM.
    pub private_key_pem: String,
    /// The private key, PKCS#1 DER (what `jsonwebtoken` signs with).
    pub pkcs1_der: Vec<u8>,
    /// Modulus, big-endian.
    pub modulus: Vec<u8>,
    /// Public exponent, big-endian.
    pub exponent: Vec<u8>,
    /// SHA-1 thumbprint of the certificate, base64url (`x5t`; also Entra ID's `kid`).
    pub x5t: String,
    /// SHA-256 thumbprint of the certificate, base64url (`x5t#S256`).
    pub x5t_s256: String,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("KeyMaterial")
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

impl KeyMaterial {
    /// A fresh 2048-bit RSA key and a self-signed certificate with this common name.
    pub fn generate(common_name: &str) -> Result<Self, String> {
        let mut rng = rsa::rand_core::OsRng;
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| e.to_string())?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| e.to_string())?
            .to_string();
        let rcgen_key = rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| e.to_string())?;
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(2 * 365);
        let cert = params.self_signed(&rcgen_key).map_err(|e| e.to_string())?;
        Self::assemble(&key, pem, cert.pem(), cert.der().to_vec())
    }

    /// Key material from a certificate and its private key (PKCS#8 PEM), as configured in
    /// [`crate::Identity`]. The key must be the certificate's.
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<Self, String> {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_key_pem)
            .map_err(|_| "the private key is not an RSA PKCS#8 PEM key".to_owned())?;
        let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|_| "the certificate is not a PEM certificate".to_owned())?;
        let material = Self::assemble(
            &key,
            private_key_pem.to_owned(),
            certificate_pem.to_owned(),
            der.to_vec(),
        )?;
        // Proves the pair matches: sign with the key, verify with the certificate.
        let probe = b"landfall-sim key check";
        let signature = material.sign_rs256(probe)?;
        if !material.verify(JwsAlgorithm::Rs256, probe, &signature) {
            return Err("the private key does not belong to the certificate".into());
        }
        Ok(material)
    }

    /// The material of a key and certificate, with the forms the signers and JWKS need.
    fn assemble(
        key: &rsa::RsaPrivateKey,
        private_key_pem: String,
        certificate_pem: String,
        certificate_der: Vec<u8>,
    ) -> Result<Self, String> {
        let pkcs1_der = key.to_pkcs1_der().map_err(|e| e.to_string())?;
        Ok(KeyMaterial {
            x5t: URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&certificate_der)),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&certificate_der)),
            certificate_pem,
            certificate_der,
            private_key_pem,
            pkcs1_der: pkcs1_der.as_bytes().to_vec(),
            modulus: key.n().to_bytes_be(),
            exponent: key.e().to_bytes_be(),
        })
    }

    /// The SHA-1 thumbprint as upper-case hex, as the Azure portal and AADSTS messages show it.
    pub fn thumbprint_hex(&self) -> String {
        sha1::Sha1::digest(&self.certificate_der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// Signs with RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
    fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let key = jsonwebtoken::EncodingKey::from_rsa_der(&self.pkcs1_der);
        let b64 = jsonwebtoken::crypto::sign(message, &key, jsonwebtoken::Algorithm::RS256)
            .map_err(|e| e.to_string())?;
        URL_SAFE_NO_PAD.decode(b64).map_err(|e| e.to_string())
    }

    /// Checks a signature made with this certificate's key.
    pub fn verify(&self, alg: JwsAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let der = CertificateDer::from(self.certificate_der.as_slice());
        let Ok(cert) = webpki::EndEntityCert::try_from(&der) else {
            return false;
        };
        let alg = match alg {
            JwsAlgorithm::Rs256 => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            JwsAlgorithm::Ps256 => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        };
        cert.verify_signature(alg, message, signature).is_ok()
    }

    /// This key as a JWK in the shape Entra ID publishes at `discovery/v2.0/keys`.
    pub fn jwk(&self, issuer: &str) -> serde_json::Value {
        use base64::engine::general_purpose::STANDARD;
        serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.x5t,
            "x5t": self.x5t,
            "n": URL_SAFE_NO_PAD.encode(&self.modulus),
            "e": URL_SAFE_NO_PAD.encode(&self.exponent),
            "x5c": [STANDARD.encode(&self.certificate_der)],
            "issuer": issuer,
        })
    }
}

/// The JWS algorithms Entra ID accepts for client assertions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256 (MSAL uses it with `x5t#S256`).
    Ps256,
}

/// The key that signs every token: `jsonwebtoken` keys plus the published material.
pub struct SigningKey {
    /// Key and certificate.
    pub material: KeyMaterial,
    pub(crate) encoding: jsonwebtoken::EncodingKey,
    pub(crate) decoding: jsonwebtoken::DecodingKey,
}

static SIGNING_KEY: OnceLock<Option<SigningKey>> = OnceLock::new();

/// The process's token-signing key, generated at first use (a few hundred milliseconds).
/// `None` only if generation failed, which the caller reports as a server error.
pub fn signing_key() -> Option<&'static SigningKey> {
    SIGNING_KEY
        .get_or_init(
            || match KeyMaterial::generate("accounts.landfall-sim.invalid") {
                Ok(material) => Some(SigningKey {
                    encoding: jsonwebtoken::EncodingKey::from_rsa_der(&material.pkcs1_der),
                    decoding: jsonwebtoken::DecodingKey::from_rsa_raw_components(
                        &material.modulus,
                        &material.exponent,
                    ),
                    material,
                }),
                Err(e) => {
                    tracing::error!("cannot generate the token signing key: {e}");
                    None
                }
            },
        )
        .as_ref()
}

/// The signing key if it exists already; verification never needs to create one, since no
/// token can have been signed before it existed.
pub fn existing_signing_key() -> Option<&'static SigningKey> {
    SIGNING_KEY.get().and_then(Option::as_ref)
}

/// [`signing_key`] for async handlers: the first generation runs on a blocking thread.
pub async fn signing_key_async() -> Option<&'static SigningKey> {
    if let Some(k) = SIGNING_KEY.get() {
        return k.as_ref();
    }
    tokio::task::spawn_blocking(signing_key)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_material_round_trips_through_pem_and_verifies_its_own_signatures() {
        let m = KeyMaterial::generate("test").expect("generates");
        let again = KeyMaterial::from_pem(&m.certificate_pem, &m.private_key_pem).expect("loads");
        assert_eq!(again.x5t, m.x5t);
        let sig = m.sign_rs256(b"hello").expect("signs");
        assert!(m.verify(JwsAlgorithm::Rs256, b"hello", &sig));
        assert!(!m.verify(JwsAlgorithm::Rs256, b"hellO", &sig));
        assert_eq!(m.thumbprint_hex().len(), 40);
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let a = KeyMaterial::generate("a").expect("generates");
        let b = KeyMaterial::generate("b").expect("generates");
        assert!(KeyMaterial::from_pem(&a.certificate_pem, &b.private_key_pem).is_err());
    }
}
