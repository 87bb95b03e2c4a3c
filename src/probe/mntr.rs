//! ZooKeeper's `mntr` answer, read into stats that borrow from it.
//!
//! `mntr` prints `key<TAB>value` lines: numbers (integers, decimals, `NaN`, `-1`), text
//! (`zk_version`, `zk_server_state`) and, from 3.6, keys with labels
//! (`zk_fsynctime{quantile="0.5"}`), in no fixed order.

#![forbid(unsafe_code)]

use std::borrow::Cow;

/// One `mntr` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat<'a> {
    /// The key as printed, labels included, without the spaces around it.
    pub key: &'a str,
    /// The key without its labels.
    pub name: &'a str,
    /// The key's labels, in the order printed; empty for none.
    pub labels: Vec<Label<'a>>,
    pub reading: Reading<'a>,
}

/// A label of a key: its name as printed, and its value with escapes undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// The value of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading<'a> {
    /// A number written as JSON writes numbers (`5`, `-1`, `0.0`, `1.0E-4`), which every
    /// reader takes as it is: the text can be passed on unchanged.
    Number(&'a str),
    /// A number written any other way (`NaN`, `Infinity`, `+1`, `1.`, `1e999`), or one too
    /// large for a double: it has to be written anew.
    Float(f64),
    Text(&'a str),
}

impl<'a> Reading<'a> {
    /// The value that `text` reads as.
    pub fn of(text: &'a str) -> Reading<'a> {
        match number_syntax(text) {
            Some(Syntax::Decimal { integer_digits }) if integer_digits <= MAX_INTEGER_DIGITS => {
                return Reading::Number(text);
            }
            // Only the exponent says whether it fits in a double (1e999 does not).
            Some(Syntax::Exponent) if text.parse::<f64>().is_ok_and(f64::is_finite) => {
                return Reading::Number(text);
            }
            _ => {}
        }
        match text.parse::<f64>() {
            Ok(number) => Reading::Float(number),
            Err(_) => Reading::Text(text),
        }
    }
}

/// A decimal with no more integer digits than this is below `f64::MAX` (about 1.8e308), so
/// that no reader takes it for infinity (Prometheus refuses such a value).
const MAX_INTEGER_DIGITS: usize = 308;

/// How a text in JSON's number syntax is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`
    Decimal { integer_digits: usize },
    /// The same with `[eE][+-]?[0-9]+` after it.
    Exponent,
}

/// JSON's number syntax: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; None for any
/// other text.
pub(crate) fn number_syntax(text: &str) -> Option<Syntax> {
    let digits = |from: &str| from.bytes().take_while(u8::is_ascii_digit).count();
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let integer_digits = digits(unsigned);
    if integer_digits == 0 || (integer_digits > 1 && unsigned.starts_with('0')) {
        return None;
    }
    let mut rest = &unsigned[integer_digits..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let fraction_digits = digits(fraction);
        if fraction_digits == 0 {
            return None;
        }
        rest = &fraction[fraction_digits..];
    }
    if rest.is_empty() {
        return Some(Syntax::Decimal { integer_digits });
    }
    let exponent = rest.strip_prefix(['e', 'E'])?;
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let exponent_digits = digits(exponent);
    (exponent_digits > 0 && exponent_digits == exponent.len()).then_some(Syntax::Exponent)
}

/// The stats of an `mntr` answer, one a line. A line that is not `key<TAB>value`, whose key
/// is empty, or whose key has braces that do not hold `name="value"` pairs, is left out.
pub fn stats(mntr: &str) -> impl Iterator<Item = Stat<'_>> {
    mntr.split('\n').filter_map(read_line)
}

/// A line: a key, spaces around it, labels or not, a tab, a value.
fn read_line(line: &str) -> Option<Stat<'_>> {
    let (key, value) = line.split_once('\t')?;
    let key = key.trim_ascii();
    let (name, labels) = match key.split_once('{') {
        None if key.is_empty() => return None,
        None => (key, Vec::new()),
        Some((name, rest)) => (name, read_labels(rest.strip_suffix('}')?)?),
    };
    Some(Stat {
        key,
        name,
        labels,
        reading: Reading::of(value.trim_ascii()),
    })
}

/// The `name="value"` pairs of `text`, with commas or spaces (or nothing) between them and
/// around them; None when it holds anything else. In a value, `\` makes the next character
/// plain.
fn read_labels(mut text: &str) -> Option<Vec<Label<'_>>> {
    let mut labels = Vec::new();
    loop {
        text = text.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if text.is_empty() {
            return Some(labels);
        }
        let (name, rest) = text.split_once('=')?;
        let rest = rest.strip_prefix('"')?;
        let mut escaped = false;
        let end = rest.bytes().position(|byte| match byte {
            _ if escaped => {
                escaped = false;
                false
            }
            b'\\' => {
                escaped = true;
                false
            }
            byte => byte == b'"',
        })?;
        labels.push(Label {
            name: name.trim(),
            value: unescape(&rest[..end]),
        });
        text = &rest[end + 1..];
    }
}

/// A label value as printed between its quotes, its escapes undone; borrowed when it has
/// none, as ZooKeeper's have not.
fn unescape(printed: &str) -> Cow<'_, str> {
    if !printed.contains('\\') {
        return Cow::Borrowed(printed);
    }
    let mut chars = printed.chars();
    let mut value = String::with_capacity(printed.len());
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.extend(chars.next()),
            c => value.push(c),
        }
    }
    Cow::Owned(value)
}

/// A little of each kind of line, for the tests of every rendering.
#[cfg(test)]
pub(crate) const SAMPLE: &str = "zk_version\t3.8.0-abc, built on 2024-12-29 17:54 UTC\n\
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(mntr: &str) -> Vec<Stat<'_>> {
        stats(mntr).collect()
    }

    fn labels(stat: &Stat) -> Vec<(String, String)> {
        let labels = stat.labels.iter();
        labels
            .map(|l| (l.name.to_owned(), l.value.clone().into_owned()))
            .collect()
    }

    #[test]
    fn parses_numbers_text_and_labels() {
        let stats = parse(SAMPLE);
        assert_eq!(stats.len(), 12);
        assert_eq!(
            stats[0].reading,
            Reading::Text("3.8.0-abc, built on 2024-12-29 17:54 UTC")
        );
        assert_eq!(stats[9].name, "zk_fsynctime");
        assert_eq!(stats[9].key, "zk_fsynctime{quantile=\"0.5\"}");
        assert_eq!(labels(&stats[9]), vec![("quantile".into(), "0.5".into())]);
        assert!(matches!(stats[9].reading, Reading::Float(n) if n.is_nan()));
        assert_eq!(stats[8].reading, Reading::Number("-1"));
        assert!(stats[0].labels.is_empty());
        let labelled = stats.iter().filter(|s| !s.labels.is_empty()).count();
        assert_eq!(labelled, 2);
        assert!(
            stats
                .iter()
                .all(|s| s.key == s.name || !s.labels.is_empty())
        );
    }

    #[test]
    fn keys_and_values_lose_the_spaces_around_them() {
        let stats = parse(" zk_a \t 1 \r\nzk_b\t1\t2\nzk_c\t\nno tab\n\n\t8\n \t9\n");
        let read: Vec<(&str, Reading)> = stats.iter().map(|s| (s.key, s.reading)).collect();
        assert_eq!(
            read,
            [
                ("zk_a", Reading::Number("1")),
                ("zk_b", Reading::Text("1\t2")),
                ("zk_c", Reading::Text(""))
            ]
        );
    }

    #[test]
    fn numbers_pass_through_only_when_every_reader_takes_them() {
        for (text, reading) in [
            ("0", Reading::Number("0")),
            ("0.0", Reading::Number("0.0")),
            ("1.0E-4", Reading::Number("1.0E-4")),
            ("1e-999", Reading::Number("1e-999")),
            ("+1", Reading::Float(1.0)),
            ("1.", Reading::Float(1.0)),
            ("Infinity", Reading::Float(f64::INFINITY)),
            ("-inf", Reading::Float(f64::NEG_INFINITY)),
            ("1e999", Reading::Float(f64::INFINITY)),
            ("0x10", Reading::Text("0x10")),
            ("1,0", Reading::Text("1,0")),
            ("", Reading::Text("")),
        ] {
            assert_eq!(Reading::of(text), reading, "{text}");
        }
        let huge = "9".repeat(400);
        assert_eq!(Reading::of(&huge), Reading::Float(f64::INFINITY));
        let large = "9".repeat(MAX_INTEGER_DIGITS);
        assert_eq!(Reading::of(&large), Reading::Number(&large));
    }

    #[test]
    fn number_syntax_is_json_s() {
        for good in ["0", "-1", "0.0", "12.5", "1.0E-4", "2e10", "-0.5e+3"] {
            assert!(number_syntax(good).is_some(), "{good}");
        }
        for bad in [
            "", "-", "01", "-01", "1.", ".5", "1.2.3", "1e", "NaN", "Infinity", "+1", "0x10",
            "1,0", "1e5x", " 1", "1 ",
        ] {
            assert!(number_syntax(bad).is_none(), "{bad}");
        }
        assert_eq!(
            number_syntax("-123.5"),
            Some(Syntax::Decimal { integer_digits: 3 })
        );
        assert_eq!(number_syntax("2e10"), Some(Syntax::Exponent));
    }

    #[test]
    fn labels_read_as_pairs_with_escapes() {
        let stats = parse(
            "zk_a{x=\"1\", y=\"say \\\"hi\\\" \\\\\"}\t1\n\
             zk_b{}\t2\n\
             zk_c{x=\"1\"\t3\n\
             zk_d{x=1}\t4\n\
             zk_e{x}\t5\n\
             zk_f{x=\"\\\"}\t6\n\
             {x=\"1\"}\t7\n\
             \t8\n",
        );
        let keys: Vec<&str> = stats.iter().map(|s| s.key).collect();
        assert_eq!(
            keys,
            [
                "zk_a{x=\"1\", y=\"say \\\"hi\\\" \\\\\"}",
                "zk_b{}",
                "{x=\"1\"}"
            ]
        );
        assert_eq!(
            labels(&stats[0]),
            vec![
                ("x".into(), "1".into()),
                ("y".into(), "say \"hi\" \\".into())
            ]
        );
        assert!(stats[1].labels.is_empty());
        assert_eq!(stats[2].name, "");
        let stats = parse("zk_g{ a =\"1\" , , b=\"2\"c=\"}{\"}\t1\nzk_h{a=\"1\"}x\t2\n");
        assert_eq!(stats.len(), 1);
        assert_eq!(
            labels(&stats[0]),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("c".into(), "}{".into())
            ]
        );
    }
}
