//! The `oauth2` crate over our reqwest 0.13 client. oauth2 5.0 ships an adapter for reqwest
//! 0.12 only; this one keeps a single reqwest in the tree and lets the trusted CA (private
//! clouds, the simulator) apply to sign-in as it does to ARM.

use std::future::Future;
use std::pin::Pin;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// A transport failure, without the URL (a token endpoint URL carries nothing secret, but a
/// redirect target could) and never the body.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OAuthHttpError(String);

/// Our HTTPS client, usable as an oauth2 `AsyncHttpClient`.
#[derive(Clone, Debug)]
pub struct OAuthHttp {
    client: reqwest::Client,
}

impl OAuthHttp {
    /// Wraps `client` (built by [`crate::tls::http_client`], redirects off).
    pub fn new(client: reqwest::Client) -> Self {
        OAuthHttp { client }
    }

    /// The wrapped client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = OAuthHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, OAuthHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| OAuthHttpError(e.without_url().to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| OAuthHttpError(e.without_url().to_string()))?;
            let mut out = HttpResponse::new(bytes.to_vec());
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}
