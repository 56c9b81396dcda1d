//! The keys under `kafka:` (or `spring.kafka:`), mirroring Spring Boot's
//! `spring.kafka.*`, and what each one maps to.

/// A typed setting: one leaf of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Setting {
    BootstrapServers,
    ClientId,
    SecurityProtocol,
    /// A Spring `ssl.*` key, with its Java name.
    Ssl(&'static str),
    Acks,
    BatchSize,
    BufferMemory,
    CompressionType,
    Retries,
    Linger,
    KeySerializer,
    ValueSerializer,
    TransactionIdPrefix,
    AllowNonTransactional,
    DefaultTopic,
    CloseTimeout,
    /// `template.observation-enabled`: a tracing span per send.
    ObservationEnabled,
    /// `template.micrometer-enabled`: Spring's send timer without observation.
    MicrometerEnabled,
    /// `template.trace-propagation-enabled`: W3C trace context in the headers.
    TracePropagationEnabled,
    ProfilesActive,
    ProfilesInclude,
    ProfilesDefault,
    /// `kafka.dev-services.enabled`.
    DevServicesEnabled,
    /// `ssl.bundle`: a Spring Boot SSL bundle (`spring.ssl.bundle.*`).
    SslBundle,
    /// Spring's `spring.kafka.jaas.enabled`: the JAAS login below becomes
    /// `sasl.jaas.config` (unless that is set).
    JaasEnabled,
    /// `spring.kafka.jaas.login-module`.
    JaasLoginModule,
    /// `spring.kafka.jaas.control-flag`.
    JaasControlFlag,
}

/// How a setting's text is converted to the Java client's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// Passed on as written.
    Text,
    /// A comma-separated list (a YAML list arrives already joined).
    List,
    /// A byte size (`32MB`), passed on as a number of bytes.
    Size,
    /// A duration (`5ms`, plain number = ms), passed on as whole milliseconds.
    Millis,
    /// A duration kept as a `Duration` (template settings).
    Duration,
    /// A boolean as Spring converts one (`true`/`false`, `on`/`off`,
    /// `yes`/`no`, `1`/`0`), kept as `true` or `false`.
    Bool,
}

impl Setting {
    /// The Java client property this setting sets, if it is a producer property.
    pub(crate) fn java_name(self) -> Option<&'static str> {
        Some(match self {
            Setting::BootstrapServers => "bootstrap.servers",
            Setting::ClientId => "client.id",
            Setting::SecurityProtocol => "security.protocol",
            Setting::Ssl(java) => java,
            Setting::Acks => "acks",
            Setting::BatchSize => "batch.size",
            Setting::BufferMemory => "buffer.memory",
            Setting::CompressionType => "compression.type",
            Setting::Retries => "retries",
            Setting::Linger => "linger.ms",
            Setting::KeySerializer => "key.serializer",
            Setting::ValueSerializer => "value.serializer",
            Setting::TransactionIdPrefix
            | Setting::AllowNonTransactional
            | Setting::DefaultTopic
            | Setting::CloseTimeout
            | Setting::ObservationEnabled
            | Setting::MicrometerEnabled
            | Setting::TracePropagationEnabled
            | Setting::ProfilesActive
            | Setting::ProfilesInclude
            | Setting::ProfilesDefault
            | Setting::DevServicesEnabled
            | Setting::SslBundle
            | Setting::JaasEnabled
            | Setting::JaasLoginModule
            | Setting::JaasControlFlag => return None,
        })
    }

    pub(crate) fn conversion(self) -> Conversion {
        match self {
            Setting::BootstrapServers
            | Setting::ProfilesActive
            | Setting::ProfilesInclude
            | Setting::ProfilesDefault => Conversion::List,
            Setting::BatchSize | Setting::BufferMemory => Conversion::Size,
            Setting::Linger => Conversion::Millis,
            Setting::CloseTimeout => Conversion::Duration,
            Setting::AllowNonTransactional
            | Setting::JaasEnabled
            | Setting::ObservationEnabled
            | Setting::MicrometerEnabled
            | Setting::TracePropagationEnabled => Conversion::Bool,
            _ => Conversion::Text,
        }
    }
}

/// A named child of a schema section.
#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub node: Node,
}

/// What a key position holds.
#[derive(Debug)]
pub(crate) enum Node {
    Section(&'static [Field]),
    /// `producer` (`named: false`) or `producers.<name>` (`named: true`, which
    /// adds a `template` section).
    Producer {
        named: bool,
    },
    Setting(Setting),
    /// `properties.*`: Java client names, dotted keys kept whole.
    JavaProperties,
    /// `topics.*`: free names for placeholders.
    Topics,
    /// `jaas.options.*`: JAAS option names, kept as written.
    JaasOptions,
    /// `producers.<name>.*`.
    NamedProducers,
    /// `profiles.group.<name>`: the profiles a group name activates.
    ProfileGroups,
    /// A Spring section with no meaning for a producer (`consumer`, `listener`,
    /// ...): accepted so that a Spring application's file loads, and not used.
    Ignored,
}

impl Node {
    /// The children of a section-like node.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &'static Field> {
        let (first, second): (&'static [Field], &'static [Field]) = match self {
            Node::Section(fields) => (fields, &[]),
            Node::Producer { named: false } => (PRODUCER, &[]),
            Node::Producer { named: true } => (PRODUCER, NAMED_PRODUCER_EXTRA),
            _ => (&[], &[]),
        };
        first.iter().chain(second)
    }

    pub(crate) fn is_section(&self) -> bool {
        matches!(self, Node::Section(_) | Node::Producer { .. })
    }
}

const fn field(name: &'static str, node: Node) -> Field {
    Field { name, node }
}

const fn setting(name: &'static str, setting: Setting) -> Field {
    Field {
        name,
        node: Node::Setting(setting),
    }
}

/// Spring's `spring.kafka.ssl.*` (and `producer.ssl.*`) names with their Java names.
static SSL: &[Field] = &[
    setting("key-password", Setting::Ssl("ssl.key.password")),
    setting(
        "key-store-certificate-chain",
        Setting::Ssl("ssl.keystore.certificate.chain"),
    ),
    setting("key-store-key", Setting::Ssl("ssl.keystore.key")),
    setting("key-store-location", Setting::Ssl("ssl.keystore.location")),
    setting("key-store-password", Setting::Ssl("ssl.keystore.password")),
    setting("key-store-type", Setting::Ssl("ssl.keystore.type")),
    setting(
        "trust-store-certificates",
        Setting::Ssl("ssl.truststore.certificates"),
    ),
    setting(
        "trust-store-location",
        Setting::Ssl("ssl.truststore.location"),
    ),
    setting(
        "trust-store-password",
        Setting::Ssl("ssl.truststore.password"),
    ),
    setting("trust-store-type", Setting::Ssl("ssl.truststore.type")),
    setting("protocol", Setting::Ssl("ssl.protocol")),
    setting("bundle", Setting::SslBundle),
];

static SECURITY: &[Field] = &[setting("protocol", Setting::SecurityProtocol)];

/// Spring's `spring.kafka.jaas.*`: a JAAS login for the clients (Spring
/// installs it JVM-wide; here it becomes `sasl.jaas.config`).
static JAAS: &[Field] = &[
    setting("enabled", Setting::JaasEnabled),
    setting("login-module", Setting::JaasLoginModule),
    setting("control-flag", Setting::JaasControlFlag),
    field("options", Node::JaasOptions),
];

/// `kafka.dev-services.*`: a local broker in the `dev` profile.
static DEV_SERVICES: &[Field] = &[setting("enabled", Setting::DevServicesEnabled)];

static TEMPLATE: &[Field] = &[
    setting("default-topic", Setting::DefaultTopic),
    setting("close-timeout", Setting::CloseTimeout),
    setting("transaction-id-prefix", Setting::TransactionIdPrefix),
    setting("allow-non-transactional", Setting::AllowNonTransactional),
    setting("observation-enabled", Setting::ObservationEnabled),
    setting("micrometer-enabled", Setting::MicrometerEnabled),
    setting(
        "trace-propagation-enabled",
        Setting::TracePropagationEnabled,
    ),
];

static PRODUCER: &[Field] = &[
    setting("acks", Setting::Acks),
    setting("batch-size", Setting::BatchSize),
    setting("bootstrap-servers", Setting::BootstrapServers),
    setting("buffer-memory", Setting::BufferMemory),
    setting("client-id", Setting::ClientId),
    setting("compression-type", Setting::CompressionType),
    setting("key-serializer", Setting::KeySerializer),
    setting("linger", Setting::Linger),
    setting("retries", Setting::Retries),
    setting("transaction-id-prefix", Setting::TransactionIdPrefix),
    setting("value-serializer", Setting::ValueSerializer),
    field("properties", Node::JavaProperties),
    field("security", Node::Section(SECURITY)),
    field("ssl", Node::Section(SSL)),
];

static NAMED_PRODUCER_EXTRA: &[Field] = &[field("template", Node::Section(TEMPLATE))];

/// Our spelling of Spring's `spring.profiles.*` (which is read too).
static PROFILES: &[Field] = &[
    setting("active", Setting::ProfilesActive),
    setting("include", Setting::ProfilesInclude),
    setting("default", Setting::ProfilesDefault),
    field("group", Node::ProfileGroups),
];

/// The children of the `kafka` (or `spring.kafka`) root.
pub(crate) static ROOT: Node = Node::Section(&[
    setting("bootstrap-servers", Setting::BootstrapServers),
    setting("client-id", Setting::ClientId),
    field("properties", Node::JavaProperties),
    field("security", Node::Section(SECURITY)),
    field("ssl", Node::Section(SSL)),
    field("jaas", Node::Section(JAAS)),
    field("producer", Node::Producer { named: false }),
    field("producers", Node::NamedProducers),
    field("template", Node::Section(TEMPLATE)),
    field("topics", Node::Topics),
    field("profiles", Node::Section(PROFILES)),
    field("dev-services", Node::Section(DEV_SERVICES)),
    field("admin", Node::Ignored),
    field("consumer", Node::Ignored),
    field("listener", Node::Ignored),
    field("retry", Node::Ignored),
    field("streams", Node::Ignored),
]);
