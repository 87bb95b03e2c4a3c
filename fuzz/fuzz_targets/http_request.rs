//! What `zookeeper-metrics --listen` makes of a request, whatever its bytes: an answer or a
//! refusal, never a panic; a request it accepts has a plain method and a path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkpod::probe::http;

fuzz_target!(|request: &[u8]| {
    if let Ok((method, path)) = http::parse_request(request) {
        assert!(request.len() <= http::MAX_REQUEST);
        assert!(
            !method.is_empty() && !method.contains([' ', '\r', '\n']),
            "{method:?}"
        );
        assert!(
            path.starts_with('/') && !path.contains([' ', '\r', '\n', '?']),
            "{path:?}"
        );
    }
});
