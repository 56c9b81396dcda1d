//! Values kept between compressions (zstd contexts, output scratch space) and
//! shared by every thread. Any thread may compress a batch — the sender, or an
//! application thread whose append closes one when `buffer.memory` is short —
//! so per-thread copies would cost memory for every thread that ever sent; a
//! shared set costs one per compression running at the same time.

use std::cell::Cell;
use std::num::NonZeroUsize;
use std::sync::{Mutex, OnceLock};

thread_local! {
    /// The slot this thread used last: taking from it again keeps a value on one
    /// thread (and its core's caches) while threads take turns compressing.
    static PREFERRED_SLOT: Cell<usize> = const { Cell::new(0) };
}

/// Up to one value per core (no more compressions than that run at once), in
/// slots each thread prefers to reuse.
pub(crate) struct Reusable<T> {
    slots: Mutex<Vec<Option<T>>>,
}

impl<T> Reusable<T> {
    pub(crate) const fn new() -> Self {
        Reusable {
            slots: Mutex::new(Vec::new()),
        }
    }

    /// A kept value, from this thread's preferred slot if it holds one; `None`
    /// when every one is in use (or none was made yet).
    pub(crate) fn take(&self) -> Option<T> {
        let mut slots = self.lock();
        let preferred = PREFERRED_SLOT.get();
        if let Some(value) = slots.get_mut(preferred).and_then(Option::take) {
            return Some(value);
        }
        let (index, value) = slots
            .iter_mut()
            .enumerate()
            .find_map(|(index, slot)| slot.take().map(|value| (index, value)))?;
        PREFERRED_SLOT.set(index);
        Some(value)
    }

    /// Keeps `value` for a later [`take`](Self::take), in this thread's
    /// preferred slot if free; drops it when one per core is kept already.
    pub(crate) fn give_back(&self, value: T) {
        let mut slots = self.lock();
        let preferred = PREFERRED_SLOT.get();
        let index = match slots.get(preferred) {
            Some(None) => preferred,
            _ => match slots.iter().position(Option::is_none) {
                Some(free) => free,
                None if slots.len() < max_kept() => {
                    slots.push(None);
                    slots.len() - 1
                }
                None => return,
            },
        };
        slots[index] = Some(value);
        PREFERRED_SLOT.set(index);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<T>>> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn max_kept() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(4, NonZeroUsize::get))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_given_back_values_up_to_one_per_core() {
        let pool = Reusable::new();
        assert_eq!(pool.take(), None);
        for i in 0..max_kept() + 3 {
            pool.give_back(i);
        }
        let mut taken = Vec::new();
        while let Some(value) = pool.take() {
            taken.push(value);
        }
        taken.sort_unstable();
        // Those past the limit were dropped.
        assert_eq!(taken, (0..max_kept()).collect::<Vec<_>>());
    }

    #[test]
    fn each_thread_gets_back_the_value_it_gave_back() {
        use std::sync::{Arc, Barrier};
        if max_kept() < 2 {
            return; // One core keeps one value: there is no choice to test.
        }
        let pool = Arc::new(Reusable::new());
        let step = Arc::new(Barrier::new(2));
        // In turn: a gives back, b gives back (slots [a, b]); b takes, a takes.
        // Taking the first value found instead would hand "a" to b.
        let thread = |name: &'static str, gives_first: bool| {
            let (pool, step) = (pool.clone(), step.clone());
            std::thread::spawn(move || {
                let in_turn = |mine: bool, f: &mut dyn FnMut()| {
                    if !mine {
                        step.wait();
                    }
                    f();
                    if mine {
                        step.wait();
                    }
                };
                in_turn(gives_first, &mut || pool.give_back(name.to_owned()));
                let mut taken = None;
                in_turn(!gives_first, &mut || taken = pool.take());
                taken
            })
        };
        let a = thread("a", true);
        let b = thread("b", false);
        assert_eq!(b.join().unwrap().as_deref(), Some("b"));
        assert_eq!(a.join().unwrap().as_deref(), Some("a"));
    }
}
