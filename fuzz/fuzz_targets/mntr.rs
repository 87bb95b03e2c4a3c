//! Any bytes as a server's `mntr` answer: the Prometheus page must pass a strict reader, and
//! the JSON must be one object.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zkpod::probe::{json, prometheus};

#[path = "check_prometheus.rs"]
mod check_prometheus;

fuzz_target!(|data: &[u8]| {
    // As zookeeper-metrics reads the answer.
    let text = String::from_utf8_lossy(data);

    let page = prometheus::page(&text, true);
    if let Err(problem) = check_prometheus::check(&page) {
        panic!("{problem}\n--- page:\n{page}");
    }

    let object = json::object(&text);
    match serde_json::from_str::<serde_json::Value>(&object) {
        Ok(value) => assert!(value.is_object(), "not an object: {object}"),
        Err(err) => panic!("{err}\n--- json:\n{object}"),
    }
});
