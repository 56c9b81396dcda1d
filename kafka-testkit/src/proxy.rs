//! The test kit's TCP proxy ([`kafka_template_test::proxy`]) in front of a
//! `scripts/kafka` cluster.
//!
//! `scripts/kafka start` gives each node a `PROXIED` listener whose advertised
//! address is a "front" port; [`HarnessProxy::start`] listens on those front
//! ports and forwards to the brokers, so a client that bootstraps at
//! [`KafkaProxy::bootstrap`] reaches every broker through the proxy.

pub use kafka_template_test::proxy::{KafkaProxy, PRODUCE};

/// Starts a [`KafkaProxy`] in front of a `scripts/kafka` cluster.
pub trait HarnessProxy {
    /// In front of the shared cluster (`scripts/kafka proxy-routes`).
    fn start() -> KafkaProxy;
    /// In front of this cluster (a [`Cluster`](crate::Cluster) of a test's own,
    /// or the shared one). The front ports are the cluster's own, so proxies of
    /// different clusters coexist.
    fn start_for(kafka: &crate::Kafka) -> KafkaProxy;
}

impl HarnessProxy for KafkaProxy {
    fn start() -> KafkaProxy {
        with_routes(&crate::run_script(&["proxy-routes"]))
    }

    fn start_for(kafka: &crate::Kafka) -> KafkaProxy {
        with_routes(&kafka.script(&["proxy-routes"]))
    }
}

/// `FRONT_PORT BACKEND_PORT` lines, as `scripts/kafka proxy-routes` prints them.
fn with_routes(routes: &str) -> KafkaProxy {
    let routes: Vec<(u16, u16)> = routes
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split_whitespace().map(|p| p.parse::<u16>());
            match (parts.next(), parts.next()) {
                (Some(Ok(front)), Some(Ok(back))) => (front, back),
                _ => panic!("scripts/kafka proxy-routes printed {line:?}"),
            }
        })
        .collect();
    KafkaProxy::with_routes(&routes).unwrap_or_else(|e| panic!("{e}"))
}
