//! Rate limits on the credential endpoints, so that passwords cannot be guessed and
//! accounts cannot be mass-created from one address. The limits live at the edge
//! because it is the only place that sees every client's address.

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    time::Duration,
};

use anyhow::Context;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use http::Method;
use serde::Deserialize;
use service_kit::ApiError;

const LOGIN_PATH: &str = "/api/v1/auth/login";
const REGISTER_PATH: &str = "/api/v1/auth/register";

/// No address is longer (RFC 5321); a longer "email" is cut so that one client cannot
/// make the limiter hold megabytes per key.
const MAX_EMAIL_LEN: usize = 254;

pub struct RateLimits {
    /// Per account and address: one address cannot try many passwords on one account,
    /// and one account being attacked does not lock out its owner elsewhere.
    login: DefaultKeyedRateLimiter<(Option<String>, IpAddr)>,
    register: DefaultKeyedRateLimiter<IpAddr>,
}

impl RateLimits {
    /// Each limit allows a burst of `n` and refills evenly over the minute.
    pub fn new(login_per_minute: u32, register_per_minute: u32) -> anyhow::Result<Self> {
        let quota = |n: u32, what: &str| {
            NonZeroU32::new(n)
                .map(Quota::per_minute)
                .with_context(|| format!("the {what} rate limit must be at least 1 per minute"))
        };
        Ok(Self {
            login: RateLimiter::keyed(quota(login_per_minute, "login")?),
            register: RateLimiter::keyed(quota(register_per_minute, "register")?),
        })
    }

    /// Counts the request against its limit, if it has one; past the limit the answer
    /// is a 429 saying how many seconds to wait.
    pub fn check(
        &self,
        method: &Method,
        path: &str,
        body: &[u8],
        client: IpAddr,
    ) -> Result<(), ApiError> {
        if method != Method::POST {
            return Ok(());
        }
        // A trailing slash must not open a second, unlimited door to the same handler.
        let client = address_key(client);
        match path.trim_end_matches('/') {
            LOGIN_PATH => {
                let key = (login_email(body), client);
                self.login.check_key(&key).map_err(|not_until| {
                    too_many(not_until.wait_time_from(self.login.clock().now()))
                })
            }
            REGISTER_PATH => self.register.check_key(&client).map_err(|not_until| {
                too_many(not_until.wait_time_from(self.register.clock().now()))
            }),
            _ => Ok(()),
        }
    }

    /// Forgets keys whose limit has fully refilled; without this every address and email
    /// ever seen would stay in memory.
    pub fn retain_recent(&self) {
        self.login.retain_recent();
        self.register.retain_recent();
        self.login.shrink_to_fit();
        self.register.shrink_to_fit();
    }

    /// Keys currently held, for tests and diagnostics.
    pub fn tracked_keys(&self) -> usize {
        self.login.len() + self.register.len()
    }
}

fn too_many(wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::rate_limited(secs.max(1))
}

/// The email a login is for, normalised the way accounts are looked up; `None` when the
/// body does not say, in which case the address alone is the key.
fn login_email(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Login {
        email: Option<String>,
    }
    let email = serde_json::from_slice::<Login>(body).ok()?.email?;
    let mut email = email.trim().to_lowercase();
    if email.len() > MAX_EMAIL_LEN {
        let mut cut = MAX_EMAIL_LEN;
        while !email.is_char_boundary(cut) {
            cut -= 1;
        }
        email.truncate(cut);
    }
    Some(email)
}

/// IPv4 clients are keyed by address. An IPv6 client usually holds a whole /64, so it is
/// keyed by that prefix; otherwise it could rotate addresses to reset its limit.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_keyed_by_its_trimmed_lower_cased_email() {
        assert_eq!(
            login_email(br#"{"email": "  Ann@Example.COM ", "password": "x"}"#).as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(login_email(br#"{"password": "x"}"#), None);
        assert_eq!(login_email(b"not json"), None);
    }

    #[test]
    fn an_absurdly_long_email_is_cut_to_the_longest_valid_length() {
        let body = serde_json::json!({ "email": "é".repeat(1000) }).to_string();
        let email = login_email(body.as_bytes()).unwrap();
        assert!(email.len() <= MAX_EMAIL_LEN && email.len() >= MAX_EMAIL_LEN - 1);
    }

    #[test]
    fn ipv6_clients_in_one_slash_64_share_a_key_and_mapped_ipv4_is_plain_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_wait_is_rounded_up_to_a_whole_second_and_is_never_zero() {
        let secs = |d| too_many(d).body().details["retry_after_secs"].as_u64();
        assert_eq!(secs(Duration::from_millis(5_001)), Some(6));
        assert_eq!(secs(Duration::from_secs(6)), Some(6));
        assert_eq!(secs(Duration::ZERO), Some(1));
    }

    #[test]
    fn only_posts_to_login_and_register_are_counted() {
        let limits = RateLimits::new(1, 1).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limits.check(&Method::GET, LOGIN_PATH, b"", ip).is_ok());
            assert!(
                limits
                    .check(&Method::POST, "/api/v1/auth/refresh", b"", ip)
                    .is_ok()
            );
        }
        assert!(limits.check(&Method::POST, REGISTER_PATH, b"", ip).is_ok());
        assert!(
            limits
                .check(&Method::POST, "/api/v1/auth/register/", b"", ip)
                .is_err()
        );
    }

    #[test]
    fn keys_whose_limit_has_refilled_are_forgotten() {
        let limits = RateLimits::new(6000, 6000).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        limits.check(&Method::POST, REGISTER_PATH, b"", ip).unwrap();
        assert_eq!(limits.tracked_keys(), 1);
        // At 6000 a minute one request is refilled after 10 ms; governor keeps a key
        // until one more interval has passed.
        std::thread::sleep(Duration::from_millis(50));
        limits.retain_recent();
        assert_eq!(limits.tracked_keys(), 0);
    }

    #[test]
    fn a_zero_limit_is_refused() {
        assert!(RateLimits::new(0, 1).is_err());
    }
}
