//! Interactive sign-in in the system browser: authorization code with PKCE (S256), the
//! redirect caught by a loopback listener on `127.0.0.1` and an ephemeral port (Entra ID
//! ignores the port of loopback redirect URIs, RFC 8252 §7.3), a random `state` checked on
//! return, a time-out and cancellation.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex as AsyncMutex, mpsc};
use url::Url;

use super::entra::{EntraClient, Session, oauth_error, user_scopes};
use super::error::SignInError;
use super::refresh::RefreshTokenCredential;
use crate::clock::CancelToken;

/// How long the user has to finish signing in, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The largest redirect request read; Entra's code is ~1-2 KB.
const MAX_REQUEST: usize = 16 * 1024;

/// How long one loopback connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a URL in the user's browser (injectable: tests act as the browser).
pub trait BrowserOpener: Send + Sync {
    /// Opens `url`; returns once the browser was asked to.
    fn open(&self, url: &Url) -> Result<(), SignInError>;
}

/// Opens the system browser with `xdg-open` (Linux), `open` (macOS) or the URL protocol
/// handler (Windows).
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandOpener;

impl BrowserOpener for CommandOpener {
    fn open(&self, url: &Url) -> Result<(), SignInError> {
        let mut command = if cfg!(target_os = "windows") {
            // Not `cmd /C start`: cmd would split the authorize URL at its `&`s.
            let mut c = std::process::Command::new("rundll32.exe");
            c.arg("url.dll,FileProtocolHandler");
            c
        } else if cfg!(target_os = "macos") {
            std::process::Command::new("open")
        } else {
            std::process::Command::new("xdg-open")
        };
        let mut child = command
            .arg(url.as_str())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| SignInError::Browser {
                message: format!("{e}; open the sign-in page yourself"),
            })?;
        // Reaped off the caller's thread so no zombie is left; the launcher exits quickly.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// A credential that signs the user in through the browser once, then refreshes silently.
pub struct InteractiveBrowserCredential {
    entra: EntraClient,
    opener: Arc<dyn BrowserOpener>,
    timeout: Duration,
    cancel: CancelToken,
    session: super::refresh::SignedInSlot,
}

impl fmt::Debug for InteractiveBrowserCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractiveBrowserCredential")
            .field("entra", &self.entra)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl InteractiveBrowserCredential {
    /// A credential for `entra` that opens the system browser.
    pub fn new(entra: EntraClient) -> Self {
        InteractiveBrowserCredential {
            entra,
            opener: Arc::new(CommandOpener),
            timeout: DEFAULT_TIMEOUT,
            cancel: CancelToken::new(),
            session: AsyncMutex::new(None),
        }
    }

    /// Opens the browser through `opener` instead.
    pub fn opener(mut self, opener: Arc<dyn BrowserOpener>) -> Self {
        self.opener = opener;
        self
    }

    /// Gives up after `timeout` (real time: a person is typing).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stops waiting for the browser when `cancel` is cancelled.
    pub fn cancel_token(mut self, cancel: CancelToken) -> Self {
        self.cancel = cancel;
        self
    }

    /// The refreshing credential after a sign-in (its refresh token is for the cache).
    pub async fn signed_in(&self) -> Option<Arc<RefreshTokenCredential>> {
        self.session.lock().await.clone()
    }

    /// Runs the browser flow for `scopes` and returns the session.
    pub async fn sign_in(&self, scopes: &[&str]) -> Result<Session, SignInError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| listener_error("cannot listen on 127.0.0.1", &e))?;
        let port = listener
            .local_addr()
            .map_err(|e| listener_error("no local address", &e))?
            .port();
        let redirect = RedirectUrl::new(format!("http://127.0.0.1:{port}/")).map_err(|e| {
            SignInError::Config {
                message: format!("bad redirect URI: {e}"),
            }
        })?;
        let all = user_scopes(&scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let oauth = self.entra.oauth()?;
        let (url, state) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(all.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Borrowed(&redirect))
            .url();
        self.opener.open(&url)?;

        let code = tokio::select! {
            r = accept_redirect(&listener, state.secret()) => r?,
            () = tokio::time::sleep(self.timeout) => {
                return Err(SignInError::Timeout { seconds: self.timeout.as_secs() });
            }
            () = self.cancel.cancelled() => return Err(SignInError::Canceled),
        };
        drop(listener);
        let response = oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .set_redirect_uri(Cow::Borrowed(&redirect))
            .request_async(self.entra.http())
            .await
            .map_err(oauth_error)?;
        Ok(self.entra.session(&response, &all))
    }
}

#[async_trait::async_trait]
impl TokenCredential for InteractiveBrowserCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        super::refresh::token_after_sign_in(&self.session, &self.entra, scopes, options, || {
            self.sign_in(scopes)
        })
        .await
    }
}

fn listener_error(what: &str, e: &std::io::Error) -> SignInError {
    SignInError::Listener {
        message: format!("{what}: {e}"),
    }
}

/// What the browser brought back to the loopback.
enum Redirect {
    /// Not a sign-in response (a favicon request...): answered 404, keep waiting.
    Other,
    /// `code` and `state`.
    Code { code: String, state: String },
    /// `error`, `error_description` and `state`.
    Error {
        error: String,
        description: String,
        state: String,
    },
}

/// Serves the loopback until a sign-in response arrives; returns its code once its state
/// matches. Connections are read concurrently, each for at most [`READ_TIMEOUT`]: browsers
/// open speculative connections that never send a request, and one of those must not hold
/// up the redirect behind it.
async fn accept_redirect(listener: &TcpListener, state: &str) -> Result<String, SignInError> {
    let (tx, mut rx) = mpsc::channel::<(TcpStream, Option<String>)>(8);
    loop {
        let (mut stream, target) = tokio::select! {
            accepted = listener.accept() => {
                let (mut stream, _) =
                    accepted.map_err(|e| listener_error("accept failed", &e))?;
                let tx = tx.clone();
                tokio::spawn(async move {
                    let target = tokio::time::timeout(READ_TIMEOUT, read_request_target(&mut stream))
                        .await
                        .ok()
                        .flatten();
                    // The sign-in may be over already; then nobody needs this connection.
                    let _ = tx.send((stream, target)).await;
                });
                continue;
            }
            Some(read) = rx.recv() => read,
        };
        let Some(target) = target else {
            respond(&mut stream, "400 Bad Request", "Bad request", "").await;
            continue;
        };
        match parse_redirect(&target) {
            Redirect::Other => respond(&mut stream, "404 Not Found", "Not found", "").await,
            Redirect::Code { state: s, .. } | Redirect::Error { state: s, .. } if s != state => {
                respond(
                    &mut stream,
                    "400 Bad Request",
                    "Sign-in failed",
                    "This response does not belong to the sign-in in progress.",
                )
                .await;
                return Err(SignInError::StateMismatch);
            }
            Redirect::Code { code, .. } => {
                respond(
                    &mut stream,
                    "200 OK",
                    "Signed in",
                    "You are signed in to Landfall. You can close this window.",
                )
                .await;
                return Ok(code);
            }
            Redirect::Error {
                error, description, ..
            } => {
                respond(
                    &mut stream,
                    "400 Bad Request",
                    "Sign-in failed",
                    "Landfall could not sign you in. Return to the application for details.",
                )
                .await;
                return Err(SignInError::Entra { error, description });
            }
        }
    }
}

/// The request target of a `GET` (`/path?query`), or `None` when the request is not one.
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = std::str::from_utf8(&buf).ok()?;
    let mut parts = text.lines().next()?.split_whitespace();
    (parts.next()? == "GET").then_some(())?;
    parts.next().map(str::to_owned)
}

fn parse_redirect(target: &str) -> Redirect {
    let Ok(url) = Url::parse(&format!("http://127.0.0.1{target}")) else {
        return Redirect::Other;
    };
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state = get("state").unwrap_or_default();
    match (get("code"), get("error")) {
        (Some(code), _) => Redirect::Code { code, state },
        (None, Some(error)) => Redirect::Error {
            error,
            description: get("error_description").unwrap_or_default(),
            state,
        },
        (None, None) => Redirect::Other,
    }
}

/// Answers the browser with a small page and closes the connection.
async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may have gone; the sign-in result does not depend on it seeing the page.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets_are_told_apart() {
        assert!(matches!(parse_redirect("/favicon.ico"), Redirect::Other));
        assert!(matches!(
            parse_redirect("/?code=c&state=s"),
            Redirect::Code { ref code, ref state } if code == "c" && state == "s"
        ));
        assert!(matches!(
            parse_redirect("/?error=access_denied&error_description=AADSTS65004%3A+no&state=s"),
            Redirect::Error { ref description, .. } if description == "AADSTS65004: no"
        ));
    }
}
