//! The send spans' names, `send <topic>`, made once per topic.
//!
//! OpenTelemetry takes a span's name as `Cow<'static, str>`: a name made per
//! record costs an allocation and a free (about 240 instructions, a sixth of
//! a dropped span's cost), although a service sends to few topics. So each
//! topic's name is made once and kept for the life of the process, up to
//! [`MAX_NAMES`] topics; past that, a name is made per send as before, so
//! that a service inventing topics cannot grow the memory without bound.
//! Each thread looks names up in its own map (no lock shared between the
//! threads that send); the names themselves are shared.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// The most topics whose span name is kept: at most about 250 KiB of names
/// (topic names are at most 249 bytes).
pub(super) const MAX_NAMES: usize = 1024;

type Names = HashMap<Box<str>, &'static str, foldhash::fast::RandomState>;

/// Every name kept, shared by the threads.
static KEPT: Mutex<Option<Names>> = Mutex::new(None);

/// What `send ` adds to a topic.
const PREFIX: &str = "send ";

thread_local! {
    /// The name this thread used last: most sends go to the topic of the
    /// send before, and comparing with it costs less than hashing.
    static LAST: Cell<&'static str> = const { Cell::new(PREFIX) };
    /// The names this thread has used.
    static SEEN: RefCell<Names> = RefCell::default();
}

/// `send <topic>`.
pub(super) fn span_name(topic: &str) -> Cow<'static, str> {
    let last = LAST.get();
    if last.len() == PREFIX.len() + topic.len() && last.ends_with(topic) {
        return Cow::Borrowed(last);
    }
    // `try_with`: a send from a thread-local's destructor may come after
    // this thread's names are gone (then it looks in the shared ones).
    let seen = SEEN
        .try_with(|seen| seen.borrow().get(topic).copied())
        .ok()
        .flatten();
    let name = match seen {
        Some(name) => name,
        None => match kept(topic) {
            Some(name) => {
                let _ = SEEN.try_with(|seen| seen.borrow_mut().insert(topic.into(), name));
                name
            }
            None => return Cow::Owned(made(topic)),
        },
    };
    LAST.set(name);
    Cow::Borrowed(name)
}

/// The kept name of `topic`, kept now if there is room for it.
fn kept(topic: &str) -> Option<&'static str> {
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let names = kept.get_or_insert_with(Names::default);
    if let Some(&name) = names.get(topic) {
        return Some(name);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    // Kept for the life of the process, by design (see the module's docs).
    let name: &'static str = Box::leak(made(topic).into_boxed_str());
    names.insert(topic.into(), name);
    Some(name)
}

fn made(topic: &str) -> String {
    let mut name = String::with_capacity(PREFIX.len() + topic.len());
    name.push_str(PREFIX);
    name.push_str(topic);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_once_per_topic_up_to_the_limit() {
        let first = span_name("span-names-orders");
        assert_eq!(first, "send span-names-orders");
        assert!(matches!(first, Cow::Borrowed(_)), "kept");
        // Another thread finds the same name, not a copy.
        let other = std::thread::spawn(|| match span_name("span-names-orders") {
            Cow::Borrowed(name) => name.as_ptr() as usize,
            Cow::Owned(_) => 0,
        })
        .join()
        .unwrap();
        let Cow::Borrowed(name) = first else {
            unreachable!()
        };
        assert_eq!(other, name.as_ptr() as usize);

        // Past the limit, names are made per send (other tests of this
        // process may have kept a few names too).
        for i in 0..MAX_NAMES {
            let _ = span_name(&format!("span-names-{i}"));
        }
        let past = span_name("span-names-one-too-many");
        assert_eq!(past, "send span-names-one-too-many");
        assert!(matches!(past, Cow::Owned(_)), "not kept past the limit");
        assert!(matches!(span_name("span-names-orders"), Cow::Borrowed(_)));
        // The last name is not mistaken for a topic it ends with.
        assert_eq!(span_name("orders"), "send orders");
        assert_eq!(span_name("span-names-orders"), "send span-names-orders");
        assert_eq!(span_name(""), "send ");
    }
}
