//! RecordBatch v2 (magic 2): building, compression, CRC-32C, decoding.
