//! placeholder: partitioner
