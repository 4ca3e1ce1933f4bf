//! What sign-in remembers between requests, in memory only: authorization codes (single use,
//! 10 minutes), refresh tokens (opaque, 90 days of inactivity), device codes with their user
//! codes, and browser sessions (the cookie that lets `prompt=none` succeed).
//!
//! Nothing here is persisted: after a restart clients sign in again, as they would after a
//! revocation. Expired entries are dropped whenever something new is stored.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

/// How long an authorization code can be redeemed.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// A refresh token unused this long expires (Entra ID's inactivity window).
pub const REFRESH_INACTIVITY: Duration = Duration::days(90);
/// How long a device code and its user code last (`expires_in`).
pub const DEVICE_CODE_LIFETIME: Duration = Duration::seconds(900);
/// The polling interval the device code endpoint announces.
pub const DEVICE_POLL_INTERVAL: i64 = 5;

/// The signed-in user's grant to one app, shared by codes, refresh tokens and device codes.
#[derive(Clone, Debug)]
pub struct UserGrant {
    /// The app.
    pub client_id: String,
    /// The tenant segment the grant was obtained at (for AADSTS700005).
    pub tenant_segment: String,
    /// The tenant ID the user signed in to.
    pub tenant_id: String,
    /// The `scope` asked for.
    pub scope: String,
    /// OIDC nonce to echo in the ID token.
    pub nonce: Option<String>,
    /// When the user authenticated (`auth_time`).
    pub auth_time: OffsetDateTime,
}

/// An authorization code waiting to be redeemed.
#[derive(Clone, Debug)]
pub struct AuthCode {
    /// The grant.
    pub grant: UserGrant,
    /// The redirect URI it was sent to; the redemption must name the same.
    pub redirect_uri: String,
    /// PKCE challenge and method (`S256` or `plain`).
    pub challenge: Option<(String, String)>,
    /// When it was issued.
    pub issued: OffsetDateTime,
    /// Whether it was redeemed already.
    pub redeemed: bool,
}

/// A refresh token's grant.
#[derive(Clone, Debug)]
pub struct RefreshGrant {
    /// The grant.
    pub grant: UserGrant,
    /// When it was issued.
    pub issued: OffsetDateTime,
}

/// Where a device code stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceState {
    /// Waiting for the user.
    Pending,
    /// The user approved.
    Approved,
    /// The user declined.
    Declined,
    /// Tokens were issued for it.
    Redeemed,
}

/// A device code flow in progress.
#[derive(Clone, Debug)]
pub struct DeviceFlow {
    /// The grant it will become.
    pub grant: UserGrant,
    /// The code the user types.
    pub user_code: String,
    /// When it was issued.
    pub issued: OffsetDateTime,
    /// When the last poll arrived (for `slow_down`).
    pub last_poll: Option<OffsetDateTime>,
    /// Where it stands.
    pub state: DeviceState,
}

impl DeviceFlow {
    /// Whether it expired by `now`.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now >= self.issued + DEVICE_CODE_LIFETIME
    }
}

/// All of it. Its `Debug` shows counts only: the map keys are codes and tokens.
#[derive(Default)]
pub struct Store {
    /// Authorization codes by code.
    pub codes: HashMap<String, AuthCode>,
    /// Refresh tokens by token.
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    /// Device flows by device code.
    pub devices: HashMap<String, DeviceFlow>,
    /// Browser sessions by cookie value.
    pub sessions: HashMap<String, OffsetDateTime>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("codes", &self.codes.len())
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("devices", &self.devices.len())
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

impl Store {
    /// Drops what can no longer be used at `now`. Codes linger an hour past their lifetime so
    /// that a late or second redemption is told AADSTS70008 or AADSTS54005, not "unknown".
    pub fn prune(&mut self, now: OffsetDateTime) {
        self.codes
            .retain(|_, c| now < c.issued + CODE_LIFETIME + Duration::hours(1));
        self.refresh_tokens
            .retain(|_, r| now < r.issued + REFRESH_INACTIVITY);
        // Expired device codes linger a while so pollers get `expired_token`, not "unknown".
        self.devices
            .retain(|_, d| now < d.issued + DEVICE_CODE_LIFETIME + Duration::hours(1));
        self.sessions
            .retain(|_, started| now < *started + Duration::hours(24));
    }

    /// The device code whose user code this is (case and separators ignored).
    pub fn device_by_user_code(&self, user_code: &str) -> Option<String> {
        let wanted = normalize_user_code(user_code);
        self.devices
            .iter()
            .find(|(_, d)| d.user_code == wanted)
            .map(|(k, _)| k.clone())
    }
}

/// Upper-cases a user code and drops spaces and dashes, as people type them.
pub fn normalize_user_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A random opaque string of `len` characters from base64url.
pub fn random_token(len: usize) -> String {
    use base64::Engine;
    let mut bytes = vec![0u8; len.div_ceil(4) * 3];
    rand::fill(&mut bytes[..]);
    let mut s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    s.truncate(len);
    s
}

/// A user code as Entra ID makes them: 9 characters, upper-case letters and digits (without
/// the easily confused I, O, 0 and 1).
pub fn random_user_code() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 9];
    rand::fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_nine_upper_case_characters() {
        let c = random_user_code();
        assert_eq!(c.len(), 9);
        assert!(
            c.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_eq!(normalize_user_code("abcd-efgh i"), "ABCDEFGHI");
    }

    #[test]
    fn random_tokens_have_the_length_asked() {
        assert_eq!(random_token(43).len(), 43);
        assert_ne!(random_token(20), random_token(20));
    }
}
