//! Integration tests on the public API live in this package's test targets; the
//! library holds what a test and a binary of this package share.

#![warn(missing_docs)]

pub mod chaos;
