use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{
        self, PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
    },
};
use secrecy::{ExposeSecret, SecretString};

/// A password that meets the policy (NIST SP 800-63B: length matters, composition
/// rules do not): 8 to 128 characters, not only spaces. Never printed.
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

impl Password {
    pub fn parse(input: &str) -> Result<Self, String> {
        let chars = input.chars().count();
        if chars < MIN_LEN {
            return Err(format!("password must be at least {MIN_LEN} characters"));
        }
        if chars > MAX_LEN {
            return Err(format!("password must be at most {MAX_LEN} characters"));
        }
        if input.trim().is_empty() {
            return Err("password cannot be only spaces".into());
        }
        Ok(Self(SecretString::from(input.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Argon2id at OWASP's minimum strength: 19 MiB of memory, 2 passes, 1 lane.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
        Self {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        }
    }
}

impl PasswordHasher {
    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`). CPU-bound: call it from
    /// `spawn_blocking`.
    pub fn hash(&self, password: &str) -> Result<String, password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(self
            .argon2
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    }

    /// Checks against a stored PHC string, with the parameters recorded in it.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        PasswordHash::new(phc)
            .map(|hash| {
                self.argon2
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_policy_bounds_length_and_refuses_blank_passwords() {
        assert!(Password::parse("seven77").is_err());
        assert!(Password::parse("eight888").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("          ").is_err());
        // Length counts characters, not bytes.
        assert!(Password::parse("пароль12").is_ok());
    }

    #[test]
    fn a_password_never_prints() {
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn hashes_are_argon2id_at_owasp_strength_and_verify_only_the_same_password() {
        let hasher = PasswordHasher::default();
        let phc = hasher.hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse battery", &phc));
        assert!(!hasher.verify("correct horse batterY", &phc));
        assert!(!hasher.verify("correct horse battery", "not a hash"));
        assert_ne!(phc, hasher.hash("correct horse battery").unwrap(), "salted");
    }

    proptest! {
        #[test]
        fn any_text_of_allowed_length_with_a_visible_character_is_accepted(
            p in "[ -~]{7,127}[!-~]"
        ) {
            prop_assert!(Password::parse(&p).is_ok());
        }

        #[test]
        fn anything_shorter_than_the_minimum_is_refused(p in ".{0,7}") {
            prop_assume!(p.chars().count() < MIN_LEN);
            prop_assert!(Password::parse(&p).is_err());
        }
    }
}
