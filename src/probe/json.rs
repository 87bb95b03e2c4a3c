//! `mntr` as one JSON object: each key (labels included) to its value.

use std::fmt::Write as _;

use super::mntr::{self, Entry, Value};
use super::pieces::push;
use super::seen::{self, Seen};

/// One JSON object: each mntr key to its value; numbers as numbers (`null` for NaN and
/// infinities, which JSON cannot hold), text as strings. A key that comes again is left out,
/// so that every reader sees the same object.
pub fn object(mntr: &str) -> String {
    let mut out = String::with_capacity(mntr.len() + mntr.len() / 4 + 16);
    let mut seen = Seen::with_capacity(mntr.len() / 32);
    // The keys written, by the number `seen` has for each.
    let mut keys = Vec::with_capacity(mntr.len() / 32);
    out.push('{');
    for Entry {
        key, value, plain, ..
    } in mntr::entries(mntr)
    {
        let hash = seen.hash(key.as_bytes());
        let number = keys.len() as u32;
        if let seen::Entry::Found(_) = seen.entry(hash, number, |n| keys[n as usize] == key) {
            continue;
        }
        keys.push(key);
        if plain {
            out.push('"');
            push(&mut out, key);
            out.push_str("\":");
        } else {
            push_string(&mut out, key);
            out.push(':');
        }
        match value {
            // Most values are one digit: a byte, not a copy.
            Value::Number(text) => match text.as_bytes() {
                &[digit @ b'0'..=b'9'] => out.push(char::from(digit)),
                _ => push(&mut out, text),
            },
            Value::Float(number) if number.is_finite() => {
                let _ = write!(out, "{number}");
            }
            Value::Float(_) => out.push_str("null"),
            Value::Text(text) => push_string(&mut out, text),
        }
        out.push(',');
    }
    if out.ends_with(',') {
        out.pop();
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
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        push(out, &text[start..i]);
        match escaped {
            "" => {
                let _ = write!(out, "\\u{byte:04x}");
            }
            _ => out.push_str(escaped),
        }
        start = i + 1;
    }
    push(out, &text[start..]);
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
