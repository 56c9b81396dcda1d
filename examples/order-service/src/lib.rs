//! An order service that publishes what happens to orders through an injected
//! [`KafkaTemplate`]: the shape of a Spring Boot service with `KafkaTemplate`
//! autowired, in Rust.
//!
//! Each operation runs in a span of its own (`place-order`, `ship-order`,
//! with the order id and tenant); with `template.observation-enabled: true`
//! (this example's `application.yml`) each send is a child `send <topic>`
//! span, and the record carries its W3C `traceparent` header when an
//! OpenTelemetry tracer is installed ([`telemetry`]; the binary installs one
//! that logs every span as one line). [`management`] serves the producers'
//! metrics.

use std::time::SystemTime;

pub mod management;
pub mod telemetry;

use kafka_template::record::serde_millis;
use kafka_template::{
    AvroType, KafkaConfig, KafkaRecord, KafkaTemplate, SendResult, TemplateError, core::SendError,
};
use serde::Serialize;

/// An order was placed (Avro, keyed by order id, tenant header).
#[derive(Clone, Debug, PartialEq, Serialize, KafkaRecord)]
#[kafka(
    topic = "${app.topics.orders:orders}",
    format = "avro",
    namespace = "com.shop.orders"
)]
pub struct OrderPlaced {
    /// The order's id; also the record key, so one order's events stay in order.
    #[kafka(key)]
    pub order_id: String,
    /// Who ordered.
    pub customer: Customer,
    /// Total in cents.
    pub amount_cents: i64,
    /// A coupon code, if one was used.
    pub coupon: Option<String>,
    /// What was ordered.
    pub items: Vec<Item>,
    /// The tenant, carried as a header for routing without decoding the value.
    #[kafka(header = "tenant")]
    pub tenant: String,
    /// When the order was placed; the record's timestamp.
    #[kafka(timestamp)]
    #[serde(with = "serde_millis")]
    pub placed_at: SystemTime,
}

/// A customer.
#[derive(Clone, Debug, PartialEq, Serialize, AvroType)]
#[kafka(namespace = "com.shop.orders")]
pub struct Customer {
    /// Customer id.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Serialize, AvroType)]
#[kafka(namespace = "com.shop.orders")]
pub struct Item {
    /// Stock keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: i32,
}

/// An order was shipped (JSON, with a `__TypeId__` header for Spring consumers).
#[derive(Clone, Debug, PartialEq, Serialize, KafkaRecord)]
#[kafka(
    topic = "${app.topics.shipments:shipments}",
    type_id = "com.shop.orders.OrderShipped"
)]
pub struct OrderShipped {
    /// The order's id (record key).
    #[kafka(key)]
    pub order_id: String,
    /// Parcel tracking number.
    pub tracking_number: String,
    /// The tenant header.
    #[kafka(header = "tenant")]
    pub tenant: String,
}

/// The configuration key naming the producer (`kafka.producers.<name>`) that
/// sends shipments and the audit line, when they are not to go through the
/// default producer (the `avro` profile: its serializer lines are
/// `KafkaAvroSerializer`, which shipments, JSON for Spring consumers, are not).
pub const EVENTS_PRODUCER_KEY: &str = "app.events-producer";

/// The service: business logic with a template injected, as a Spring bean
/// would get its `KafkaTemplate`.
#[derive(Clone, Debug)]
pub struct OrderService {
    /// Orders (`OrderPlaced`).
    kafka: KafkaTemplate,
    /// Shipments and the audit line, when not through `kafka`.
    events: Option<KafkaTemplate>,
}

impl OrderService {
    /// A service publishing everything through `kafka`.
    pub fn new(kafka: KafkaTemplate) -> Self {
        OrderService {
            kafka,
            events: None,
        }
    }

    /// Sends shipments and the audit line through `events` instead (a template
    /// of another producer, with other serializer lines).
    pub fn with_events_template(mut self, events: KafkaTemplate) -> Self {
        self.events = Some(events);
        self
    }

    /// The service as configured: the default producer's template for orders,
    /// with `OrderPlaced` registered (its topic resolved, its serializer lines
    /// checked and, with `KafkaAvroSerializer` lines, its schemas registered
    /// at start), and for shipments and the audit line the producer named by
    /// `app.events-producer` when set, else the same template.
    pub fn from_config(config: KafkaConfig) -> Result<OrderService, TemplateError> {
        let events_producer = config.lookup(EVENTS_PRODUCER_KEY).map(str::to_owned);
        let orders = KafkaTemplate::builder()
            .config(config.clone())
            .register::<OrderPlaced>();
        let Some(name) = events_producer else {
            let kafka = orders.register::<OrderShipped>().build()?;
            return Ok(OrderService::new(kafka));
        };
        let events = KafkaTemplate::builder()
            .config(config)
            .producer(name)
            .register::<OrderShipped>()
            .build()?;
        Ok(OrderService::new(orders.build()?).with_events_template(events))
    }

    /// The template orders go through.
    pub fn orders_template(&self) -> &KafkaTemplate {
        &self.kafka
    }

    /// The template shipments and the audit line go through.
    pub fn events_template(&self) -> &KafkaTemplate {
        self.events.as_ref().unwrap_or(&self.kafka)
    }

    /// Every template of the service, once each (to close them, or read their metrics).
    pub fn templates(&self) -> impl Iterator<Item = &KafkaTemplate> {
        std::iter::once(&self.kafka).chain(&self.events)
    }

    /// Places an order: validates it and publishes `OrderPlaced`, waiting for the
    /// broker's acknowledgement, then the audit line, all in a `place-order`
    /// span (both records carry its trace).
    #[tracing::instrument(
        name = "place-order",
        skip_all,
        fields(order.id = %order.order_id, order.tenant = %order.tenant)
    )]
    pub async fn place_order(&self, order: OrderPlaced) -> Result<SendResult, OrderError> {
        if order.items.is_empty() {
            return Err(OrderError::Invalid(format!(
                "order {} has no items",
                order.order_id
            )));
        }
        let sent = self.kafka.send(&order).await?;
        // An audit line to the template's default topic.
        self.events_template()
            .send_default(
                Some(order.order_id.clone()),
                format!("placed {}", order.order_id),
            )
            .await?;
        Ok(sent)
    }

    /// Ships an order: publishes `OrderShipped`, in a `ship-order` span.
    #[tracing::instrument(
        name = "ship-order",
        skip_all,
        fields(order.id = %order_id, order.tenant = %tenant)
    )]
    pub async fn ship_order(
        &self,
        order_id: &str,
        tracking_number: &str,
        tenant: &str,
    ) -> Result<SendResult, OrderError> {
        let shipped = OrderShipped {
            order_id: order_id.to_owned(),
            tracking_number: tracking_number.to_owned(),
            tenant: tenant.to_owned(),
        };
        Ok(self.events_template().send(&shipped).await?)
    }
}

/// Why an order operation failed.
#[derive(Debug)]
pub enum OrderError {
    /// The order is not valid.
    Invalid(String),
    /// Publishing failed; the record is inside (for a retry or a dead letter).
    Publish(SendError),
}

impl From<SendError> for OrderError {
    fn from(e: SendError) -> Self {
        OrderError::Publish(e)
    }
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderError::Invalid(why) => write!(f, "invalid order: {why}"),
            OrderError::Publish(e) => write!(f, "could not publish: {e}"),
        }
    }
}

impl std::error::Error for OrderError {}

/// A sample order, for the demo run and the tests.
pub fn sample_order(n: u32) -> OrderPlaced {
    OrderPlaced {
        order_id: format!("order-{n:05}"),
        customer: Customer {
            id: i64::from(n % 7),
            name: format!("customer-{}", n % 7),
        },
        amount_cents: 1_000 + i64::from(n) * 7,
        coupon: n.is_multiple_of(3).then(|| "WELCOME10".to_owned()),
        items: vec![Item {
            sku: format!("SKU-{:03}", n % 11),
            quantity: 1 + (n % 4) as i32,
        }],
        tenant: if n.is_multiple_of(2) {
            "acme"
        } else {
            "globex"
        }
        .to_owned(),
        placed_at: SystemTime::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_template::MockProducer;
    use kafka_template::core::KafkaError;

    fn service() -> (OrderService, MockProducer) {
        let mock = MockProducer::new(6);
        let config = kafka_template::KafkaConfig::builder()
            .dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
            .env_source(Vec::<(String, String)>::new())
            .load()
            .expect("the example's configuration loads");
        let kafka = KafkaTemplate::mock_builder(mock.clone())
            .config(config)
            .build()
            .expect("template");
        (OrderService::new(kafka), mock)
    }

    #[tokio::test]
    async fn placing_an_order_publishes_it_keyed_with_the_tenant_header_and_an_audit_line() {
        let (service, mock) = service();
        let order = sample_order(4);
        let sent = service.place_order(order.clone()).await.expect("placed");
        assert_eq!(sent.record_metadata.topic, "orders");
        let history = mock.history();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].topic, "orders");
        assert_eq!(history[0].key_str().as_deref(), Some("order-00004"));
        assert_eq!(history[0].header_str("tenant").as_deref(), Some("acme"));
        // Avro single-object encoding: C3 01 + fingerprint + datum.
        assert_eq!(&history[0].value.as_deref().unwrap()[..2], &[0xC3, 0x01]);
        assert_eq!(history[1].topic, "order-audit");
        assert_eq!(
            history[1].value_str().as_deref(),
            Some("placed order-00004")
        );
    }

    #[tokio::test]
    async fn an_order_without_items_is_rejected_before_anything_is_sent() {
        let (service, mock) = service();
        let mut order = sample_order(1);
        order.items.clear();
        assert!(matches!(
            service.place_order(order).await,
            Err(OrderError::Invalid(_))
        ));
        assert!(mock.history().is_empty());
    }

    #[tokio::test]
    async fn a_publish_failure_gives_the_record_back() {
        let (service, mock) = service();
        mock.fail_next(KafkaError::Internal("broker unavailable".into()));
        match service.ship_order("order-1", "TRACK-1", "acme").await {
            Err(OrderError::Publish(e)) => {
                let record = e.record().expect("the record comes back");
                assert_eq!(record.topic, "shipments");
                assert_eq!(record.key.as_deref(), Some(&b"order-1"[..]));
            }
            other => panic!("expected a publish error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn shipments_are_json_with_the_spring_type_id() {
        let (service, mock) = service();
        service
            .ship_order("order-9", "TRACK-9", "globex")
            .await
            .expect("shipped");
        let sent = &mock.history()[0];
        assert_eq!(
            sent.header_str("__TypeId__").as_deref(),
            Some("com.shop.orders.OrderShipped")
        );
        assert_eq!(
            sent.value_str().as_deref(),
            Some(r#"{"order_id":"order-9","tracking_number":"TRACK-9","tenant":"globex"}"#)
        );
    }
}
