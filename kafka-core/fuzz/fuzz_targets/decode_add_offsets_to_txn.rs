#![no_main]

use kafka_core::protocol::messages::AddOffsetsToTxnRequest;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kafka_core_fuzz::decode_one_version::<AddOffsetsToTxnRequest>(data);
});
