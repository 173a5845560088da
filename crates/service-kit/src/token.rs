//! Access tokens: EdDSA-signed JWTs carrying a `kid`, issued by the auth service and
//! checked by every service against the auth service's JWKS. Verification pins the
//! algorithm and checks expiry, not-before, issuer and audience.

use std::{
    collections::HashMap,
    sync::RwLock,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use event_contracts::Role;
pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm,
        OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
    },
};
use serde::{Deserialize, Serialize};

/// Verification tolerates this much clock skew between services.
const LEEWAY_SECS: u64 = 5;
/// An unknown `kid` makes a remote verifier refetch the JWKS at most this often.
const REFETCH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub email: String,
    pub role: Role,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("{0}")]
    Invalid(String),
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(String),
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        TokenError::Invalid(e.to_string())
    }
}

/// Signs access tokens with one Ed25519 key.
pub struct TokenSigner {
    kid: String,
    key: EncodingKey,
    jwk: Jwk,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl TokenSigner {
    /// A fresh Ed25519 private key (its 32-byte seed), for storing.
    pub fn generate_seed() -> [u8; 32] {
        SigningKey::generate(&mut rand::rngs::OsRng).to_bytes()
    }

    pub fn from_seed(
        kid: impl Into<String>,
        seed: &[u8; 32],
        issuer: impl Into<String>,
        audience: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        let kid = kid.into();
        let signing = SigningKey::from_bytes(seed);
        let der = signing
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        let key = EncodingKey::from_ed_der(der.as_bytes());
        // Built by hand: jsonwebtoken's Jwk::from_encoding_key only reads PKCS#8 v1 keys.
        let jwk = Jwk {
            common: CommonParameters {
                key_id: Some(kid.clone()),
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
            }),
        };
        Self {
            kid,
            key,
            jwk,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    pub fn issue(&self, user_id: &str, email: &str, role: Role) -> Result<String, TokenError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            email: email.to_owned(),
            role,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims with this key; tests use it to forge expired tokens.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, TokenError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.key)?)
    }
}

enum KeySource {
    /// Keys known up front (the auth service itself, tests).
    Fixed,
    /// Keys fetched from the auth service's JWKS endpoint, refetched on an unknown kid.
    Remote {
        url: String,
        http: reqwest::Client,
        last_fetch: tokio::sync::Mutex<Option<Instant>>,
    },
}

pub struct TokenVerifier {
    source: KeySource,
    keys: RwLock<HashMap<String, DecodingKey>>,
    validation: Validation,
}

impl TokenVerifier {
    pub fn with_keys(jwks: &JwkSet, issuer: &str, audience: &str) -> Result<Self, TokenError> {
        let verifier = Self::new(KeySource::Fixed, issuer, audience);
        verifier.load(jwks)?;
        Ok(verifier)
    }

    pub fn remote(jwks_url: impl Into<String>, issuer: &str, audience: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a plain HTTP client always builds");
        Self::new(
            KeySource::Remote {
                url: jwks_url.into(),
                http,
                last_fetch: tokio::sync::Mutex::new(None),
            },
            issuer,
            audience,
        )
    }

    fn new(source: KeySource, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            source,
            keys: RwLock::new(HashMap::new()),
            validation,
        }
    }

    fn load(&self, jwks: &JwkSet) -> Result<(), TokenError> {
        let mut keys = self.keys.write().expect("key cache lock");
        for jwk in &jwks.keys {
            let Some(kid) = &jwk.common.key_id else {
                continue;
            };
            keys.insert(kid.clone(), DecodingKey::from_jwk(jwk)?);
        }
        Ok(())
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().expect("key cache lock").get(kid).cloned()
    }

    async fn key_for(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let KeySource::Remote {
            url,
            http,
            last_fetch,
        } = &self.source
        else {
            return Err(TokenError::Invalid(format!("unknown signing key `{kid}`")));
        };
        // One fetch at a time; an unknown kid cannot make us hammer the auth service.
        let mut last = last_fetch.lock().await;
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if last.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL) {
            return Err(TokenError::Invalid(format!("unknown signing key `{kid}`")));
        }
        let fetched: JwkSet = http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| TokenError::KeysUnavailable(e.to_string()))?
            .json()
            .await
            .map_err(|e| TokenError::KeysUnavailable(e.to_string()))?;
        *last = Some(Instant::now());
        self.load(&fetched)?;
        self.cached(kid)
            .ok_or_else(|| TokenError::Invalid(format!("unknown signing key `{kid}`")))
    }

    pub async fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| TokenError::Invalid("token has no key id".into()))?;
        let key = self.key_for(&kid).await?;
        Ok(jsonwebtoken::decode::<AccessClaims>(token, &key, &self.validation)?.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(kid: &str) -> TokenSigner {
        TokenSigner::from_seed(
            kid,
            &TokenSigner::generate_seed(),
            "shop-auth",
            "shop",
            Duration::from_secs(900),
        )
    }

    fn verifier_for(signer: &TokenSigner) -> TokenVerifier {
        TokenVerifier::with_keys(&signer.jwks(), "shop-auth", "shop").unwrap()
    }

    fn claims(signer: &TokenSigner, f: impl FnOnce(&mut AccessClaims)) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut c = AccessClaims {
            sub: "u1".into(),
            email: "u1@example.com".into(),
            role: Role::Customer,
            iss: "shop-auth".into(),
            aud: "shop".into(),
            iat: now,
            nbf: now,
            exp: now + 60,
            jti: "j".into(),
        };
        f(&mut c);
        signer.sign(&c).unwrap()
    }

    #[tokio::test]
    async fn an_issued_token_verifies_and_carries_the_caller() {
        let s = signer("k1");
        let token = s.issue("u1", "u1@example.com", Role::Admin).unwrap();
        let c = verifier_for(&s).verify(&token).await.unwrap();
        assert_eq!((c.sub.as_str(), c.role), ("u1", Role::Admin));
        assert!(c.exp - c.iat <= 900);
    }

    #[tokio::test]
    async fn expired_future_foreign_and_misaddressed_tokens_are_refused() {
        let s = signer("k1");
        let v = verifier_for(&s);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let cases = [
            ("expired", claims(&s, |c| c.exp = now - 60)),
            ("not yet valid", claims(&s, |c| c.nbf = now + 600)),
            ("other issuer", claims(&s, |c| c.iss = "evil".into())),
            ("other audience", claims(&s, |c| c.aud = "elsewhere".into())),
            // Same kid, different key: the signature does not match.
            ("forged", claims(&signer("k1"), |_| {})),
            ("unknown kid", claims(&signer("k2"), |_| {})),
        ];
        for (what, token) in cases {
            assert!(v.verify(&token).await.is_err(), "{what} token was accepted");
        }
    }

    #[tokio::test]
    async fn an_unsigned_alg_none_token_is_refused() {
        let s = signer("k1");
        let good = s.issue("u1", "u1@example.com", Role::Admin).unwrap();
        let payload = good.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert!(verifier_for(&s).verify(&token).await.is_err());
        }
    }

    #[tokio::test]
    async fn a_token_signed_with_an_hmac_algorithm_is_refused() {
        let s = signer("k1");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let c = serde_json::json!({"sub":"u1","email":"e","role":"admin","iss":"shop-auth",
            "aud":"shop","iat":now,"nbf":now,"exp":now+60,"jti":"j"});
        let token =
            jsonwebtoken::encode(&header, &c, &EncodingKey::from_secret(b"public-key?")).unwrap();
        assert!(verifier_for(&s).verify(&token).await.is_err());
    }
}
