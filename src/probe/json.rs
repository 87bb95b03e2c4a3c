//! `mntr` as one JSON object: each key (labels included) to its value.

#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::fmt::Write as _;

use super::mntr::{self, Reading};

/// One JSON object: each mntr key to its value; numbers as numbers (`null` for NaN and
/// infinities, which JSON cannot hold), text as strings. A key that comes again is left out,
/// so that every reader sees the same object.
pub fn object(mntr: &str) -> String {
    // A line is 30 bytes or so.
    let mut keys = HashSet::with_capacity(mntr.len() / 32);
    let mut out = String::with_capacity(mntr.len() + mntr.len() / 4 + 16);
    out.push('{');
    for stat in mntr::stats(mntr) {
        if !keys.insert(stat.key) {
            continue;
        }
        if keys.len() > 1 {
            out.push(',');
        }
        push_string(&mut out, stat.key);
        out.push(':');
        match stat.reading {
            Reading::Number(text) => out.push_str(text),
            Reading::Float(number) if number.is_finite() => {
                let _ = write!(out, "{number}");
            }
            Reading::Float(_) => out.push_str("null"),
            Reading::Text(text) => push_string(&mut out, text),
        }
    }
    out.push_str("}\n");
    out
}

/// `text` as a JSON string: quotes, backslashes and control characters escaped.
fn push_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..0x20 => None,
            _ => continue,
        };
        out.push_str(&text[start..i]);
        match escaped {
            Some(escaped) => out.push_str(escaped),
            None => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::mntr::SAMPLE;

    #[test]
    fn keeps_numbers_and_text() {
        let out = object(SAMPLE);
        assert!(out.starts_with("{\"zk_version\":\"3.8.0-abc, built on 2024-12-29 17:54 UTC\","));
        assert!(out.contains("\"zk_avg_latency\":0.5,"));
        assert!(out.contains("\"zk_znode_count\":5,"));
        assert!(out.contains("\"zk_max_client_response_size\":-1,"));
        assert!(out.contains("\"zk_fsynctime{quantile=\\\"0.5\\\"}\":null,"));
        assert!(out.ends_with("\"zk_peer_state\":\"leading - broadcast\"}\n"));
        let numbers = object(
            "zk_avg_latency\t0.0\nzk_big\t1.0E-4\nzk_inf\tInfinity\nzk_plus\t+1.5\n\
             zk_huge\t1e999\n",
        );
        assert_eq!(
            numbers,
            "{\"zk_avg_latency\":0.0,\"zk_big\":1.0E-4,\"zk_inf\":null,\"zk_plus\":1.5,\
             \"zk_huge\":null}\n"
        );
    }

    #[test]
    fn strings_are_escaped_and_keys_come_once() {
        let out = object("zk_a\tsay \"hi\" \\ \u{1}\r\u{7f}\nzk_a\t2\nzk_\u{fffd}\t\u{1f}\n");
        assert_eq!(
            out,
            "{\"zk_a\":\"say \\\"hi\\\" \\\\ \\u0001\\r\u{7f}\",\"zk_\u{fffd}\":\"\\u001f\"}\n"
        );
        assert_eq!(object(""), "{}\n");
    }
}
