//! Reporter sessions: a short-lived token (JWT, HS256, audience `probity-reporter`) scoped to one
//! report, given in exchange for the right receipt code. It can never pass as a staff token,
//! whose audience differs.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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
        validation.leeway = 5;
        ReporterSessions {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_string(),
            minutes,
        }
    }

    pub fn issue(&self, report_id: &str) -> String {
        let now = chrono::Utc::now().timestamp();
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

    /// The report id the token is for, if it is valid.
    pub fn verify(&self, token: &str) -> Option<String> {
        jsonwebtoken::decode::<ReporterClaims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reporter_token_is_not_a_staff_token_and_vice_versa() {
        let sessions = ReporterSessions::new(&[3; 32], "probity", 30);
        let token = sessions.issue("report-1");
        assert_eq!(sessions.verify(&token).as_deref(), Some("report-1"));
        let staff = crate::auth::tokens::JwtKeys::new(&[3; 32], "probity", "probity-api");
        assert!(staff.verify(&token).is_none());
        let staff_token = staff.issue("u1", "s1", vec![], 0, 900, false).unwrap();
        assert!(sessions.verify(&staff_token).is_none());
    }
}
