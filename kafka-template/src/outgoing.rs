//! The record a send hands on: owned (a [`ProducerRecord`] the caller gave,
//! or one the template must keep), or lent from per-thread buffers (a
//! derived record serialized for one send, which the producer copies into
//! its batch: no allocation per record).

use std::cell::RefCell;

use kafka_core::{Header, ProducerRecord, RecordRef};

/// A record on its way to the producer.
// `pub` in a private module: named by the sealed `IntoProducerRecord`'s
// hidden method, out of reach of users.
#[derive(Debug)]
pub enum Outgoing<'r> {
    Owned(ProducerRecord),
    Lent(LentRecord<'r>),
}

/// A derived record's parts for one send: its bytes borrowed from the
/// buffers they were serialized into, its headers its own (the trace
/// context may replace some).
#[derive(Debug)]
pub struct LentRecord<'r> {
    pub(crate) topic: &'r str,
    pub(crate) key: Option<&'r [u8]>,
    pub(crate) value: &'r [u8],
    pub(crate) timestamp: Option<i64>,
    pub(crate) headers: Vec<Header>,
}

impl LentRecord<'_> {
    #[inline]
    pub(crate) fn as_record_ref(&self) -> RecordRef<'_> {
        RecordRef {
            topic: self.topic,
            partition: None,
            key: self.key,
            value: Some(self.value),
            timestamp: self.timestamp,
            headers: &self.headers,
        }
    }
}

impl Outgoing<'_> {
    /// The record, borrowed.
    #[inline]
    pub(crate) fn as_record_ref(&self) -> RecordRef<'_> {
        match self {
            Outgoing::Owned(record) => record.as_record_ref(),
            Outgoing::Lent(lent) => lent.as_record_ref(),
        }
    }

    /// The topic it goes to.
    #[inline]
    pub(crate) fn topic(&self) -> &str {
        match self {
            Outgoing::Owned(record) => &record.topic,
            Outgoing::Lent(lent) => lent.topic,
        }
    }

    /// Its headers, to change before it is sent.
    #[inline]
    pub(crate) fn headers_mut(&mut self) -> &mut Vec<Header> {
        match self {
            Outgoing::Owned(record) => &mut record.headers,
            Outgoing::Lent(lent) => &mut lent.headers,
        }
    }

    /// The record owned: as it is, or copied out of the buffers it was
    /// lent from.
    pub(crate) fn into_owned(self) -> ProducerRecord {
        match self {
            Outgoing::Owned(record) => record,
            Outgoing::Lent(lent) => {
                let LentRecord {
                    topic,
                    key,
                    value,
                    timestamp,
                    headers,
                } = lent;
                ProducerRecord {
                    headers,
                    ..RecordRef {
                        topic,
                        partition: None,
                        key,
                        value: Some(value),
                        timestamp,
                        headers: &[],
                    }
                    .into_owned()
                }
            }
        }
    }
}

/// The largest buffer a thread keeps between records.
const MAX_KEPT: usize = 1 << 20;

thread_local! {
    /// The buffers a derived record's key and value are serialized into for
    /// a lent send. Borrowed in place, not moved out and back: a send made
    /// while they are in use (by a serializer or listener that sends) finds
    /// them borrowed and serializes into buffers of its own.
    static BUFFERS: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Runs `f` with this thread's key and value buffers, emptied, and keeps
/// them for the next record (a buffer that grew past [`MAX_KEPT`] is let go).
#[inline]
pub(crate) fn with_buffers<T>(f: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> T) -> T {
    // A send from a thread-local's destructor, after this one's: buffers of
    // its own (`with` would panic; `try_with` would drop `f` with its
    // callback). Nothing runs between this check and `with` below.
    if BUFFERS.try_with(|_| ()).is_err() {
        return f(&mut Vec::new(), &mut Vec::new());
    }
    BUFFERS.with(|buffers| match buffers.try_borrow_mut() {
        Ok(mut buffers) => {
            let (key, value) = &mut *buffers;
            key.clear();
            value.clear();
            let result = f(key, value);
            for buffer in [key, value] {
                if buffer.capacity() > MAX_KEPT {
                    *buffer = Vec::new();
                }
            }
            result
        }
        Err(_) => f(&mut Vec::new(), &mut Vec::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_from_a_thread_locals_destructor_after_the_buffers_went_gets_its_own() {
        struct SendsOnDrop(std::sync::mpsc::Sender<Vec<u8>>);
        impl Drop for SendsOnDrop {
            fn drop(&mut self) {
                let value = with_buffers(|_, value| {
                    value.extend_from_slice(b"late");
                    value.clone()
                });
                self.0.send(value).expect("the test hears");
            }
        }
        thread_local! {
            static LATE: RefCell<Option<SendsOnDrop>> = const { RefCell::new(None) };
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Registered before the buffers: destroyed after them (glibc runs
            // thread-local destructors last registered, first).
            LATE.with(|late| *late.borrow_mut() = Some(SendsOnDrop(tx)));
            with_buffers(|key, _| key.push(1));
        })
        .join()
        .expect("the thread's destructors do not panic");
        assert_eq!(rx.recv().expect("sent from the destructor"), b"late");
    }

    #[test]
    fn a_lent_record_owned_is_the_record_it_was_made_from() {
        let headers = vec![Header::new("tenant", "acme"), Header::null("n")];
        let lent = Outgoing::Lent(LentRecord {
            topic: "orders",
            key: Some(b"o-1"),
            value: b"{\"id\":1}",
            timestamp: Some(1_700_000_000_000),
            headers: headers.clone(),
        });
        assert_eq!(lent.topic(), "orders");
        assert_eq!(lent.as_record_ref().headers, &headers[..]);
        let mut expected = ProducerRecord::new("orders", "{\"id\":1}")
            .with_key("o-1")
            .with_timestamp(1_700_000_000_000);
        expected.headers = headers;
        assert_eq!(lent.into_owned(), expected);
    }

    #[test]
    fn buffers_come_empty_even_to_a_send_made_while_serializing_another() {
        let outer = with_buffers(|key, value| {
            key.extend_from_slice(b"outer-key");
            value.extend_from_slice(b"outer-value");
            // A send while this one serializes gets buffers of its own.
            let inner = with_buffers(|key, value| {
                assert!(key.is_empty() && value.is_empty());
                value.extend_from_slice(b"inner");
                value.clone()
            });
            assert_eq!(inner, b"inner");
            (key.clone(), value.clone())
        });
        assert_eq!(outer, (b"outer-key".to_vec(), b"outer-value".to_vec()));
        with_buffers(|key, value| assert!(key.is_empty() && value.is_empty()));
    }

    #[test]
    fn a_huge_key_or_value_does_not_stay_allocated() {
        with_buffers(|_, value| value.resize(MAX_KEPT + 1, b'x'));
        let (key, value) = BUFFERS.take();
        assert!(key.capacity() <= MAX_KEPT && value.capacity() <= MAX_KEPT);
        with_buffers(|key, _| key.resize(MAX_KEPT + 1, b'x'));
        let (key, value) = BUFFERS.take();
        assert!(key.capacity() <= MAX_KEPT && value.capacity() <= MAX_KEPT);
    }
}
