use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A refresh token as the client holds it: `<token id>.<secret>`. Only a SHA-256 of the
/// secret is stored, so a leaked database does not leak usable tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSecret {
    pub token_id: String,
    secret: String,
}

impl RefreshSecret {
    pub fn generate(token_id: String) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            token_id,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    pub fn parse(token: &str) -> Option<Self> {
        let (token_id, secret) = token.split_once('.')?;
        (!token_id.is_empty() && !secret.is_empty()).then(|| Self {
            token_id: token_id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    pub fn hash(&self) -> String {
        Sha256::digest(self.secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn token(&self) -> String {
        format!("{}.{}", self.token_id, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_back_and_hashes_the_same() {
        let t = RefreshSecret::generate("abc".into());
        let parsed = RefreshSecret::parse(&t.token()).unwrap();
        assert_eq!(parsed, t);
        assert_eq!(parsed.hash(), t.hash());
        assert_ne!(RefreshSecret::generate("abc".into()).hash(), t.hash());
    }

    #[test]
    fn tokens_without_both_parts_do_not_parse() {
        for bad in ["", "abc", ".secret", "abc.", "."] {
            assert!(RefreshSecret::parse(bad).is_none(), "{bad:?}");
        }
    }
}
