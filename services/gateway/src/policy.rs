//! Who may pass the edge on each route. This is a first, coarse wall: it keeps
//! anonymous and non-admin traffic away from routes that can never serve it. Each
//! service still checks roles and ownership itself.

use http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed; a token that is sent must still be valid.
    Public,
    /// Any valid access token.
    Authenticated,
    /// A valid access token with the admin role.
    Admin,
}

/// `(method, pattern under /api/v1, access)`; the first matching rule wins and anything
/// unmatched needs a valid token. In patterns `*` is one path segment and `**` any number
/// of them, none included; `"*"` as the method is any method.
///
/// `/users/me` comes before the admin rules on `/users/*` so that "`{id}` is not `me`"
/// needs no special syntax.
const RULES: &[(&str, &str, Access)] = &[
    ("*", "/auth/**", Access::Public),
    ("GET", "/products", Access::Public),
    ("GET", "/products/*", Access::Public),
    ("*", "/users/me/**", Access::Authenticated),
    ("GET", "/users", Access::Admin),
    ("GET", "/users/*", Access::Admin),
    ("DELETE", "/users/*", Access::Admin),
    ("POST", "/payments/*/refund", Access::Admin),
    ("POST", "/shipments/*/deliver", Access::Admin),
    ("POST", "/shipments/*/return", Access::Admin),
];

const API_PREFIX: &str = "/api/v1";

/// The access a request needs, from its method and path alone.
pub fn access(method: &Method, path: &str) -> Access {
    let Some(rest) = path
        .strip_prefix(API_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        // Outside the API the gateway serves only its own ops routes and 404s.
        return Access::Public;
    };
    // Services answer HEAD with their GET handler, so HEAD must pass the same rule.
    let method = if method == Method::HEAD {
        Method::GET.as_str()
    } else {
        method.as_str()
    };
    // Empty segments are dropped so that `/users//` cannot slip past the rule for
    // `/users`; this can only make a path match a stricter rule, never a looser one.
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    RULES
        .iter()
        .find(|(rule_method, pattern, _)| {
            (*rule_method == "*" || *rule_method == method) && matches(pattern, &segments)
        })
        .map_or(Access::Authenticated, |(_, _, access)| *access)
}

fn matches(pattern: &str, segments: &[&str]) -> bool {
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    matches_segments(&pattern, segments)
}

fn matches_segments(pattern: &[&str], segments: &[&str]) -> bool {
    match (pattern.split_first(), segments.split_first()) {
        (None, None) => true,
        (Some((&"**", rest)), _) => {
            matches_segments(rest, segments)
                || (!segments.is_empty() && matches_segments(pattern, &segments[1..]))
        }
        (Some((&"*", rest)), Some((_, tail))) => matches_segments(rest, tail),
        (Some((expected, rest)), Some((segment, tail))) => {
            expected == segment && matches_segments(rest, tail)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(Method, &str, Access)]) {
        for (method, path, expected) in cases {
            assert_eq!(access(method, path), *expected, "{method} {path}");
        }
    }

    #[test]
    fn everything_under_auth_is_public_whatever_the_method() {
        check(&[
            (Method::POST, "/api/v1/auth/register", Access::Public),
            (Method::POST, "/api/v1/auth/login", Access::Public),
            (Method::POST, "/api/v1/auth/refresh", Access::Public),
            (Method::POST, "/api/v1/auth/logout", Access::Public),
            (Method::GET, "/api/v1/auth/jwks", Access::Public),
        ]);
    }

    #[test]
    fn the_catalog_can_be_read_anonymously_but_not_changed() {
        check(&[
            (Method::GET, "/api/v1/products", Access::Public),
            (Method::GET, "/api/v1/products/p1", Access::Public),
            (Method::HEAD, "/api/v1/products/p1", Access::Public),
            (Method::POST, "/api/v1/products", Access::Authenticated),
            (Method::PATCH, "/api/v1/products/p1", Access::Authenticated),
            (Method::DELETE, "/api/v1/products/p1", Access::Authenticated),
            (
                Method::GET,
                "/api/v1/products/p1/extra",
                Access::Authenticated,
            ),
        ]);
    }

    #[test]
    fn the_callers_own_profile_needs_a_token_but_not_the_admin_role() {
        check(&[
            (Method::GET, "/api/v1/users/me", Access::Authenticated),
            (Method::PATCH, "/api/v1/users/me", Access::Authenticated),
            (Method::DELETE, "/api/v1/users/me", Access::Authenticated),
            (
                Method::GET,
                "/api/v1/users/me/products",
                Access::Authenticated,
            ),
        ]);
    }

    #[test]
    fn account_administration_needs_the_admin_role() {
        check(&[
            (Method::GET, "/api/v1/users", Access::Admin),
            (Method::HEAD, "/api/v1/users", Access::Admin),
            (Method::GET, "/api/v1/users/u1", Access::Admin),
            (Method::DELETE, "/api/v1/users/u1", Access::Admin),
            // Ids are case-sensitive: only the literal `me` is the caller's own profile.
            (Method::GET, "/api/v1/users/ME", Access::Admin),
            (Method::POST, "/api/v1/payments/pay1/refund", Access::Admin),
            (Method::POST, "/api/v1/shipments/s1/deliver", Access::Admin),
            (Method::POST, "/api/v1/shipments/s1/return", Access::Admin),
        ]);
    }

    #[test]
    fn empty_segments_cannot_dodge_an_admin_rule() {
        check(&[
            (Method::GET, "/api/v1/users/", Access::Admin),
            (Method::GET, "/api/v1//users", Access::Admin),
            (Method::GET, "/api/v1/users//u1", Access::Admin),
            (
                Method::POST,
                "/api/v1/payments/pay1//refund/",
                Access::Admin,
            ),
        ]);
    }

    #[test]
    fn every_other_route_needs_any_valid_token() {
        check(&[
            (Method::GET, "/api/v1/cart", Access::Authenticated),
            (Method::POST, "/api/v1/cart/checkout", Access::Authenticated),
            (Method::GET, "/api/v1/orders/o1", Access::Authenticated),
            (
                Method::POST,
                "/api/v1/orders/o1/return",
                Access::Authenticated,
            ),
            (
                Method::POST,
                "/api/v1/payments/pay1/pay",
                Access::Authenticated,
            ),
            (
                Method::GET,
                "/api/v1/payments/pay1/refund",
                Access::Authenticated,
            ),
            (Method::GET, "/api/v1/shipments", Access::Authenticated),
            (Method::GET, "/api/v1/notifications", Access::Authenticated),
            (Method::GET, "/api/v1", Access::Authenticated),
        ]);
    }

    #[test]
    fn the_gateways_own_routes_are_public() {
        check(&[
            (Method::GET, "/healthz", Access::Public),
            (Method::GET, "/openapi.json", Access::Public),
            (Method::GET, "/api/v1x/users", Access::Public),
        ]);
    }

    #[test]
    fn a_double_star_matches_zero_or_more_segments() {
        assert!(matches("/a/**", &["a"]));
        assert!(matches("/a/**", &["a", "b", "c"]));
        assert!(matches("/a/**/z", &["a", "b", "z"]));
        assert!(!matches("/a/**", &["b"]));
        assert!(!matches("/a/*", &["a"]));
        assert!(!matches("/a/*", &["a", "b", "c"]));
    }
}
