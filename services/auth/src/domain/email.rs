use std::fmt;

/// An email address, trimmed and lower-cased so that one mailbox is one account.
/// Deliberately simpler than RFC 5322: the shapes real sign-ups use, nothing exotic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("email is required".into());
        }
        if email.len() > 254 {
            return Err("email is longer than 254 characters".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("email must contain @".into());
        };
        if local.is_empty() || local.len() > 64 {
            return Err("the part before @ must be 1 to 64 characters".into());
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err("the part before @ has a misplaced dot".into());
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok {
            return Err("the part before @ has a character email does not allow".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err("the domain must have a dot, as in example.com".into());
        }
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !labels.iter().all(label_ok) {
            return Err("the domain is not a valid host name".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn common_addresses_parse_and_are_lower_cased() {
        let e = Email::parse("  Ada.Lovelace+shop@Example.CO.uk ").unwrap();
        assert_eq!(e.as_str(), "ada.lovelace+shop@example.co.uk");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "   ",
            "plainaddress",
            "@example.com",
            "user@",
            "user@localhost",
            "user@exa mple.com",
            "us er@example.com",
            ".user@example.com",
            "user..name@example.com",
            "user@-example.com",
            "user@example..com",
            "a@b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }

    fn valid_email() -> impl Strategy<Value = String> {
        (
            "[a-zA-Z0-9][a-zA-Z0-9_+-]{0,20}",
            "[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?",
            "[a-zA-Z]{2,6}",
        )
            .prop_map(|(local, host, tld)| format!("{local}@{host}.{tld}"))
    }

    proptest! {
        #[test]
        fn any_well_formed_address_parses_to_its_lower_case_form(raw in valid_email()) {
            let parsed = Email::parse(&raw).unwrap();
            prop_assert_eq!(parsed.as_str(), raw.to_lowercase());
        }

        #[test]
        fn parsing_is_idempotent(raw in valid_email()) {
            let once = Email::parse(&raw).unwrap();
            prop_assert_eq!(Email::parse(once.as_str()).unwrap(), once);
        }

        #[test]
        fn text_without_an_at_sign_never_parses(raw in "[^@]{0,40}") {
            prop_assert!(Email::parse(&raw).is_err());
        }
    }
}
