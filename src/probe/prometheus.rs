//! `mntr` as Prometheus metrics: the text exposition format (version 0.0.4), with `zk_up`
//! first.
//!
//! Names are the mntr keys, made to follow Prometheus' conventions: milliseconds (a name
//! ending in `_ms`) become seconds (`_seconds`, the value divided by 1000), counters end in
//! `_total`, keys with a `quantile` label form summaries, and text becomes a series with the
//! text as a label (`zk_server_state{state="leader"} 1`, `zk_version_info{version="…"} 1`).
//!
//! Whatever the answer holds, the page is one Prometheus accepts: names are cleaned up, and a
//! line that cannot be made a valid series (a label name twice, a reserved label name, a
//! quantile that is not a number, a family or series already on the page) is left out. The
//! README lists the rules.
//!
//! Each line is read once, and families and series are found again in std's hash tables,
//! whose hash is keyed at random: the time taken is in proportion to the answer, whatever
//! its shape.

#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::mntr::{self, Reading, Stat};

/// The Prometheus page of the `mntr` answer; `up` says whether the server answered (with
/// `up` false, `mntr` is empty).
pub fn page(mntr: &str, up: bool) -> String {
    let mut page = Page::new(mntr.len(), up);
    for series in mntr::stats(mntr).filter_map(Series::of) {
        page.add(series);
    }
    page.finish()
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

/// What a family's HELP adds to the mntr name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Note {
    None,
    InSeconds,
    /// Text, shown as the value of this label.
    Label(&'static str),
}

/// How a family is made from an mntr name: its type, what its HELP adds, and what the name
/// loses at its end (`cut`) and gains (`suffix`). A family with no suffix keeps the mntr
/// name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Naming {
    kind: Kind,
    note: Note,
    cut: &'static str,
    suffix: &'static str,
}

impl Naming {
    const fn new(kind: Kind, note: Note, cut: &'static str, suffix: &'static str) -> Naming {
        Naming {
            kind,
            note,
            cut,
            suffix,
        }
    }
}

/// The naming of a number under mntr name `name`, a summary's or not.
fn number_naming(name: &str, summary: bool) -> Naming {
    let milliseconds = name.ends_with("_ms");
    if summary {
        return match milliseconds {
            true => Naming::new(Kind::Summary, Note::InSeconds, "_ms", "_seconds"),
            false => Naming::new(Kind::Summary, Note::None, "", ""),
        };
    }
    let counter = Naming::new(Kind::Counter, Note::None, "", "_total");
    if milliseconds {
        match name.starts_with("zk_cnt_") {
            // A counter counts events (pauses), not milliseconds: its name loses the unit
            // and gains no other, and its value stays.
            true => Naming::new(Kind::Counter, Note::None, "_ms", "_total"),
            false => Naming::new(Kind::Gauge, Note::InSeconds, "_ms", "_seconds"),
        }
    } else if name.ends_with("_count") {
        match is_current_count(name) || is_statistic(name) {
            true => Naming::new(Kind::Untyped, Note::None, "", ""),
            false => counter,
        }
    } else if name.starts_with("zk_cnt_")
        || matches!(name, "zk_packets_received" | "zk_packets_sent")
    {
        // Counters whose names do not end in `_count`.
        counter
    } else {
        Naming::new(Kind::Gauge, Note::None, "", "")
    }
}

/// Counts of things that exist now (they go down as well as up), not of events.
fn is_current_count(name: &str) -> bool {
    matches!(
        name,
        "zk_znode_count"
            | "zk_watch_count"
            | "zk_ephemerals_count"
            | "zk_open_file_descriptor_count"
            | "zk_max_file_descriptor_count"
    )
}

/// Prefixes of a summary's statistics in 3.6+ `mntr` (`zk_avg_…`, `zk_p99_…`): values of
/// the moment, not counts, except `zk_cnt_`.
fn is_statistic(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("zk_") else {
        return false;
    };
    let prefix = rest.split('_').next().unwrap_or_default();
    match prefix {
        "avg" | "min" | "max" | "sum" => true,
        _ => prefix
            .strip_prefix('p')
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())),
    }
}

/// The family that `zk_up` is, always first and always alone.
const UP: &str = "zk_up";

/// The HELP and TYPE lines of `zk_up`.
const UP_LINES: &str = "# HELP zk_up 1 when ZooKeeper answered mntr, else 0.\n# TYPE zk_up gauge\n";

/// One mntr line, as the sample it becomes.
#[derive(Debug)]
struct Series<'a> {
    /// The family's name.
    family: Cow<'a, str>,
    kind: Kind,
    /// The mntr name, cleaned up, for the family's HELP.
    name: Cow<'a, str>,
    /// Whether the family is named otherwise than the mntr name.
    renamed: bool,
    note: Note,
    /// `a="x",b="y"`, sorted by name; empty for none.
    labels: String,
    value: Cow<'a, str>,
}

impl<'a> Series<'a> {
    /// The series of a line; None when it cannot be one.
    fn of(stat: Stat<'a>) -> Option<Series<'a>> {
        let name = metric_name(stat.name);
        let mut labels: Vec<(Cow<'a, str>, Cow<'a, str>)> = stat
            .labels
            .into_iter()
            .map(|label| (label_name(label.name), label.value))
            .collect();

        // The family's name: the mntr name, and what follows from the value.
        let naming = match stat.reading {
            Reading::Text(text) => {
                let (suffix, label) = match &*name {
                    "zk_server_state" | "zk_peer_state" => ("", "state"),
                    "zk_version" => ("_info", "version"),
                    _ => ("_info", "value"),
                };
                labels.push((label.into(), text.into()));
                Naming::new(Kind::Gauge, Note::Label(label), "", suffix)
            }
            Reading::Number(_) | Reading::Float(_) => {
                let quantile = labels.iter_mut().find(|(label, _)| label == "quantile");
                let summary = quantile.is_some();
                if let Some((_, value)) = quantile {
                    // Prometheus reads a quantile as a number: written as one, or left out.
                    match Reading::of(value) {
                        Reading::Number(_) => {}
                        Reading::Float(number) => *value = float(number).into(),
                        Reading::Text(_) => return None,
                    }
                }
                number_naming(&name, summary)
            }
        };
        let family = match naming.suffix {
            "" => name.clone(),
            suffix => {
                let head = name.strip_suffix(naming.cut).unwrap_or(&name);
                Cow::Owned([head, suffix].concat())
            }
        };

        labels.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let reserved = labels.iter().any(|(label, _)| label.starts_with("__"));
        let repeated = labels.windows(2).any(|pair| pair[0].0 == pair[1].0);
        if reserved || repeated {
            return None;
        }
        let mut text = String::new();
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(label);
            text.push_str("=\"");
            push_label_value(&mut text, value);
            text.push('"');
        }

        let value = match (stat.reading, naming.note) {
            (Reading::Text(_), _) => Cow::Borrowed("1"),
            (Reading::Number(text), Note::InSeconds) => Cow::Owned(thousandth(text)),
            (Reading::Number(text), _) => Cow::Borrowed(text),
            (Reading::Float(number), Note::InSeconds) => Cow::Owned(float(number / 1000.0)),
            (Reading::Float(number), _) => Cow::Owned(float(number)),
        };
        Some(Series {
            family,
            kind: naming.kind,
            renamed: !naming.suffix.is_empty(),
            name,
            note: naming.note,
            labels: text,
            value,
        })
    }

    /// Appends the HELP and TYPE lines of the series' family, `family`. The HELP names the
    /// mntr name when the family is named otherwise.
    fn push_header(&self, family: &str, out: &mut String) {
        out.push_str("# HELP ");
        out.push_str(family);
        out.push_str(" ZooKeeper mntr");
        if self.renamed {
            out.push(' ');
            out.push_str(&self.name);
        }
        match self.note {
            Note::None => {}
            Note::InSeconds => out.push_str(", in seconds"),
            Note::Label(label) => {
                out.push_str(", as the label ");
                out.push_str(label);
            }
        }
        out.push_str(".\n# TYPE ");
        out.push_str(family);
        out.push(' ');
        out.push_str(self.kind.name());
        out.push('\n');
    }

    /// Appends the series' sample line, in family `family`.
    fn push_sample(&self, family: &str, out: &mut String) {
        out.push_str(family);
        if !self.labels.is_empty() {
            out.push('{');
            out.push_str(&self.labels);
            out.push('}');
        }
        out.push(' ');
        out.push_str(&self.value);
        out.push('\n');
    }
}

/// A family on the page.
struct Family {
    kind: Kind,
    /// Whether the series without labels is taken.
    bare: bool,
    /// Its HELP and TYPE lines and its samples, in `Page::out`.
    block: Range<usize>,
}

/// The families of the page as they are written, one line of mntr at a time.
///
/// Samples go straight after their family's block while it is the last one written, as in
/// every answer ZooKeeper gives. A sample of an earlier family waits in `late`. The page is
/// put together at the end (`finish`): `zk_up`, then each family's block and late samples.
struct Page<'a> {
    out: String,
    families: Vec<Family>,
    /// Families by name: their numbers in `families`.
    by_name: HashMap<Cow<'a, str>, usize>,
    /// The series with labels: their family's number and their labels.
    labelled: HashSet<(usize, String)>,
    /// Samples that came after another family's lines, with their family's number.
    late: Vec<(usize, String)>,
}

impl<'a> Page<'a> {
    /// A page with `zk_up` only, with room for the lines of an answer of `len` bytes.
    fn new(len: usize, up: bool) -> Page<'a> {
        // A page holds each name three times (HELP, TYPE, sample) and a HELP text: about five
        // times the answer. Room for all of it at once: the page is not copied as it grows.
        let mut out = String::with_capacity(UP_LINES.len() + 8 + 6 * len);
        out.push_str(UP_LINES);
        out.push_str(if up { "zk_up 1\n" } else { "zk_up 0\n" });
        Page {
            out,
            families: Vec::with_capacity(len / 32),
            by_name: HashMap::with_capacity(len / 32),
            labelled: HashSet::new(),
            late: Vec::new(),
        }
    }

    fn add(&mut self, mut series: Series<'a>) {
        if series.family == UP {
            return;
        }
        // The family's name goes into the table; the series writes it from there.
        let name = std::mem::take(&mut series.family);
        let entry = match self.by_name.entry(name) {
            Entry::Occupied(entry) => entry,
            Entry::Vacant(entry) => {
                let start = self.out.len();
                series.push_header(entry.key(), &mut self.out);
                self.families.push(Family {
                    kind: series.kind,
                    bare: false,
                    block: start..self.out.len(),
                });
                entry.insert_entry(self.families.len() - 1)
            }
        };
        let (name, f) = (entry.key(), *entry.get());
        let family = &mut self.families[f];
        // A name already taken by another type: left out rather than break the page.
        if family.kind != series.kind {
            return;
        }
        let taken = match series.labels.is_empty() {
            true => std::mem::replace(&mut family.bare, true),
            false => !self.labelled.insert((f, series.labels.clone())),
        };
        if taken {
            return;
        }
        if family.block.end == self.out.len() {
            series.push_sample(name, &mut self.out);
            family.block.end = self.out.len();
        } else {
            let mut sample = String::new();
            series.push_sample(name, &mut sample);
            self.late.push((f, sample));
        }
    }

    /// `zk_up`, then every family's lines: the page as written, less the families left out,
    /// unless a family has samples that came late.
    fn finish(mut self) -> String {
        // Prometheus reads `X_sum` and `X_count` as part of summary `X`: such families would
        // make a second HELP for `X`.
        let summaries = self.by_name.iter();
        let summaries = summaries.filter(|&(_, &f)| self.families[f].kind == Kind::Summary);
        let mut hidden: Vec<usize> = summaries
            .flat_map(|(name, _)| ["_sum", "_count"].map(|suffix| [name, suffix].concat()))
            .filter_map(|name| self.by_name.get(name.as_str()).copied())
            .collect();
        hidden.sort_unstable();
        hidden.dedup();
        if self.late.is_empty() {
            // From the last, so that the blocks before keep their place.
            for &f in hidden.iter().rev() {
                self.out.replace_range(self.families[f].block.clone(), "");
            }
            return self.out;
        }
        // Each family's late samples in the order they came.
        self.late.sort_by_key(|&(f, _)| f);
        let late: usize = self.late.iter().map(|(_, sample)| sample.len()).sum();
        let first = self
            .families
            .first()
            .map_or(self.out.len(), |f| f.block.start);
        let mut page = String::with_capacity(self.out.len() + late);
        page.push_str(&self.out[..first]);
        let mut late = self.late.iter().peekable();
        for (f, family) in self.families.iter().enumerate() {
            let samples = std::iter::from_fn(|| late.next_if(|&&(of, _)| of == f));
            if hidden.binary_search(&f).is_ok() {
                samples.for_each(drop);
            } else {
                page.push_str(&self.out[family.block.clone()]);
                samples.for_each(|(_, sample)| page.push_str(sample));
            }
        }
        page
    }
}

/// `key` as a metric name: letters, digits, `_` and `:`, not starting with a digit. Every
/// other character becomes `_`, and `_` goes before a leading digit or an empty name.
/// Borrowed when it is one already, as every key ZooKeeper prints.
fn metric_name(key: &str) -> Cow<'_, str> {
    clean_name(key, |c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name` as a label name: as a metric name, but without `:`.
fn label_name(name: &str) -> Cow<'_, str> {
    clean_name(name, |c| c.is_ascii_alphanumeric() || c == '_')
}

/// `name` with every character that `allowed` refuses made `_`, and `_` before a leading
/// digit or an empty name. `allowed` takes ASCII characters only: it refuses any other.
fn clean_name(name: &str, allowed: impl Fn(char) -> bool) -> Cow<'_, str> {
    let starts_well = name.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if starts_well && name.bytes().all(|b| allowed(char::from(b))) {
        return Cow::Borrowed(name);
    }
    let mut clean = String::with_capacity(name.len() + 1);
    if !starts_well {
        clean.push('_');
    }
    clean.extend(name.chars().map(|c| if allowed(c) { c } else { '_' }));
    Cow::Owned(clean)
}

/// A label value between its quotes: `\`, `"` and line feeds escaped.
fn push_label_value(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A number Prometheus reads: `NaN`, `+Inf`, `-Inf`, or decimal digits.
fn float(number: f64) -> String {
    if number.is_nan() {
        "NaN".into()
    } else if number.is_infinite() {
        if number > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        number.to_string()
    }
}

/// `text`, a number in JSON's syntax, divided by 1000: for decimals, the point moves three
/// digits to the left, so `1500` is `1.5` with no rounding on the way.
fn thousandth(text: &str) -> String {
    if text.contains(['e', 'E']) {
        return float(text.parse::<f64>().unwrap_or(f64::NAN) / 1000.0);
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", text),
    };
    let (integer, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let (kept, moved) = integer.split_at(integer.len().saturating_sub(3));
    // The decimals: zeros, the digits moved, the fraction, less the zeros they end with.
    let fraction = fraction.trim_end_matches('0');
    let moved = match fraction {
        "" => moved.trim_end_matches('0'),
        _ => moved,
    };
    let mut out = String::with_capacity(text.len() + 3);
    out.push_str(sign);
    out.push_str(if kept.is_empty() { "0" } else { kept });
    if !moved.is_empty() || !fraction.is_empty() {
        out.push('.');
        out.push_str(&"000"[..3 - integer.len().min(3)]);
        out.push_str(moved);
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::mntr::SAMPLE;

    fn page_of(mntr: &str) -> String {
        page(mntr, true)
    }

    #[test]
    fn follows_the_conventions() {
        let sample = page_of(SAMPLE);
        for line in [
            "# TYPE zk_up gauge\nzk_up 1\n",
            "# TYPE zk_avg_latency gauge\nzk_avg_latency 0.5\n",
            "# TYPE zk_znode_count untyped\nzk_znode_count 5\n",
            "# TYPE zk_packets_received_total counter\nzk_packets_received_total 21\n",
            "# TYPE zk_looking_count_total counter\nzk_looking_count_total 0\n",
            "# HELP zk_cnt_jvm_pause_time_total ZooKeeper mntr zk_cnt_jvm_pause_time_ms.\n\
             # TYPE zk_cnt_jvm_pause_time_total counter\nzk_cnt_jvm_pause_time_total 4\n",
            "# HELP zk_p99_jvm_pause_time_seconds ZooKeeper mntr zk_p99_jvm_pause_time_ms, in \
             seconds.\n# TYPE zk_p99_jvm_pause_time_seconds gauge\n\
             zk_p99_jvm_pause_time_seconds 1.5\n",
            "zk_max_client_response_size -1\n",
            "# TYPE zk_fsynctime summary\nzk_fsynctime{quantile=\"0.5\"} NaN\n\
             zk_fsynctime{quantile=\"0.99\"} 12\n",
            "# HELP zk_server_state ZooKeeper mntr, as the label state.\n\
             # TYPE zk_server_state gauge\nzk_server_state{state=\"leader\"} 1\n",
            "zk_peer_state{state=\"leading - broadcast\"} 1\n",
            "zk_version_info{version=\"3.8.0-abc, built on 2024-12-29 17:54 UTC\"} 1\n",
        ] {
            assert!(sample.contains(line), "{line} missing from:\n{sample}");
        }
        assert!(sample.starts_with("# HELP zk_up "));
        assert_eq!(
            page("", false),
            "# HELP zk_up 1 when ZooKeeper answered mntr, else 0.\n# TYPE zk_up gauge\nzk_up 0\n"
        );
    }

    #[test]
    fn labels_are_escaped() {
        let page = page_of("zk_odd\tsay \"hi\" \\ there\n");
        assert!(
            page.contains(r#"zk_odd_info{value="say \"hi\" \\ there"} 1"#),
            "{page}"
        );
        let page = page_of("zk_odd{a=\"x\\\"y\\\\z\\q\"}\t1\n");
        assert!(page.contains(r#"zk_odd{a="x\"y\\zq"} 1"#), "{page}");
    }

    #[test]
    fn a_name_taken_by_another_type_is_left_out() {
        let mntr = "zk_up\t7\nzk_thing\t1\nzk_thing{quantile=\"1\"}\t2\n";
        let page = page_of(mntr);
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
    fn zk_up_is_never_forged() {
        let page =
            page_of("zk_up{a=\"b\"}\t1\nzk_up\t0\nzk_up{quantile=\"0.5\"}\t1\nzk_up\ttext\n");
        let up = page
            .lines()
            .filter(|l| l.starts_with("zk_up ") || l.starts_with("zk_up{"));
        assert_eq!(up.collect::<Vec<_>>(), ["zk_up 1"], "{page}");
        assert!(page.contains("zk_up_info{value=\"text\"} 1\n"), "{page}");
    }

    #[test]
    fn names_are_cleaned_up() {
        let page = page_of(
            "zk-a.b\t1\n9lives\t2\n{x=\"1\"}\t3\nzk:c\t4\nzk_é\t5\n\
             zk_d{my-label=\"1\",a:b=\"2\",7=\"3\"}\t6\nzk_v\tx\n",
        );
        for line in [
            "\nzk_a_b 1\n",
            "\n_9lives 2\n",
            "\n_{x=\"1\"} 3\n",
            "\nzk:c 4\n",
            "\nzk__ 5\n",
            "\nzk_d{_7=\"3\",a_b=\"2\",my_label=\"1\"} 6\n",
            "# HELP zk_a_b ZooKeeper mntr.\n",
            "# HELP zk_v_info ZooKeeper mntr zk_v, as the label value.\n",
        ] {
            assert!(page.contains(line), "{line} missing from:\n{page}");
        }
    }

    #[test]
    fn names_as_zookeeper_prints_them_need_no_cleaning() {
        for (key, clean) in [
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
            let name = metric_name(key);
            assert_eq!(matches!(name, Cow::Borrowed(_)), clean, "{key}: {name}");
        }
        assert_eq!(label_name("a:b"), "a_b");
        assert_eq!(label_name(""), "_");
    }

    #[test]
    fn lines_whose_labels_cannot_be_valid_are_left_out() {
        let page = page_of(
            "zk_a{x=\"1\",x=\"2\"}\t1\n\
             zk_a{x-y=\"1\",x_y=\"2\"}\t2\n\
             zk_a{__name__=\"x\"}\t3\n\
             zk_a{-_x=\"x\"}\t4\n\
             zk_server_state{state=\"x\"}\tleader\n\
             zk_b{value=\"1\"}\ttext\n\
             zk_b{version=\"1\"}\tkept\n\
             zk_c{quantile=\"high\"}\t5\n\
             zk_c{quantile=\"\"}\t6\n\
             zk_a{x=\"3\"}\t7\n",
        );
        assert_eq!(
            page.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            [
                "zk_up 1",
                "zk_b_info{value=\"kept\",version=\"1\"} 1",
                "zk_a{x=\"3\"} 7"
            ],
            "{page}"
        );
    }

    #[test]
    fn quantiles_are_written_as_numbers() {
        let page = page_of(
            "zk_q{quantile=\"0.5\"}\t1\nzk_q{quantile=\"+1\"}\t2\nzk_q{quantile=\"nan\"}\t3\n\
             zk_q{quantile=\"1.\"}\t4\nzk_q{quantile=\"-Infinity\"}\t5\n",
        );
        assert!(
            page.ends_with(
                "# TYPE zk_q summary\nzk_q{quantile=\"0.5\"} 1\nzk_q{quantile=\"1\"} 2\n\
                 zk_q{quantile=\"NaN\"} 3\nzk_q{quantile=\"-Inf\"} 5\n"
            ),
            "{page}"
        );
    }

    #[test]
    fn a_series_comes_once_and_a_family_together() {
        let page = page_of(
            "zk_a{x=\"1\"}\t1\nzk_b\t2\nzk_a{x=\"2\"}\t3\nzk_a{x=\"1\"}\t4\n\
             zk_a{y=\"1\",x=\"1\"}\t5\nzk_a{x=\"1\", y=\"1\"}\t6\nzk_a\t7\nzk_a\t8\n\
             zk_c_ms\t9\nzk_c_seconds\t10\n",
        );
        assert!(
            page.contains(
                "# TYPE zk_a gauge\nzk_a{x=\"1\"} 1\nzk_a{x=\"2\"} 3\nzk_a{x=\"1\",y=\"1\"} 5\n\
                 zk_a 7\n# HELP zk_b"
            ),
            "{page}"
        );
        assert!(page.ends_with("# TYPE zk_c_seconds gauge\nzk_c_seconds 0.009\n"));
    }

    #[test]
    fn a_summary_keeps_its_sum_and_count_names() {
        for mntr in [
            "zk_znode{quantile=\"0.5\"}\t1\nzk_znode_sum\t2\nzk_znode_count\t3\nzk_znode_x\t4\n",
            "zk_znode_sum\t2\nzk_znode_count\t3\nzk_znode{quantile=\"0.5\"}\t1\nzk_znode_x\t4\n",
        ] {
            let page = page_of(mntr);
            assert!(!page.contains("zk_znode_sum") && !page.contains("zk_znode_count"));
            assert!(page.contains("zk_znode{quantile=\"0.5\"} 1\n"), "{page}");
            assert!(page.contains("zk_znode_x 4\n"), "{page}");
        }
    }

    #[test]
    fn every_value_is_a_prometheus_number() {
        let page = page_of(
            "zk_a\t+1\nzk_b\t1e999\nzk_c\t-Infinity\nzk_d\t1.0E-4\nzk_e_ms\t1e3\nzk_f_ms\tNaN\n\
             zk_g_ms\t-0\nzk_h\t-0.0\n",
        );
        let values: Vec<&str> = page
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(' ').nth(1).unwrap())
            .collect();
        assert_eq!(
            values,
            ["1", "1", "+Inf", "-Inf", "1.0E-4", "1", "NaN", "-0", "-0.0"]
        );
    }

    #[test]
    fn milliseconds_move_the_point() {
        for (ms, seconds) in [
            ("0", "0"),
            ("0.0", "0"),
            ("7", "0.007"),
            ("1500", "1.5"),
            ("1000", "1"),
            ("12.5", "0.0125"),
            ("-1", "-0.001"),
            ("1234567.8", "1234.5678"),
            ("2.5E3", "2.5"),
        ] {
            let out = thousandth(ms);
            assert_eq!(out, seconds, "{ms}");
            let number: f64 = ms.parse().unwrap();
            let error = out.parse::<f64>().unwrap() - number / 1000.0;
            assert!(error.abs() <= 1e-12 * number.abs(), "{ms}");
        }
    }

    #[test]
    fn odd_bytes_stay_inside_their_labels() {
        let page = page_of("zk_t\ta\"b\\c\u{1}\r\u{7f}\u{fffd}}\nzk_u{a=\"\r\"}\t1\n");
        assert!(
            page.contains("zk_t_info{value=\"a\\\"b\\\\c\u{1}\r\u{7f}\u{fffd}}\"} 1\n"),
            "{page}"
        );
        assert!(page.contains("zk_u{a=\"\r\"} 1\n"), "{page}");
    }

    /// An answer of 1 MiB made of `line(0)`, `line(1)`, …, and how many lines it has.
    fn megabyte_of(line: impl Fn(usize) -> String) -> (String, usize) {
        let mut mntr = String::new();
        let mut n = 0;
        while mntr.len() < 1024 * 1024 {
            mntr.push_str(&line(n));
            n += 1;
        }
        (mntr, n)
    }

    /// 1 MiB of `zk_a{b="N"}` lines, all distinct: every one on the page, in order, at once.
    #[test]
    fn a_megabyte_of_labelled_lines_is_converted_whole() {
        let (mntr, n) = megabyte_of(|n| format!("zk_a{{b=\"{n}\"}}\t{n}\n"));
        let page = page_of(&mntr);
        let mut lines = page.lines();
        assert_eq!(lines.nth(2), Some("zk_up 1"));
        assert_eq!(lines.next(), Some("# HELP zk_a ZooKeeper mntr."));
        assert_eq!(lines.next(), Some("# TYPE zk_a gauge"));
        let mut seen = 0;
        for (i, line) in lines.enumerate() {
            assert_eq!(line, format!("zk_a{{b=\"{i}\"}} {i}"));
            seen += 1;
        }
        assert_eq!(seen, n);
    }

    #[test]
    fn a_megabyte_of_summaries_with_the_same_labels_is_converted_whole() {
        // Each family's quantile is the same label set: only the family tells the series
        // apart.
        let (mntr, n) = megabyte_of(|n| format!("zk_a{n}{{quantile=\"0.5\"}}\t{n}\n"));
        let page = page_of(&mntr);
        let samples = page.lines().filter(|l| l.contains("{quantile=\"0.5\"} "));
        assert_eq!(samples.count(), n);
    }
}
