//! ZooKeeper's `mntr` answer, read into entries that borrow from it.
//!
//! `mntr` prints `key<TAB>value` lines: numbers (integers, decimals, `NaN`, `-1`), text
//! (`zk_version`, `zk_server_state`) and, from 3.6, keys with labels
//! (`zk_fsynctime{quantile="0.5"}`), in no fixed order. Nothing here copies the answer: an
//! entry is a few slices of it, so reading costs no allocation per line.

/// One `mntr` line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    /// The key as printed, labels included.
    pub key: &'a str,
    /// The key without labels.
    pub name: &'a str,
    pub labels: Labels<'a>,
    pub value: Value<'a>,
    /// Whether the key is a plain name, as ZooKeeper's are: ASCII letters, digits, `_` and
    /// `:`, not starting with a digit. Such a key has no labels and needs no escaping or
    /// cleaning up anywhere.
    pub plain: bool,
}

impl<'a> Entry<'a> {
    /// A line whose key is a plain name.
    #[inline]
    pub fn plain(key: &'a str, value: Value<'a>) -> Entry<'a> {
        Entry {
            key,
            name: key,
            labels: Labels::default(),
            value,
            plain: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A number written as JSON writes numbers (`5`, `-1`, `0.0`, `1.0E-4`), which every
    /// reader takes as it is: the text can be passed on unchanged.
    Number(&'a str),
    /// A number written any other way (`NaN`, `Infinity`, `+1`, `1.`, `1e999`), or one too
    /// large for a double: it has to be written anew.
    Float(f64),
    Text(&'a str),
}

impl<'a> Value<'a> {
    /// The value of a line, from its text.
    #[inline(always)]
    pub(crate) fn read(text: &'a str) -> Value<'a> {
        // Most values are one digit, and nearly all others decimals (`0.0`, `-1`, `11201`).
        match text.as_bytes() {
            [b'0'..=b'9'] => Value::Number(text),
            bytes if is_decimal(bytes) => Value::Number(text),
            _ => Value::read_other(text),
        }
    }

    /// `read`, for a text that is not a decimal.
    #[inline(never)]
    fn read_other(text: &'a str) -> Value<'a> {
        match number_syntax(text) {
            Some(Syntax::Decimal { integer_digits }) if integer_digits <= MAX_INTEGER_DIGITS => {
                return Value::Number(text);
            }
            // Only the exponent says whether it fits in a double (1e999 does not).
            Some(Syntax::Exponent) if text.parse::<f64>().is_ok_and(f64::is_finite) => {
                return Value::Number(text);
            }
            _ => {}
        }
        match text.parse::<f64>() {
            Ok(number) => Value::Float(number),
            Err(_) => Value::Text(text),
        }
    }
}

/// Whether `bytes` are a decimal in JSON's syntax, `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, with no
/// more than `MAX_INTEGER_DIGITS` integer digits: as `number_syntax` tells, inline.
#[inline(always)]
fn is_decimal(bytes: &[u8]) -> bool {
    matches!(decimal(bytes), Some((end, integer_digits))
        if end == bytes.len() && integer_digits <= MAX_INTEGER_DIGITS)
}

/// The decimal `bytes` start with, `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: where it ends, and how
/// many integer digits it has; None when they start with none, or with a broken one (`01`,
/// `1.`).
#[inline(always)]
fn decimal(bytes: &[u8]) -> Option<(usize, usize)> {
    // How many digits there are from `at` on.
    let digits = |at: usize| {
        let mut end = at;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        end - at
    };
    let mut at = usize::from(bytes.first() == Some(&b'-'));
    let integer_digits = digits(at);
    if integer_digits == 0 || (integer_digits > 1 && bytes[at] == b'0') {
        return None;
    }
    at += integer_digits;
    if bytes.get(at) == Some(&b'.') {
        let fraction = digits(at + 1);
        if fraction == 0 {
            return None;
        }
        at += 1 + fraction;
    }
    Some((at, integer_digits))
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
    let bytes = text.as_bytes();
    let (mut at, integer_digits) = decimal(bytes)?;
    match bytes.get(at) {
        None => Some(Syntax::Decimal { integer_digits }),
        Some(b'e' | b'E') => {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let exponent = bytes[at..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            (exponent > 0 && at + exponent == bytes.len()).then_some(Syntax::Exponent)
        }
        Some(_) => None,
    }
}

/// The labels of a key, as printed between its braces (`quantile="0.5"`); empty for none.
/// Only text that reads as `name="value"` pairs becomes `Labels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Labels<'a>(&'a str);

/// One label: its name as printed, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: LabelValue<'a>,
}

/// A label value as printed between its quotes, where `\` makes the next character plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelValue<'a>(&'a str);

impl<'a> Labels<'a> {
    pub fn is_empty(self) -> bool {
        self.0.is_empty() || self.iter().next().is_none()
    }

    pub fn iter(self) -> impl Iterator<Item = Label<'a>> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            // Checked when read: a broken pair cannot be met here.
            let (label, after) = first_label(rest).ok()??;
            rest = after;
            Some(label)
        })
    }
}

impl<'a> LabelValue<'a> {
    /// The value's characters, escapes undone.
    pub fn chars(self) -> impl Iterator<Item = char> + 'a {
        let mut chars = self.0.chars();
        std::iter::from_fn(move || match chars.next()? {
            '\\' => chars.next(),
            c => Some(c),
        })
    }

    /// The value with escapes undone; borrowed when it has none, as ZooKeeper's have not.
    pub fn text(self) -> std::borrow::Cow<'a, str> {
        if self.0.contains('\\') {
            self.chars().collect::<String>().into()
        } else {
            self.0.into()
        }
    }
}

/// Text that is not `name="value"` pairs.
struct Broken;

/// The first label of `rest` and the text after it; None when only commas and spaces are
/// left.
fn first_label(rest: &str) -> Result<Option<(Label<'_>, &str)>, Broken> {
    let rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    if rest.is_empty() {
        return Ok(None);
    }
    let (name, rest) = rest.split_once('=').ok_or(Broken)?;
    let rest = rest.strip_prefix('"').ok_or(Broken)?;
    let mut escaped = false;
    for (i, byte) in rest.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => {
                let label = Label {
                    name: name.trim(),
                    value: LabelValue(&rest[..i]),
                };
                return Ok(Some((label, &rest[i + 1..])));
            }
            _ => {}
        }
    }
    Err(Broken)
}

/// The entries of an `mntr` answer, one at a time. A line that is not `key<TAB>value`, or
/// whose key has braces that do not hold `name="value"` pairs, is left out.
pub fn entries(mntr: &str) -> Entries<'_> {
    Entries {
        lines: lines_with(mntr, plain_run),
    }
}

/// The lines of an `mntr` answer, one at a time, with `plain_run` telling how many bytes a
/// text starts with that a plain key holds: the renderings give one compiled for the
/// processor they run on.
#[inline(always)]
pub fn lines_with<F: Fn(&[u8]) -> usize>(mntr: &str, plain_run: F) -> Lines<'_, F> {
    Lines {
        rest: mntr,
        plain_run,
    }
}

/// One line of an `mntr` answer.
#[derive(Debug, Clone, Copy)]
pub enum Line<'a> {
    /// A plain key and its value, as ZooKeeper prints nearly every line.
    Plain(&'a str, Value<'a>),
    /// Any other line, as printed: `read_line` tells the entry it is, if any.
    Other(&'a str),
}

/// The lines of an `mntr` answer (`lines_with`).
pub struct Lines<'a, F> {
    /// The lines not read yet.
    rest: &'a str,
    plain_run: F,
}

impl<'a, F: Fn(&[u8]) -> usize> Iterator for Lines<'a, F> {
    type Item = Line<'a>;

    // Inlined into the renderings' loops, so that a line is not handed back through memory.
    #[inline(always)]
    fn next(&mut self) -> Option<Line<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // Most keys are plain and end at the tab: each of their bytes is looked at once.
        let run = (self.plain_run)(self.rest.as_bytes());
        let (key, tail) = self.rest.split_at(run);
        Some(match tail.as_bytes() {
            // Most values are one digit, the line ending right after it.
            [b'\t', b'0'..=b'9', b'\n', ..] if starts_well(key) => {
                self.rest = &tail[3..];
                Line::Plain(key, Value::Number(&tail[1..2]))
            }
            [b'\t', ..] if starts_well(key) => {
                let (value, after) = split_line(&tail[1..]);
                self.rest = after;
                Line::Plain(key, Value::read(value.trim_ascii()))
            }
            _ => {
                let (line, after) = split_line(self.rest);
                self.rest = after;
                Line::Other(line)
            }
        })
    }
}

/// The entries of an `mntr` answer (`entries`).
pub struct Entries<'a> {
    lines: Lines<'a, fn(&[u8]) -> usize>,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        loop {
            match self.lines.next()? {
                Line::Plain(key, value) => return Some(Entry::plain(key, value)),
                Line::Other(line) => {
                    if let Some(entry) = read_line(line) {
                        return Some(entry);
                    }
                }
            }
        }
    }
}

/// The line `text` starts with, and the text after it.
#[inline]
fn split_line(text: &str) -> (&str, &str) {
    // Values are a few bytes: a plain loop finds their end sooner than memchr.
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() && bytes[end] != b'\n' {
        end += 1;
    }
    (&text[..end], text.get(end + 1..).unwrap_or_default())
}

/// Any line: a key, spaces around it, labels or not, a tab, a value.
pub fn read_line(line: &str) -> Option<Entry<'_>> {
    let (key, value) = line.split_once('\t')?;
    let key = key.trim_ascii();
    let plain = is_plain(key);
    let (name, labels) = match plain {
        true => (key, Labels::default()),
        false => split_key(key)?,
    };
    Some(Entry {
        key,
        name,
        labels,
        value: Value::read(value.trim_ascii()),
        plain,
    })
}

/// Which bytes a plain key holds.
static PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize || b == b':' as usize;
        b += 1;
    }
    table
};

/// How many bytes `bytes` starts with that a plain key holds: with AVX2 where the processor
/// has it, else SSE2.
pub(crate) fn plain_run(bytes: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked above).
        return unsafe { avx2::plain_run(bytes) };
    }
    sse2_plain_run(bytes)
}

/// `plain_run` with SSE2, which every x86_64 processor has: 16 bytes compared at once (on
/// other processors, one at a time).
#[inline]
pub(crate) fn sse2_plain_run(bytes: &[u8]) -> usize {
    plain_run_with(bytes, others_of)
}

/// `plain_run`, with `others_of` telling which of 32 bytes are not lowercase ASCII letters,
/// digits or `_`.
#[inline(always)]
pub(crate) fn plain_run_with(bytes: &[u8], others_of: impl Fn(&[u8; 32]) -> u32) -> usize {
    // 32 bytes at a time while they are as ZooKeeper's keys are; then one at a time.
    let mut run = 0;
    while let Some(chunk) = bytes.get(run..).and_then(|rest| rest.first_chunk::<32>()) {
        let others = others_of(chunk);
        run += others.trailing_zeros() as usize;
        if others != 0 {
            break;
        }
    }
    while run < bytes.len() && PLAIN[usize::from(bytes[run])] {
        run += 1;
    }
    run
}

/// `plain_run` with AVX2, which compares all 32 bytes of a chunk at once.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    pub fn plain_run(bytes: &[u8]) -> usize {
        super::plain_run_with(bytes, |chunk| others_of(chunk))
    }

    /// Which of the 32 bytes are not lowercase ASCII letters, digits or `_`.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub fn others_of(chunk: &[u8; 32]) -> u32 {
        // SAFETY: the chunk is 32 readable bytes; the load takes any alignment.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) };
        // As in `super::not_lowercase_digits_underscores`.
        let within = |lo: u8, hi: u8| {
            let shifted = _mm256_add_epi8(v, _mm256_set1_epi8(128u8.wrapping_sub(lo) as i8));
            _mm256_cmpgt_epi8(_mm256_set1_epi8((hi - lo) as i8 - 127), shifted)
        };
        let underscore = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'_' as i8));
        let allowed = _mm256_or_si256(
            _mm256_or_si256(within(b'a', b'z'), within(b'0', b'9')),
            underscore,
        );
        !(_mm256_movemask_epi8(allowed) as u32)
    }
}

/// Which of the 32 bytes are not lowercase ASCII letters, digits or `_`: bit i for byte i.
fn others_of(chunk: &[u8; 32]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86_64 itself: every x86_64 processor has it.
    return unsafe { not_lowercase_digits_underscores(chunk) };
    #[cfg(not(target_arch = "x86_64"))]
    return not_lowercase_digits_underscores(chunk);
}

/// `others_of`, 16 bytes compared at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn not_lowercase_digits_underscores(chunk: &[u8; 32]) -> u32 {
    use std::arch::x86_64::*;
    // Which bytes of the half at `offset` (0 or 16) are allowed.
    let allowed = |offset: usize| {
        // SAFETY: the chunk holds 16 bytes from offset 0 and from offset 16; the load takes
        // any alignment.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().add(offset).cast()) };
        // Shifted by 128 - lo, the bytes from lo to hi are the signed bytes from -128 to
        // -128 + hi - lo: those below -127 + hi - lo.
        let within = |lo: u8, hi: u8| {
            let shifted = _mm_add_epi8(v, _mm_set1_epi8(128u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8((hi - lo) as i8 - 127))
        };
        let underscore = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8));
        let allowed = _mm_or_si128(
            _mm_or_si128(within(b'a', b'z'), within(b'0', b'9')),
            underscore,
        );
        _mm_movemask_epi8(allowed) as u32
    };
    !(allowed(0) | allowed(16) << 16)
}

#[cfg(not(target_arch = "x86_64"))]
fn not_lowercase_digits_underscores(chunk: &[u8; 32]) -> u32 {
    let mut others = 0;
    for (i, &b) in chunk.iter().enumerate() {
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            others |= 1 << i;
        }
    }
    others
}

fn is_plain(key: &str) -> bool {
    starts_well(key) && key.bytes().all(|b| PLAIN[usize::from(b)])
}

/// Not empty, and not starting with a digit.
fn starts_well(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| !b.is_ascii_digit())
}

/// `zk_x{a="1",b="2"}` → (`zk_x`, `a="1",b="2"`); None when the braces do not parse.
fn split_key(key: &str) -> Option<(&str, Labels<'_>)> {
    let Some((name, rest)) = key.split_once('{') else {
        return (!key.is_empty()).then_some((key, Labels::default()));
    };
    let body = rest.strip_suffix('}')?;
    let mut rest = body;
    while let Some((_, after)) = first_label(rest).ok()? {
        rest = after;
    }
    Some((name, Labels(body)))
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

    fn parse(mntr: &str) -> Vec<Entry<'_>> {
        entries(mntr).collect()
    }

    fn labels(entry: &Entry) -> Vec<(String, String)> {
        entry
            .labels
            .iter()
            .map(|l| (l.name.to_owned(), l.value.text().into_owned()))
            .collect()
    }

    #[test]
    fn parses_numbers_text_and_labels() {
        let entries = parse(SAMPLE);
        assert_eq!(entries.len(), 12);
        assert_eq!(
            entries[0].value,
            Value::Text("3.8.0-abc, built on 2024-12-29 17:54 UTC")
        );
        assert_eq!(entries[9].name, "zk_fsynctime");
        assert_eq!(entries[9].key, "zk_fsynctime{quantile=\"0.5\"}");
        assert_eq!(labels(&entries[9]), vec![("quantile".into(), "0.5".into())]);
        assert!(matches!(entries[9].value, Value::Float(n) if n.is_nan()));
        assert_eq!(entries[8].value, Value::Number("-1"));
        assert!(entries[0].labels.is_empty());
        let plain: Vec<bool> = entries.iter().map(|e| e.plain).collect();
        assert_eq!(plain.iter().filter(|p| !**p).count(), 2, "{plain:?}");
        assert!(!entries[9].plain && !entries[10].plain);
    }

    #[test]
    fn bytes_compared_at_once_agree_with_one_at_a_time() {
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
        for byte in 0..=255u8 {
            for at in 0..32 {
                for rest in [b'a', b'_', b'9', b'{', byte] {
                    let mut chunk = [rest; 32];
                    chunk[at] = byte;
                    let expected = (0..32)
                        .filter(|&i| !allowed(chunk[i]))
                        .fold(0u32, |mask, i| mask | 1 << i);
                    assert_eq!(others_of(&chunk), expected, "{chunk:?}");
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the processor has AVX2 (checked above).
                        assert_eq!(unsafe { avx2::others_of(&chunk) }, expected, "{chunk:?}");
                    }
                }
            }
        }
        // Every way of counting agrees with a byte at a time.
        let mut inputs: Vec<Vec<u8>> = vec![b"zk_avg_latency_ms\t0".to_vec(), Vec::new()];
        for len in 0..80 {
            for stop in [b'\t', b'{', b'A', b':', 0xc3] {
                let mut key: Vec<u8> = (0..len).map(|i| b"zk_abc019"[i % 9]).collect();
                key.push(stop);
                key.extend_from_slice(b"xyz\t1\n");
                inputs.push(key);
            }
        }
        for input in &inputs {
            let expected = input.iter().take_while(|&&b| PLAIN[usize::from(b)]).count();
            assert_eq!(plain_run(input), expected, "{input:?}");
            assert_eq!(sse2_plain_run(input), expected, "{input:?}");
        }
        assert_eq!(plain_run(b"zk_avg_latency_ms\t0"), 17);
        assert_eq!(plain_run(b"zk_Avg:Latency_ms{a=\"b\"}"), 17);
        assert_eq!(plain_run("zk_avg_é_latency".as_bytes()), 7);
        assert_eq!(plain_run(b"zk_a"), 4);
        let long = b"zk_p99_commit_propagation_latency_ms\t0\n";
        assert_eq!(plain_run(long), 36);
        assert_eq!(plain_run(b"zk_cnt_close_session_prep_time_x:Y\t1\n"), 34);
        assert_eq!(plain_run(b"zk_0123456789_abcdefghijklmnopq_rstuvw"), 38);
        assert_eq!(plain_run(b"zk_0123456789_abcdefghijklmnopq{a=\"1\"}"), 31);
    }

    #[test]
    fn plain_keys_are_names_as_zookeeper_prints_them() {
        for (key, plain) in [
            ("zk_avg_latency", true),
            ("zk:x_9", true),
            ("Zk", true),
            ("9zk", false),
            ("zk-x", false),
            ("zk x", false),
            ("zk_é", false),
            ("zk{a=\"1\"}", false),
            ("", false),
        ] {
            assert_eq!(is_plain(key), plain, "{key}");
        }
    }

    #[test]
    fn numbers_pass_through_only_when_every_reader_takes_them() {
        for (text, value) in [
            ("0", Value::Number("0")),
            ("0.0", Value::Number("0.0")),
            ("1.0E-4", Value::Number("1.0E-4")),
            ("1e-999", Value::Number("1e-999")),
            ("+1", Value::Float(1.0)),
            ("1.", Value::Float(1.0)),
            ("Infinity", Value::Float(f64::INFINITY)),
            ("-inf", Value::Float(f64::NEG_INFINITY)),
            ("1e999", Value::Float(f64::INFINITY)),
            ("0x10", Value::Text("0x10")),
            ("1,0", Value::Text("1,0")),
            ("", Value::Text("")),
        ] {
            assert_eq!(Value::read(text), value, "{text}");
        }
        let huge = "9".repeat(400);
        assert_eq!(Value::read(&huge), Value::Float(f64::INFINITY));
        let large = "9".repeat(MAX_INTEGER_DIGITS);
        assert_eq!(Value::read(&large), Value::Number(&large));
    }

    #[test]
    fn number_syntax_is_json_s() {
        for good in ["0", "-1", "0.0", "12.5", "1.0E-4", "2e10", "-0.5e+3"] {
            assert!(number_syntax(good).is_some(), "{good}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "NaN", "Infinity", "+1", "0x10", "1,0", "1e5x",
        ] {
            assert!(number_syntax(bad).is_none(), "{bad}");
        }
        assert_eq!(
            number_syntax("-123.5"),
            Some(Syntax::Decimal { integer_digits: 3 })
        );
    }

    #[test]
    fn is_decimal_tells_what_number_syntax_does() {
        let long = "9".repeat(MAX_INTEGER_DIGITS);
        let longer = "9".repeat(MAX_INTEGER_DIGITS + 1);
        for text in [
            "0", "-1", "0.0", "12.5", "-0.25", "11201", "1.0E-4", "2e10", "", "-", "01", "-01",
            "1.", ".5", "1.2.3", "1e", "NaN", "+1", "0x10", "1,0", " 1", "1 ", &long, &longer,
        ] {
            let decimal = matches!(
                number_syntax(text),
                Some(Syntax::Decimal { integer_digits }) if integer_digits <= MAX_INTEGER_DIGITS
            );
            assert_eq!(is_decimal(text.as_bytes()), decimal, "{text:?}");
        }
    }

    #[test]
    fn labels_read_as_pairs_with_escapes() {
        let entries = parse(
            "zk_a{x=\"1\", y=\"say \\\"hi\\\" \\\\\"}\t1\n\
             zk_b{}\t2\n\
             zk_c{x=\"1\"\t3\n\
             zk_d{x=1}\t4\n\
             zk_e{x}\t5\n\
             zk_f{x=\"\\\"}\t6\n\
             {x=\"1\"}\t7\n\
             \t8\n",
        );
        let keys: Vec<&str> = entries.iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                "zk_a{x=\"1\", y=\"say \\\"hi\\\" \\\\\"}",
                "zk_b{}",
                "{x=\"1\"}"
            ]
        );
        assert_eq!(
            labels(&entries[0]),
            vec![
                ("x".into(), "1".into()),
                ("y".into(), "say \"hi\" \\".into())
            ]
        );
        assert!(entries[1].labels.is_empty());
        assert_eq!(entries[2].name, "");
    }
}
