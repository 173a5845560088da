//! Which service owns each first path segment under `/api/v1`.

use service_kit::ServiceName;

/// `/api/v1/<prefix>/...` is served by the paired service, under the same path.
pub const ROUTES: &[(&str, ServiceName)] = &[
    ("auth", ServiceName::Auth),
    ("users", ServiceName::User),
    ("products", ServiceName::Product),
    ("cart", ServiceName::Cart),
    ("orders", ServiceName::Order),
    ("payments", ServiceName::Payment),
    ("shipments", ServiceName::Shipping),
    ("notifications", ServiceName::Notification),
];

/// The service a public path is forwarded to, if any.
pub fn owner(path: &str) -> Option<ServiceName> {
    let prefix = path.strip_prefix("/api/v1/")?.split('/').next()?;
    ROUTES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, service)| *service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_but_the_gateway_owns_exactly_one_prefix() {
        for service in ServiceName::ALL {
            let owned = ROUTES.iter().filter(|(_, s)| *s == service).count();
            let expected = usize::from(service != ServiceName::Gateway);
            assert_eq!(owned, expected, "{service}");
        }
    }

    #[test]
    fn a_path_belongs_to_the_service_named_by_its_first_segment() {
        assert_eq!(
            owner("/api/v1/shipments/s1/deliver"),
            Some(ServiceName::Shipping)
        );
        assert_eq!(owner("/api/v1/users"), Some(ServiceName::User));
        assert_eq!(owner("/api/v1/userss"), None);
        assert_eq!(owner("/healthz"), None);
    }
}
