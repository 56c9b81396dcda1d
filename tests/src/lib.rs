//! Integration tests on the public API live in this package's test targets.
