//! Reporter sessions: a short-lived token (JWT, HS256, audience `probity-reporter`) scoped to one
//! report, given in exchange for the right receipt code. It can never pass as a staff token,
//! whose audience differs.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::tokens::unexpired;

pub const AUDIENCE: &str = "probity-reporter";

#[derive(Debug, Serialize, Deserialize)]
struct ReporterClaims {
    sub: String,
    iss: String,
    aud: String,
    exp: i64,
    iat: i64,
}

pub struct ReporterSessions {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    pub minutes: u64,
}

impl ReporterSessions {
    pub fn new(secret: &[u8], issuer: &str, minutes: u64) -> ReporterSessions {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the application's clock in `verify` (`tokens::unexpired`).
        validation.validate_exp = false;
        ReporterSessions {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_string(),
            minutes,
        }
    }

    /// A token for `report_id`, issued `now` (the application's clock) and good for
    /// `minutes`. Signing HS256 does not fail.
    pub fn issue(&self, report_id: &str, now: DateTime<Utc>) -> String {
        let now = now.timestamp();
        let claims = ReporterClaims {
            sub: report_id.to_string(),
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_string(),
            iat: now,
            exp: now + self.minutes as i64 * 60,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing does not fail")
    }

    /// The report id the token is for, if its signature, issuer and audience are right and it
    /// has not expired by `now` (the application's clock); otherwise `None`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<String> {
        jsonwebtoken::decode::<ReporterClaims>(token, &self.decoding, &self.validation)
            .ok()
            .filter(|d| unexpired(d.claims.exp, now))
            .map(|d| d.claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reporter_token_is_not_a_staff_token_and_vice_versa() {
        let sessions = ReporterSessions::new(&[3; 32], "probity", 30);
        let now = crate::clock::Clock::system().now();
        let token = sessions.issue("report-1", now);
        assert_eq!(sessions.verify(&token, now).as_deref(), Some("report-1"));
        let staff = crate::auth::tokens::JwtKeys::new(&[3; 32], "probity", "probity-api");
        assert!(staff.verify(&token, now).is_none());
        let staff_token = staff.issue(now, "u1", "s1", vec![], 0, 900, false).unwrap();
        assert!(sessions.verify(&staff_token, now).is_none());
        // Thirty minutes later (by the clock passed in) the token has expired.
        let later = now + chrono::Duration::minutes(31);
        assert!(sessions.verify(&token, later).is_none());
    }
}
