//! CSRF protection for the public forms, in two independent layers:
//!
//! 1. **A signed double-submit token.** Every form carries a hidden `csrf_token`:
//!    `base64url(nonce) . expiry . base64url(HMAC-SHA256(key, "csrf" ‖ nonce ‖ expiry))`, and the
//!    same nonce is set in an HttpOnly, `SameSite=Strict` cookie. A POST is accepted only when the
//!    signature is right, the expiry has not passed and the cookie's nonce equals the token's
//!    (compared in constant time). Another site can neither read the token nor send the cookie.
//! 2. **The request's own provenance.** `Sec-Fetch-Site` must be `same-origin` (or `none`, typed
//!    by the user); when it is absent, an `Origin` header must name this host. When both are
//!    absent — old phone browsers send neither — the token alone decides.
//!
//! The key comes from `ReportsState::csrf_key()`, itself derived from the signing secret.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The cookie holding the nonce. Path `/`: every form page shares it.
pub const COOKIE: &str = "probity_csrf";
/// The hidden form field holding the token.
pub const FIELD: &str = "csrf_token";
/// How long a rendered form stays submittable: long enough to write a report slowly.
pub const LIFETIME_SECS: i64 = 8 * 3600;

const NONCE_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// Why a POST was refused. Shown to nobody in detail: the page says the same for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfError {
    /// `Sec-Fetch-Site` or `Origin` says the request came from another site.
    CrossSite,
    /// No token in the form.
    MissingToken,
    /// The token is malformed or its signature is wrong.
    BadToken,
    Expired,
    /// No cookie, or the cookie's nonce is not the token's.
    CookieMismatch,
}

/// A nonce and the token that signs it, ready to put in a page and a cookie.
pub struct Issued {
    pub nonce: String,
    pub token: String,
}

fn sign(key: &[u8; 32], nonce: &[u8], expires: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"csrf");
    mac.update(nonce);
    mac.update(&expires.to_be_bytes());
    mac
}

fn decode_nonce(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .filter(|n| n.len() == NONCE_LEN)
}

/// A token for `nonce` (the cookie's, when it holds a well-formed one; otherwise a new one).
pub fn issue(key: &[u8; 32], cookie_nonce: Option<&str>, now: i64) -> Issued {
    let nonce = match cookie_nonce.and_then(decode_nonce) {
        Some(n) => n,
        None => {
            let mut n = vec![0u8; NONCE_LEN];
            rand::rngs::OsRng.fill_bytes(&mut n);
            n
        }
    };
    let expires = now + LIFETIME_SECS;
    let signature = sign(key, &nonce, expires).finalize().into_bytes();
    let encoded = URL_SAFE_NO_PAD.encode(&nonce);
    Issued {
        token: format!("{encoded}.{expires}.{}", URL_SAFE_NO_PAD.encode(signature)),
        nonce: encoded,
    }
}

/// Checks a submitted token against the cookie's nonce.
pub fn verify(
    key: &[u8; 32],
    token: Option<&str>,
    cookie_nonce: Option<&str>,
    now: i64,
) -> Result<(), CsrfError> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(CsrfError::MissingToken)?;
    let mut parts = token.split('.');
    let (Some(nonce), Some(expires), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CsrfError::BadToken);
    };
    let nonce_bytes = decode_nonce(nonce).ok_or(CsrfError::BadToken)?;
    let expires: i64 = expires.parse().map_err(|_| CsrfError::BadToken)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| CsrfError::BadToken)?;
    sign(key, &nonce_bytes, expires)
        .verify_slice(&signature)
        .map_err(|_| CsrfError::BadToken)?;
    if expires <= now {
        return Err(CsrfError::Expired);
    }
    let cookie = cookie_nonce.ok_or(CsrfError::CookieMismatch)?;
    if bool::from(cookie.as_bytes().ct_eq(nonce.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfError::CookieMismatch)
    }
}

/// Strips a default port so `example.org` and `example.org:443` compare equal.
fn authority(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    host.strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .map(str::to_string)
        .unwrap_or(host)
}

/// The provenance check on headers alone: `sec_fetch_site`, `origin` and the host the request
/// was sent to.
pub fn check_provenance(
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    host: &str,
) -> Result<(), CsrfError> {
    if let Some(site) = sec_fetch_site {
        return match site.trim().to_ascii_lowercase().as_str() {
            "same-origin" | "none" => Ok(()),
            _ => Err(CsrfError::CrossSite),
        };
    }
    match origin.map(str::trim) {
        None => Ok(()),
        Some(origin) => {
            let origin_host = url::Url::parse(origin).ok().and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            });
            match origin_host {
                Some(h) if authority(&h) == authority(host) => Ok(()),
                // Includes `Origin: null` (sandboxed frames, some redirects).
                _ => Err(CsrfError::CrossSite),
            }
        }
    }
}

/// The provenance check for a request.
pub fn check_request(req: &HttpRequest) -> Result<(), CsrfError> {
    let headers = req.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("null"));
    let info = req.connection_info();
    check_provenance(text("sec-fetch-site"), origin, info.host())
}

/// The nonce in the request's cookie, if any.
pub fn cookie_nonce(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_string())
}

/// The cookie to set with a page that carries a token for `nonce`.
pub fn cookie(nonce: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, nonce.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_fresh_token_verifies_with_its_cookie() {
        let issued = issue(&KEY, None, NOW);
        assert_eq!(
            verify(&KEY, Some(&issued.token), Some(&issued.nonce), NOW + 60),
            Ok(())
        );
    }

    #[test]
    fn the_cookie_nonce_is_reused_so_several_tabs_work() {
        let first = issue(&KEY, None, NOW);
        let second = issue(&KEY, Some(&first.nonce), NOW + 10);
        assert_eq!(first.nonce, second.nonce);
        assert_ne!(first.token, second.token);
        assert_eq!(
            verify(&KEY, Some(&first.token), Some(&second.nonce), NOW + 20),
            Ok(())
        );
        // A malformed cookie is replaced, not trusted.
        let replaced = issue(&KEY, Some("not base64!"), NOW);
        assert_eq!(URL_SAFE_NO_PAD.decode(&replaced.nonce).unwrap().len(), 16);
    }

    #[test]
    fn a_missing_or_other_cookie_is_refused() {
        let issued = issue(&KEY, None, NOW);
        let other = issue(&KEY, None, NOW);
        assert_eq!(
            verify(&KEY, Some(&issued.token), None, NOW),
            Err(CsrfError::CookieMismatch)
        );
        assert_eq!(
            verify(&KEY, Some(&issued.token), Some(&other.nonce), NOW),
            Err(CsrfError::CookieMismatch)
        );
    }

    #[test]
    fn a_missing_forged_or_tampered_token_is_refused() {
        let issued = issue(&KEY, None, NOW);
        assert_eq!(
            verify(&KEY, None, Some(&issued.nonce), NOW),
            Err(CsrfError::MissingToken)
        );
        assert_eq!(
            verify(&KEY, Some("  "), Some(&issued.nonce), NOW),
            Err(CsrfError::MissingToken)
        );
        // Signed with another key.
        let forged = issue(&[8; 32], Some(&issued.nonce), NOW);
        assert_eq!(
            verify(&KEY, Some(&forged.token), Some(&issued.nonce), NOW),
            Err(CsrfError::BadToken)
        );
        // A longer life written into a real token breaks its signature.
        let parts: Vec<&str> = issued.token.split('.').collect();
        let stretched = format!("{}.{}.{}", parts[0], NOW + 999_999, parts[2]);
        assert_eq!(
            verify(&KEY, Some(&stretched), Some(&issued.nonce), NOW),
            Err(CsrfError::BadToken)
        );
        for junk in [
            "abc",
            "a.b.c",
            "a.b.c.d",
            &format!("{}.x.{}", parts[0], parts[2]),
        ] {
            assert_eq!(
                verify(&KEY, Some(junk), Some(&issued.nonce), NOW),
                Err(CsrfError::BadToken),
                "{junk}"
            );
        }
    }

    #[test]
    fn an_old_token_expires() {
        let issued = issue(&KEY, None, NOW);
        assert_eq!(
            verify(
                &KEY,
                Some(&issued.token),
                Some(&issued.nonce),
                NOW + LIFETIME_SECS
            ),
            Err(CsrfError::Expired)
        );
    }

    #[test]
    fn provenance_allows_same_origin_and_silent_old_browsers() {
        let host = "127.0.0.1:8080";
        assert_eq!(check_provenance(Some("same-origin"), None, host), Ok(()));
        assert_eq!(check_provenance(Some("none"), None, host), Ok(()));
        assert_eq!(check_provenance(None, None, host), Ok(()));
        assert_eq!(
            check_provenance(None, Some("http://127.0.0.1:8080"), host),
            Ok(())
        );
        assert_eq!(
            check_provenance(
                None,
                Some("https://jubao.example.gov.cn"),
                "jubao.example.gov.cn:443"
            ),
            Ok(())
        );
    }

    #[test]
    fn provenance_refuses_other_sites() {
        let host = "127.0.0.1:8080";
        for site in ["cross-site", "same-site", "something-new"] {
            assert_eq!(
                check_provenance(Some(site), Some("http://127.0.0.1:8080"), host),
                Err(CsrfError::CrossSite),
                "{site}"
            );
        }
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:9999",
            "null",
            "http://127.0.0.1.evil.example:8080",
        ] {
            assert_eq!(
                check_provenance(None, Some(origin), host),
                Err(CsrfError::CrossSite),
                "{origin}"
            );
        }
    }
}
