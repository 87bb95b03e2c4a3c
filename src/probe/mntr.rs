//! ZooKeeper's `mntr` answer, and how it reads as Prometheus metrics and as JSON.
//!
//! `mntr` prints `key<TAB>value` lines: numbers (integers, decimals, `NaN`, `-1`), text
//! (`zk_version`, `zk_server_state`) and, from 3.6, keys with labels
//! (`zk_fsynctime{quantile="0.5"}`), in no fixed order.

use std::collections::HashMap;
use std::fmt::Write as _;

/// One `mntr` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as printed, labels included.
    pub key: String,
    /// The key without labels.
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number, with the text it was printed as.
    Number(f64, String),
    Text(String),
}

/// The entries of an `mntr` answer; lines that are not `key<TAB>value` are left out.
pub fn parse(mntr: &str) -> Vec<Entry> {
    mntr.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('\t')?;
            let key = key.trim();
            let (name, labels) = split_labels(key)?;
            let value = value.trim();
            let value = match value.parse::<f64>() {
                Ok(number) => Value::Number(number, value.to_owned()),
                Err(_) => Value::Text(value.to_owned()),
            };
            Some(Entry {
                key: key.to_owned(),
                name,
                labels,
                value,
            })
        })
        .collect()
}

/// `zk_x{a="1",b="2"}` → (`zk_x`, [(a, 1), (b, 2)]); None when the braces do not parse.
fn split_labels(key: &str) -> Option<(String, Vec<(String, String)>)> {
    let Some((name, rest)) = key.split_once('{') else {
        return (!key.is_empty()).then(|| (key.to_owned(), Vec::new()));
    };
    let body = rest.strip_suffix('}')?;
    let mut labels = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => value.push(chars.next()?),
                c => value.push(c),
            }
        }
        labels.push((label.trim().to_owned(), value));
    }
    Some((name.to_owned(), labels))
}

/// Prometheus metric types, as the exposition format names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
    Summary,
    /// A current count under its mntr name: Prometheus keeps the `_count` suffix for
    /// summaries, so these are untyped (read like gauges).
    Untyped,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Summary => "summary",
            Kind::Untyped => "untyped",
        }
    }
}

/// Counts of things that exist now (they go down as well as up), not of events.
const CURRENT_COUNTS: &[&str] = &[
    "zk_znode_count",
    "zk_watch_count",
    "zk_ephemerals_count",
    "zk_open_file_descriptor_count",
    "zk_max_file_descriptor_count",
];

/// Counters whose names do not end in `_count`.
const OTHER_COUNTERS: &[&str] = &["zk_packets_received", "zk_packets_sent"];

/// Prefixes of a summary's statistics in 3.6+ `mntr` (`zk_avg_…`, `zk_p99_…`): values of
/// the moment, not counts, except `zk_cnt_`.
fn is_statistic(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("zk_") else {
        return false;
    };
    let prefix = rest.split('_').next().unwrap_or_default();
    matches!(prefix, "avg" | "min" | "max" | "sum")
        || (prefix.len() > 1
            && prefix.starts_with('p')
            && prefix[1..].chars().all(|c| c.is_ascii_digit()))
}

/// Whether ZooKeeper's name says this number counts events.
fn is_counter(name: &str) -> bool {
    name.starts_with("zk_cnt_")
        || OTHER_COUNTERS.contains(&name)
        || (name.ends_with("_count") && !CURRENT_COUNTS.contains(&name) && !is_statistic(name))
}

/// One metric family: its samples in the order seen.
struct Family {
    name: String,
    kind: Kind,
    help: String,
    samples: Vec<(Vec<(String, String)>, String)>,
}

/// The Prometheus text exposition (version 0.0.4) of `entries`, with `zk_up` first.
///
/// Names are the mntr keys, made to follow Prometheus' conventions: milliseconds (`_ms`)
/// become seconds (`_seconds`, the value divided by 1000), counters end in `_total`, keys with
/// a `quantile` label form summaries, and text becomes a series with the text as a label
/// (`zk_server_state{state="leader"} 1`, `zk_version_info{version="…"} 1`).
pub fn prometheus(entries: &[Entry], up: bool) -> String {
    let mut families: Vec<Family> = vec![Family {
        name: "zk_up".into(),
        kind: Kind::Gauge,
        help: "1 when ZooKeeper answered mntr, else 0.".into(),
        samples: vec![(Vec::new(), if up { "1" } else { "0" }.into())],
    }];
    let mut index: HashMap<String, usize> = HashMap::from([("zk_up".to_owned(), 0)]);

    for entry in entries {
        let name = metric_name(&entry.name);
        let (family, kind, help, labels, value) = match &entry.value {
            Value::Number(number, text) => {
                let in_seconds = name.split('_').any(|part| part == "ms");
                let base = if in_seconds {
                    name.split('_')
                        .map(|part| if part == "ms" { "seconds" } else { part })
                        .collect::<Vec<_>>()
                        .join("_")
                } else {
                    name.clone()
                };
                let (family, kind) = if entry.labels.iter().any(|(l, _)| l == "quantile") {
                    (base, Kind::Summary)
                } else if is_counter(&entry.name) {
                    (format!("{base}_total"), Kind::Counter)
                } else if base.ends_with("_count") {
                    (base, Kind::Untyped)
                } else {
                    (base, Kind::Gauge)
                };
                let value = if in_seconds && kind != Kind::Counter {
                    sample_value(number / 1000.0, None)
                } else {
                    sample_value(*number, Some(text))
                };
                let help = if in_seconds && kind != Kind::Counter {
                    format!("ZooKeeper mntr {}, in seconds.", entry.name)
                } else {
                    format!("ZooKeeper mntr {}.", entry.name)
                };
                (family, kind, help, entry.labels.clone(), value)
            }
            Value::Text(text) => {
                let (family, label) = match entry.name.as_str() {
                    "zk_server_state" | "zk_peer_state" => (name, "state"),
                    "zk_version" => ("zk_version_info".to_owned(), "version"),
                    _ => (format!("{name}_info"), "value"),
                };
                let mut labels = entry.labels.clone();
                labels.push((label.to_owned(), text.clone()));
                let help = format!("ZooKeeper mntr {}, as the label {label}.", entry.name);
                (family, Kind::Gauge, help, labels, "1".to_owned())
            }
        };
        let labels: Vec<(String, String)> = labels
            .into_iter()
            .map(|(label, value)| (metric_name(&label), value))
            .collect();
        match index.get(&family) {
            Some(&i) if families[i].kind == kind => {
                if !families[i].samples.iter().any(|(l, _)| *l == labels) {
                    families[i].samples.push((labels, value));
                }
            }
            // A name already taken by another type: leave it out rather than break the page.
            Some(_) => {}
            None => {
                index.insert(family.clone(), families.len());
                families.push(Family {
                    name: family,
                    kind,
                    help,
                    samples: vec![(labels, value)],
                });
            }
        }
    }

    let mut out = String::with_capacity(64 * 1024);
    for family in &families {
        for line in [
            [
                "# HELP ",
                &family.name,
                " ",
                &escape_help(&family.help),
                "\n",
            ],
            ["# TYPE ", &family.name, " ", family.kind.name(), "\n"],
        ] {
            line.iter().for_each(|part| out.push_str(part));
        }
        for (labels, value) in &family.samples {
            out.push_str(&family.name);
            for (i, (label, text)) in labels.iter().enumerate() {
                out.push_str(if i == 0 { "{" } else { "," });
                out.push_str(label);
                out.push_str("=\"");
                out.push_str(&escape_label(text));
                out.push('"');
            }
            if !labels.is_empty() {
                out.push('}');
            }
            out.push(' ');
            out.push_str(value);
            out.push('\n');
        }
    }
    out
}

/// Only letters, digits, `_` and `:`, not starting with a digit.
fn metric_name(key: &str) -> String {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    if key.chars().all(valid) && !key.is_empty() && !key.starts_with(|c: char| c.is_ascii_digit()) {
        return key.to_owned(); // every key ZooKeeper prints
    }
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// A sample value as Prometheus (and JSON) reads it: the text mntr printed when it is plain
/// number syntax (`5`, `0.0`, `1.0E-4`), so integers stay integers and decimals decimals.
fn sample_value(number: f64, text: Option<&str>) -> String {
    if number.is_nan() {
        "NaN".into()
    } else if number.is_infinite() {
        if number > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if let Some(text) = text.filter(|t| is_plain_number(t)) {
        text.to_owned()
    } else {
        format!("{number}")
    }
}

/// JSON's number syntax: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_plain_number(text: &str) -> bool {
    fn digits(s: &str) -> (usize, &str) {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        (n, &s[n..])
    }
    let rest = text.strip_prefix('-').unwrap_or(text);
    let (n, rest) = digits(rest);
    if n == 0 || (n > 1 && text.trim_start_matches('-').starts_with('0')) {
        return false;
    }
    let rest = match rest.strip_prefix('.') {
        Some(fraction) => match digits(fraction) {
            (0, _) => return false,
            (_, rest) => rest,
        },
        None => rest,
    };
    match rest.strip_prefix(['e', 'E']) {
        None => rest.is_empty(),
        Some(exponent) => {
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            matches!(digits(exponent), (1.., ""))
        }
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

/// One JSON object: each mntr key (labels included) to its value; numbers as numbers (`null`
/// for NaN and infinities, which JSON cannot hold), text as strings.
pub fn json(entries: &[Entry]) -> String {
    let mut out = String::from("{");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(&entry.key));
        out.push(':');
        match &entry.value {
            Value::Number(number, text) if number.is_finite() => {
                out.push_str(&sample_value(*number, Some(text)))
            }
            Value::Number(..) => out.push_str("null"),
            Value::Text(text) => out.push_str(&json_string(text)),
        }
    }
    out.push_str("}\n");
    out
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "zk_version\t3.8.0-abc, built on 2024-12-29 17:54 UTC\n\
        zk_server_state\tleader\n\
        zk_avg_latency\t0.5\n\
        zk_znode_count\t5\n\
        zk_packets_received\t21\n\
        zk_looking_count\t0\n\
        zk_cnt_jvm_pause_time_ms\t4\n\
        zk_p99_jvm_pause_time_ms\t1500\n\
        zk_max_client_response_size\t-1\n\
        zk_fsynctime{quantile=\"0.5\"}\tNaN\n\
        zk_fsynctime{quantile=\"0.99\"}\t12\n\
        zk_peer_state\tleading - broadcast\n\
        not a metric line\n";

    #[test]
    fn parses_numbers_text_and_labels() {
        let entries = parse(SAMPLE);
        assert_eq!(entries.len(), 12);
        assert_eq!(
            entries[0].value,
            Value::Text("3.8.0-abc, built on 2024-12-29 17:54 UTC".into())
        );
        assert_eq!(entries[9].name, "zk_fsynctime");
        assert_eq!(entries[9].labels, vec![("quantile".into(), "0.5".into())]);
        assert!(matches!(entries[9].value, Value::Number(n, _) if n.is_nan()));
        assert_eq!(entries[8].value, Value::Number(-1.0, "-1".into()));
    }

    #[test]
    fn prometheus_follows_the_conventions() {
        let page = prometheus(&parse(SAMPLE), true);
        for line in [
            "# TYPE zk_up gauge\nzk_up 1\n",
            "# TYPE zk_avg_latency gauge\nzk_avg_latency 0.5\n",
            "# TYPE zk_znode_count untyped\nzk_znode_count 5\n",
            "# TYPE zk_packets_received_total counter\nzk_packets_received_total 21\n",
            "# TYPE zk_looking_count_total counter\nzk_looking_count_total 0\n",
            "zk_cnt_jvm_pause_time_seconds_total 4\n",
            "# TYPE zk_p99_jvm_pause_time_seconds gauge\nzk_p99_jvm_pause_time_seconds 1.5\n",
            "zk_max_client_response_size -1\n",
            "# TYPE zk_fsynctime summary\nzk_fsynctime{quantile=\"0.5\"} NaN\nzk_fsynctime{quantile=\"0.99\"} 12\n",
            "zk_server_state{state=\"leader\"} 1\n",
            "zk_peer_state{state=\"leading - broadcast\"} 1\n",
            "zk_version_info{version=\"3.8.0-abc, built on 2024-12-29 17:54 UTC\"} 1\n",
        ] {
            assert!(page.contains(line), "{line} missing from:\n{page}");
        }
        assert!(page.starts_with("# HELP zk_up "));
        assert!(prometheus(&[], false).contains("zk_up 0\n"));
    }

    #[test]
    fn labels_are_escaped() {
        let entries = parse("zk_odd\tsay \"hi\" \\ there\n");
        let page = prometheus(&entries, true);
        assert!(
            page.contains(r#"zk_odd_info{value="say \"hi\" \\ there"} 1"#),
            "{page}"
        );
    }

    #[test]
    fn a_name_taken_by_another_type_is_left_out() {
        let mntr = "zk_up\t7\nzk_thing\t1\nzk_thing{quantile=\"1\"}\t2\n";
        let page = prometheus(&parse(mntr), true);
        assert_eq!(page.matches("# TYPE zk_up ").count(), 1);
        assert!(page.contains("zk_up 1\n") && !page.contains("zk_up 7"));
        assert_eq!(page.matches("# TYPE zk_thing ").count(), 1);
        assert!(
            page.ends_with("# TYPE zk_thing gauge\nzk_thing 1\n"),
            "{page}"
        );
        assert!(!page.contains("quantile"), "{page}");
    }

    #[test]
    fn plain_numbers() {
        for good in ["0", "-1", "0.0", "12.5", "1.0E-4", "2e10", "-0.5e+3"] {
            assert!(is_plain_number(good), "{good}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "NaN", "Infinity", "+1", "0x10", "1,0",
        ] {
            assert!(!is_plain_number(bad), "{bad}");
        }
    }

    #[test]
    fn json_keeps_numbers_and_text() {
        let out = json(&parse(SAMPLE));
        assert!(out.starts_with("{\"zk_version\":\"3.8.0-abc, built on 2024-12-29 17:54 UTC\","));
        assert!(out.contains("\"zk_avg_latency\":0.5,"));
        let zero = json(&parse(
            "zk_avg_latency\t0.0\nzk_big\t1.0E-4\nzk_inf\tInfinity\n",
        ));
        assert_eq!(
            zero,
            "{\"zk_avg_latency\":0.0,\"zk_big\":1.0E-4,\"zk_inf\":null}\n"
        );
        assert!(out.contains("\"zk_znode_count\":5,"));
        assert!(out.contains("\"zk_max_client_response_size\":-1,"));
        assert!(out.contains("\"zk_fsynctime{quantile=\\\"0.5\\\"}\":null,"));
        assert!(out.ends_with("\"zk_peer_state\":\"leading - broadcast\"}\n"));
    }
}
