//! A topic's name, shared instead of copied.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A topic's name as [`RecordMetadata`](crate::RecordMetadata) gives it:
/// the records of a topic share the producer's one copy of its name, so an
/// acknowledged record costs no allocation for its topic.
///
/// It reads as a `str` (`Deref`, `AsRef<str>`, `Borrow<str>`, `Display`),
/// compares with `str`, `&str` and `String`, and converts to a `String`.
///
/// ```
/// use kafka_core::TopicName;
/// let topic = TopicName::from("orders");
/// assert_eq!(topic, "orders");
/// assert_eq!(topic.as_str(), "orders");
/// assert!(topic.starts_with("ord"));
/// assert_eq!(format!("{topic} {topic:?}"), "orders \"orders\"");
/// let owned: String = topic.into();
/// assert_eq!(owned, "orders");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicName(Arc<str>);

impl TopicName {
    /// The name as a `str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for TopicName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TopicName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Hashes and compares as its `str`, so a `HashMap<TopicName, _>` is looked
/// up by `&str`.
impl Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<Arc<str>> for TopicName {
    fn from(name: Arc<str>) -> Self {
        TopicName(name)
    }
}

impl From<&str> for TopicName {
    fn from(name: &str) -> Self {
        TopicName(Arc::from(name))
    }
}

impl From<String> for TopicName {
    fn from(name: String) -> Self {
        TopicName(Arc::from(name))
    }
}

impl From<&String> for TopicName {
    fn from(name: &String) -> Self {
        TopicName(Arc::from(name.as_str()))
    }
}

impl From<Box<str>> for TopicName {
    fn from(name: Box<str>) -> Self {
        TopicName(Arc::from(name))
    }
}

impl From<std::borrow::Cow<'_, str>> for TopicName {
    fn from(name: std::borrow::Cow<'_, str>) -> Self {
        TopicName(Arc::from(name))
    }
}

impl From<TopicName> for Arc<str> {
    fn from(name: TopicName) -> Self {
        name.0
    }
}

impl From<TopicName> for String {
    fn from(name: TopicName) -> Self {
        name.0.as_ref().to_owned()
    }
}

impl From<&TopicName> for String {
    fn from(name: &TopicName) -> Self {
        name.0.as_ref().to_owned()
    }
}

/// Compares as `str` with `$other`, both ways round.
macro_rules! eq_as_str {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for TopicName {
            fn eq(&self, other: &$other) -> bool {
                *self.0 == **other
            }
        }
        impl PartialEq<TopicName> for $other {
            fn eq(&self, other: &TopicName) -> bool {
                **self == *other.0
            }
        }
    )*};
}

eq_as_str!(&str, String, Arc<str>);

impl PartialEq<str> for TopicName {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<TopicName> for str {
    fn eq(&self, other: &TopicName) -> bool {
        *self == *other.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn compares_hashes_and_converts_as_its_str() {
        let topic = TopicName::from(String::from("orders"));
        assert_eq!(topic, "orders");
        assert_eq!("orders", topic);
        assert_eq!(topic, String::from("orders"));
        assert_eq!(String::from("orders"), topic);
        assert_eq!(*"orders", topic);
        assert_ne!(topic, "payments");
        assert_eq!(topic, TopicName::from(&String::from("orders")));
        let by_topic = HashMap::from([(topic.clone(), 1)]);
        assert_eq!(by_topic.get("orders"), Some(&1));
        let mut names = [TopicName::from("b"), TopicName::from("a")];
        names.sort();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(String::from(&topic), "orders");
        assert_eq!(topic, Arc::<str>::from("orders"));
        assert_eq!(TopicName::from(std::borrow::Cow::Borrowed("orders")), topic);
        assert_eq!(TopicName::from(Box::<str>::from("orders")), topic);
        assert_eq!(&*Arc::<str>::from(topic.clone()), "orders");
        assert_eq!(topic.len(), 6);
    }
}
