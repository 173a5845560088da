//! Which service owns each first path segment under `/api/v1`, as the services of the
//! system declare in their public APIs.

use service_kit::{ServiceDef, ServiceName};

/// `/api/v1/<prefix>/...` is served by the paired service, under the same path.
#[derive(Debug, Clone)]
pub struct Routes(Vec<(&'static str, ServiceName)>);

impl Routes {
    /// The prefixes of every service with a public API. Two services claiming one prefix
    /// is a mistake in the system's definition, refused here rather than resolved by
    /// whichever comes first.
    pub fn of(services: &[&ServiceDef]) -> anyhow::Result<Self> {
        let mut routes: Vec<(&'static str, ServiceName)> = Vec::new();
        for service in services {
            for &prefix in service.public_api.iter().flat_map(|api| api.prefixes) {
                if let Some((_, first)) = routes.iter().find(|(p, _)| *p == prefix) {
                    anyhow::bail!(
                        "/api/v1/{prefix} is claimed by both {first} and {}",
                        service.name
                    );
                }
                routes.push((prefix, service.name));
            }
        }
        Ok(Self(routes))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, ServiceName)> + '_ {
        self.0.iter().copied()
    }

    /// The service a public path is forwarded to, if any.
    pub fn owner(&self, path: &str) -> Option<ServiceName> {
        let prefix = path.strip_prefix("/api/v1/")?.split('/').next()?;
        self.iter()
            .find(|(p, _)| *p == prefix)
            .map(|(_, service)| service)
    }
}

#[cfg(test)]
mod tests {
    use service_kit::PublicApi;

    use super::*;

    const fn owning(name: &'static str, prefixes: &'static [&'static str]) -> ServiceDef {
        ServiceDef {
            name: ServiceName::new(name),
            default_port: 0,
            public_api: Some(PublicApi {
                prefixes,
                contract: "{}",
            }),
            collections: &[],
            wire: |_| Box::pin(async { anyhow::bail!("never started") }),
        }
    }

    const USER: ServiceDef = owning("user", &["users"]);
    const SHIPPING: ServiceDef = owning("shipping", &["shipments"]);

    #[test]
    fn a_path_belongs_to_the_service_named_by_its_first_segment() {
        let routes = Routes::of(&[&USER, &SHIPPING]).unwrap();
        assert_eq!(
            routes.owner("/api/v1/shipments/s1/deliver"),
            Some(SHIPPING.name)
        );
        assert_eq!(routes.owner("/api/v1/users"), Some(USER.name));
        assert_eq!(routes.owner("/api/v1/userss"), None);
        assert_eq!(routes.owner("/healthz"), None);
    }

    #[test]
    fn a_prefix_claimed_by_two_services_is_refused_naming_both() {
        const IMPOSTOR: ServiceDef = owning("impostor", &["users"]);
        let err = Routes::of(&[&USER, &IMPOSTOR]).unwrap_err().to_string();
        assert!(err.contains("user") && err.contains("impostor"), "{err}");
    }
}
