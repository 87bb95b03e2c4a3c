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
//! It takes time in proportion to the answer: each line is read once, names and values that
//! need no change are borrowed from it, and families and series are found again by hashing.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::mntr::{self, Entry, Line, Value};
use super::pieces::{self, Cursor, PAD, Text, push};
use super::seen::{self, Seen};

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
    /// The end of a TYPE line: the type's name and the line feed.
    const fn type_end(self) -> &'static str {
        match self {
            Kind::Gauge => " gauge\n",
            Kind::Counter => " counter\n",
            Kind::Summary => " summary\n",
            Kind::Untyped => " untyped\n",
        }
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
    let Some(rest) = name.as_bytes().strip_prefix(b"zk_") else {
        return false;
    };
    let prefix = rest.split(|&b| b == b'_').next().unwrap_or_default();
    match prefix {
        b"avg" | b"min" | b"max" | b"sum" => true,
        [b'p', digits @ ..] => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// How a number that is not a summary's becomes a family, from its mntr name: its type,
/// what its name loses and gains, what its HELP says.
struct Style {
    kind: Kind,
    note: Note,
    /// Bytes the mntr name loses at its end (`_ms`).
    cut: usize,
    suffix: Text,
    /// The HELP text after the family's name: up to the mntr name when the family is
    /// renamed, else to the TYPE line's name.
    help: Text,
    /// After the mntr name, to the TYPE line's name; empty when the family is not renamed.
    help_end: Text,
    type_end: Text,
}

impl Style {
    const fn new(kind: Kind, note: Note, cut: usize, suffix: &str) -> Style {
        let renamed = !suffix.is_empty();
        Style {
            kind,
            note,
            cut,
            suffix: Text::new(suffix),
            help: Text::new(match renamed {
                true => RENAMED_HELP,
                false => USUAL_HELP,
            }),
            help_end: Text::new(match renamed {
                true => note.help_end(),
                false => "",
            }),
            type_end: Text::new(kind.type_end()),
        }
    }

    fn renamed(&self) -> bool {
        self.suffix.len() > 0
    }
}

static GAUGE: Style = Style::new(Kind::Gauge, Note::None, 0, "");
static UNTYPED: Style = Style::new(Kind::Untyped, Note::None, 0, "");
static COUNTER: Style = Style::new(Kind::Counter, Note::None, 0, "_total");
/// A counter counts events (pauses), not milliseconds: its name loses the unit and gains
/// no other, and its value stays.
static MILLISECONDS_COUNTER: Style = Style::new(Kind::Counter, Note::None, 3, "_total");
static MILLISECONDS: Style = Style::new(Kind::Gauge, Note::InSeconds, 3, "_seconds");

/// The style of a number under mntr name `name`, not a summary's.
#[inline(always)]
fn style(name: &str) -> &'static Style {
    // Whether ZooKeeper's name says the number counts events.
    if name.ends_with("_ms") {
        match name.starts_with("zk_cnt_") {
            true => &MILLISECONDS_COUNTER,
            false => &MILLISECONDS,
        }
    } else if name.ends_with("_count") {
        match is_current_count(name) || is_statistic(name) {
            true => &UNTYPED,
            false => &COUNTER,
        }
    } else if name.starts_with("zk_cnt_")
        || matches!(name, "zk_packets_received" | "zk_packets_sent")
    {
        // Counters whose names do not end in `_count`.
        &COUNTER
    } else {
        &GAUGE
    }
}

/// The family of a number under mntr name `name`, a summary's or not: its type, what its
/// HELP adds, and its name, which is `head` (the mntr name, or its start) and `suffix`.
fn number_family(name: &str, summary: bool) -> (Kind, Note, &str, &'static str) {
    if summary {
        return match name.strip_suffix("_ms") {
            Some(head) => (Kind::Summary, Note::InSeconds, head, "_seconds"),
            None => (Kind::Summary, Note::None, name, ""),
        };
    }
    let style = style(name);
    let head = &name[..name.len() - style.cut];
    (style.kind, style.note, head, style.suffix.as_str())
}

/// How a family's block starts: its name follows.
const HELP: &str = "# HELP ";

/// The family that `zk_up` is, always first and always alone.
const UP: &str = "zk_up";

/// Where a piece of text is in the string of names (`names` in `page`).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// From `start` to the end of `names`.
    fn since(start: usize, names: &str) -> Span {
        Span {
            start,
            end: names.len(),
        }
    }

    #[inline]
    fn of(self, names: &str) -> &str {
        &names[self.start..self.end]
    }

    /// `of`, as bytes: what names are compared and hashed as.
    #[inline]
    fn bytes(self, names: &str) -> &[u8] {
        &names.as_bytes()[self.start..self.end]
    }
}

/// A piece of a series' text: a slice of the answer itself when it needs no change, as
/// most names and values do, else a slice of `names`.
#[derive(Debug, Clone, Copy)]
enum Piece<'e> {
    Answer(&'e str),
    Names(Span),
}

impl<'e> Piece<'e> {
    #[inline]
    fn of<'a>(self, names: &'a str) -> &'a str
    where
        'e: 'a,
    {
        match self {
            Piece::Answer(text) => text,
            Piece::Names(span) => span.of(names),
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

impl Note {
    /// The end of a HELP line that says more than the usual, and the start of the TYPE
    /// line; a label's words come before it.
    const fn help_end(self) -> &'static str {
        match self {
            Note::InSeconds => ", in seconds.\n# TYPE ",
            Note::None | Note::Label(_) => ".\n# TYPE ",
        }
    }
}

/// A HELP line's text after the family's name, to the TYPE line's name, for a family named
/// as in mntr that says no more: most families.
const USUAL_HELP: &str = " ZooKeeper mntr.\n# TYPE ";

/// A HELP line's text after the family's name, before the mntr name, for a family that is
/// not named as in mntr.
const RENAMED_HELP: &str = " ZooKeeper mntr ";

/// One mntr line, as the sample it becomes.
#[derive(Debug)]
struct Series<'e> {
    family: Piece<'e>,
    kind: Kind,
    /// The mntr name, cleaned up, for the family's HELP.
    name: Cow<'e, str>,
    /// Whether the family's name is more than the mntr name.
    renamed: bool,
    note: Note,
    /// `a="x",b="y"`, sorted by name; empty for none.
    labels: Span,
    value: Piece<'e>,
}

/// A family on the page.
struct Family {
    /// Its HELP, TYPE and samples, in `out`.
    block: Span,
    /// The length of its name, which follows the `# HELP ` its block starts with.
    name_len: u32,
    kind: Kind,
    /// Whether the series without labels is taken.
    bare: bool,
    shown: bool,
    /// Its samples that came after another family's, in `late`: the first and the last.
    late: Option<(usize, usize)>,
}

impl Family {
    /// Where its name is in `out`.
    #[inline]
    fn name(&self) -> Span {
        let start = self.block.start + HELP.len();
        Span {
            start,
            end: start + self.name_len as usize,
        }
    }
}

/// The page as it is written, one line of mntr at a time.
///
/// Samples go straight to the page while their family is the last one on it, as in every
/// answer ZooKeeper gives. A sample of an earlier family waits in `late`, and the page is
/// put together again at the end, each family's late samples after its block.
struct Page<'e> {
    out: String,
    /// Family names that are not the mntr name as it is, and label sets.
    names: String,
    families: Vec<Family>,
    /// The numbers of the families that are summaries, in `families`.
    summaries: Vec<usize>,
    /// Families by name: their numbers in `families`.
    by_name: Seen,
    /// Series with labels, by family and label set: their numbers in `series`.
    labelled: Seen,
    /// The family and label set of each series with labels.
    series: Vec<(usize, Span)>,
    late: String,
    /// Each late sample: where it is in `late`, and the next one of its family.
    late_samples: Vec<(Span, usize)>,
    /// Room for a line's labels, reused from line to line.
    labels: Vec<(Cow<'e, str>, Cow<'e, str>)>,
    /// The answer, through which pieces of it are copied as whole blocks (`add_usual`), and
    /// the address right after it: such a piece must start `PAD` bytes before it or sooner.
    /// The address is kept rather than worked out for each line, which cost 1,200
    /// instructions on a 485-line answer.
    answer: &'e str,
    answer_end: usize,
}

/// The Prometheus page of the `mntr` answer; `up` says whether the server answered (with
/// `up` false, `mntr` is empty).
pub fn page(mntr: &str, up: bool) -> String {
    Page::of(mntr, up).finish()
}

/// The page `page` gives, with every line taken the long way (`Page::add`), as the tests and
/// the fuzz target compare it with `page`.
#[cfg(any(test, fuzzing))]
pub fn page_the_long_way(mntr: &str, up: bool) -> String {
    let mut page = Page::new(mntr, up);
    for entry in mntr::entries(mntr) {
        page.add(entry);
    }
    page.finish()
}

impl<'e> Page<'e> {
    /// Every line of `mntr` on the page, which `finish` puts together: compiled for AVX2
    /// where the processor has it (keys are then read 32 bytes at a time without a call, and
    /// pieces copied 32 bytes at a time), else for any x86_64.
    fn of(mntr: &'e str, up: bool) -> Page<'e> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked above).
            return unsafe { Page::of_avx2(mntr, up) };
        }
        Page::of_any(mntr, up, mntr::sse2_plain_run)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn of_avx2(mntr: &'e str, up: bool) -> Page<'e> {
        // `mntr::avx2::plain_run`, written out: as a `target_feature` function it cannot be
        // marked to be inlined, and called it costs 15 instructions a line.
        Page::of_any(mntr, up, |bytes| {
            mntr::plain_run_with(bytes, |chunk| mntr::avx2::others_of(chunk))
        })
    }

    /// `of`, reading keys with `plain_run` (`mntr::lines_with`).
    #[inline(always)]
    fn of_any(mntr: &'e str, up: bool, plain_run: impl Fn(&[u8]) -> usize) -> Page<'e> {
        let mut page = Page::new(mntr, up);
        for line in mntr::lines_with(mntr, plain_run) {
            match line {
                Line::Plain(key, value) => {
                    // SAFETY: the key and the value's text are slices of `mntr`, which the
                    // page was made for (`lines_with` reads them from it).
                    if let Value::Number(text) = value
                        && unsafe { page.add_usual(key, text) }
                    {
                        continue;
                    }
                    page.add(Entry::plain(key, value));
                }
                Line::Other(line) => {
                    if let Some(entry) = mntr::read_line(line) {
                        page.add(entry);
                    }
                }
            }
        }
        page
    }

    /// A page with `zk_up` on it, and room for the lines of `mntr`.
    fn new(mntr: &'e str, up: bool) -> Page<'e> {
        // A page holds each name three times (HELP, TYPE, sample), a line being 40 bytes or so.
        let lines = mntr.len() / 32;
        let mut page = Page {
            out: String::with_capacity(4 * mntr.len() + 64 * lines + 256),
            names: String::with_capacity(mntr.len() / 2),
            families: Vec::with_capacity(lines),
            summaries: Vec::new(),
            by_name: Seen::with_capacity(lines),
            labelled: Seen::with_capacity(0),
            series: Vec::new(),
            late: String::new(),
            late_samples: Vec::new(),
            labels: Vec::new(),
            answer: mntr,
            answer_end: mntr.as_ptr() as usize + mntr.len(),
        };
        page.out
            .push_str("# HELP zk_up 1 when ZooKeeper answered mntr, else 0.\n# TYPE zk_up gauge\n");
        page.out
            .push_str(if up { "zk_up 1\n" } else { "zk_up 0\n" });
        page
    }

    /// A line as ZooKeeper prints nearly all of them, a plain name and a number that passes
    /// through, when its family is not on the page yet: the lines `add` would write, without
    /// what only other lines need. False when the line needs `add`.
    ///
    /// # Safety
    /// `name` and `value` must be slices of the answer the page was made for (`new`), the
    /// value after the name: their pieces are copied as whole blocks, which may read past
    /// their end, up to `PAD` bytes from their start, as far as the answer's end.
    #[inline(always)]
    unsafe fn add_usual(&mut self, name: &'e str, value: &'e str) -> bool {
        // Names and values are slices of the answer, copied as whole blocks (`PAD` bytes for
        // a name, `VALUE_BLOCK` for a value): a line that ends less than `PAD` bytes before
        // the answer does (the last one or two) takes the long way, as does a name or value
        // longer than its block. The value comes after the name: room to read after the
        // value is room after the name.
        let (name_at, value_at) = (name.as_ptr() as usize, value.as_ptr() as usize);
        let readable = name_at <= value_at && value_at + PAD <= self.answer_end;
        if name.len() > PAD || value.len() > VALUE_BLOCK || !readable {
            return false;
        }
        let style = style(name);
        let head = &name[..name.len() - style.cut];
        // The family's lines are written first, and taken back when the family is on the
        // page already (or is `zk_up`): its name is then read where the HELP line has it.
        let start = self.out.len();
        let family_len = head.len() + style.suffix.len();
        if family_len > PAD {
            return false;
        }
        // Zero milliseconds, as ZooKeeper prints most of them, are zero seconds: the value is
        // written as it is, else made seconds once the line is known to stay.
        let in_seconds = style.note == Note::InSeconds && value != "0";
        let answer = self.answer.as_ptr();
        let mut line = pieces::line(&mut self.out, USUAL_MOST);
        // SAFETY: the pieces take at most USUAL_MOST bytes; those copied as blocks are slices
        // of the answer (the caller's promise), read through the answer's pointer, no longer
        // than their block and with `PAD` bytes of the answer from their start, and the
        // family's name, written again from the HELP line, is no longer than `PAD` either
        // (all checked above).
        unsafe {
            line.push(HELP);
            line.push_block::<PAD>(answer, head);
            line.push_text(&style.suffix);
            line.push_text(&style.help);
            if style.renamed() {
                line.push_block::<PAD>(answer, name);
                line.push_text(&style.help_end);
            }
            line.push_again(HELP.len(), family_len);
            line.push_text(&style.type_end);
            line.push_again(HELP.len(), family_len);
            line.push(" ");
            if !in_seconds {
                line.push_block::<VALUE_BLOCK>(answer, value);
                line.push("\n");
            }
        }
        drop(line);
        let at = start + HELP.len();
        let family = Span {
            start: at,
            end: at + family_len,
        };
        let family_name = family.bytes(&self.out);
        let hash = self.by_name.hash(family_name);
        let number = self.families.len() as u32;
        let (families, out) = (&self.families, &self.out);
        let found = match family_name == UP.as_bytes() {
            true => None,
            false => Some(self.by_name.entry(hash, number, |f| {
                families[f as usize].name().bytes(out) == family_name
            })),
        };
        if !matches!(found, Some(seen::Entry::Added)) {
            self.out.truncate(start);
            return false;
        }
        if in_seconds {
            push_thousandth(&mut self.out, value);
            self.out.push('\n');
        }
        self.families.push(Family {
            name_len: family_len as u32,
            kind: style.kind,
            block: Span::since(start, &self.out),
            bare: true,
            shown: true,
            late: None,
        });
        true
    }

    fn add(&mut self, entry: Entry<'e>) {
        let Some(series) = plan(&entry, &mut self.names, &mut self.labels) else {
            return;
        };
        let name = series.family.of(&self.names);
        if name == UP {
            return;
        }
        let hash = self.by_name.hash(name.as_bytes());
        let families = &self.families;
        let number = families.len() as u32;
        let found = self.by_name.entry(hash, number, |f| {
            families[f as usize].name().bytes(&self.out) == name.as_bytes()
        });
        let f = match found {
            seen::Entry::Found(f) => f as usize,
            seen::Entry::Added => {
                let f = self.families.len();
                let start = self.out.len();
                self.families.push(Family {
                    // An answer is at most `fourlw::MAX_REPLY` bytes: far less than 4 GiB.
                    name_len: name.len() as u32,
                    kind: series.kind,
                    block: Span::since(start, &self.out),
                    bare: false,
                    shown: true,
                    late: None,
                });
                if series.kind == Kind::Summary {
                    self.summaries.push(f);
                }
                let family = series.family.of(&self.names);
                let (name, note, kind) = (&series.name, series.note, series.kind);
                let most = 2 * family.len() + name.len() + HEADER_TEXT;
                let mut line = pieces::cursor(&mut self.out, most);
                push_header(&mut line, family, name, series.renamed, note, kind);
                drop(line);
                self.families[f].block.end = self.out.len();
                f
            }
        };
        let family = &mut self.families[f];
        // A name already taken by another type: left out rather than break the page.
        if family.kind != series.kind {
            return;
        }
        if series.labels.start == series.labels.end {
            if std::mem::replace(&mut family.bare, true) {
                return;
            }
        } else {
            let labels = series.labels.of(&self.names);
            // The family's number is in the hash: families with the same labels (a quantile
            // each) do not share slots.
            let hash =
                self.labelled.hash(labels.as_bytes()) ^ (self.labelled.hash(&f.to_le_bytes()) & !1);
            let (all, names) = (&self.series, &self.names);
            let number = all.len() as u32;
            let taken = self.labelled.entry(hash, number, |s| {
                let (g, other) = all[s as usize];
                g == f && other.of(names) == labels
            });
            if let seen::Entry::Found(_) = taken {
                return;
            }
            self.series.push((f, series.labels));
        }
        if family.block.end == self.out.len() {
            push_sample(&mut self.out, &self.names, &series);
            family.block.end = self.out.len();
        } else {
            let start = self.late.len();
            push_sample(&mut self.late, &self.names, &series);
            let i = self.late_samples.len();
            self.late_samples
                .push((Span::since(start, &self.late), usize::MAX));
            match &mut family.late {
                Some((_, last)) => {
                    self.late_samples[*last].1 = i;
                    *last = i;
                }
                None => family.late = Some((i, i)),
            }
        }
    }

    fn finish(mut self) -> String {
        // Prometheus reads `X_sum` and `X_count` as part of summary `X`: such families would
        // make a second HELP for `X`.
        let mut name = String::new();
        let mut hidden = false;
        for s in std::mem::take(&mut self.summaries) {
            for suffix in ["_sum", "_count"] {
                name.clear();
                push(&mut name, self.families[s].name().of(&self.out));
                push(&mut name, suffix);
                let hash = self.by_name.hash(name.as_bytes());
                let (families, out) = (&self.families, &self.out);
                let found = self.by_name.find(hash, |f| {
                    families[f as usize].name().bytes(out) == name.as_bytes()
                });
                if let Some(f) = found {
                    self.families[f as usize].shown = false;
                    hidden = true;
                }
            }
        }
        if !hidden && self.late_samples.is_empty() {
            return self.out;
        }
        // zk_up, then each family shown: its block, then its late samples.
        let first = self
            .families
            .first()
            .map_or(self.out.len(), |f| f.block.start);
        let mut page = String::with_capacity(self.out.len() + self.late.len());
        page.push_str(&self.out[..first]);
        for family in self.families.iter().filter(|f| f.shown) {
            push(&mut page, family.block.of(&self.out));
            let mut next = family.late.map_or(usize::MAX, |(first, _)| first);
            while let Some(&(sample, after)) = self.late_samples.get(next) {
                push(&mut page, sample.of(&self.late));
                next = after;
            }
        }
        page
    }
}

/// The HELP and TYPE lines of family `family`, named `name` in mntr, which `renamed` says
/// is not the family's name. They take `2 * family.len() + name.len() + HEADER_TEXT` bytes
/// at most.
#[inline(always)]
fn push_header(line: &mut Cursor, family: &str, name: &str, renamed: bool, note: Note, kind: Kind) {
    line.push(HELP);
    line.push(family);
    if !renamed && note == Note::None {
        // The usual HELP, in one piece.
        line.push(USUAL_HELP);
    } else {
        // The mntr name, when the family is not named so.
        if renamed {
            line.push(RENAMED_HELP);
            line.push(name);
        } else {
            line.push(" ZooKeeper mntr");
        }
        if let Note::Label(label) = note {
            line.push(", as the label ");
            line.push(label);
        }
        line.push(note.help_end());
    }
    line.push(family);
    line.push(kind.type_end());
}

/// Most bytes the constant pieces of `push_header` and a label's name take.
const HEADER_TEXT: usize = 64;

/// The block a usual line's value is copied in: values are a few digits.
const VALUE_BLOCK: usize = 32;

/// Most bytes the lines of a usual line's family take (`Page::add_usual`): its name three
/// times (the mntr name, `PAD` bytes at most, and a suffix, a `Text`), the mntr name, its
/// value (`VALUE_BLOCK` bytes at most), and the constant pieces.
const USUAL_MOST: usize = 3 * (PAD + pieces::TEXT) + 2 * PAD + HEADER_TEXT + 2;

/// One sample line of `series`.
#[inline]
fn push_sample(out: &mut String, names: &str, series: &Series<'_>) {
    push(out, series.family.of(names));
    if series.labels.start != series.labels.end {
        out.push('{');
        push(out, series.labels.of(names));
        out.push('}');
    }
    out.push(' ');
    push(out, series.value.of(names));
    out.push('\n');
}

/// The series of one line, its text written to `names`; None when it cannot be one.
/// `labels` is room for the line's labels, reused from line to line.
fn plan<'e>(
    entry: &Entry<'e>,
    names: &mut String,
    labels: &mut Vec<(Cow<'e, str>, Cow<'e, str>)>,
) -> Option<Series<'e>> {
    let name = match entry.plain {
        true => Cow::Borrowed(entry.name),
        false => metric_name(entry.name),
    };
    labels.clear();
    if !entry.labels.is_empty() {
        let cleaned = entry.labels.iter();
        labels.extend(cleaned.map(|label| (label_name(label.name), label.value.text())));
    }

    // The family's name: the mntr name, and what follows from the value.
    let (kind, note, head, suffix) = match entry.value {
        Value::Text(text) => {
            let (suffix, label) = match &*name {
                "zk_server_state" | "zk_peer_state" => ("", "state"),
                "zk_version" => ("_info", "version"),
                _ => ("_info", "value"),
            };
            labels.push((label.into(), text.into()));
            (Kind::Gauge, Note::Label(label), &*name, suffix)
        }
        Value::Number(_) | Value::Float(_) => {
            let quantile = match labels.is_empty() {
                true => None,
                false => labels.iter_mut().find(|(label, _)| label == "quantile"),
            };
            let summary = quantile.is_some();
            if let Some((_, value)) = quantile {
                // Prometheus reads a quantile as a number: written as one, or left out.
                match Value::read(value.as_ref()) {
                    Value::Number(_) => {}
                    Value::Float(number) => {
                        let mut text = String::new();
                        push_float(&mut text, number);
                        *value = text.into();
                    }
                    Value::Text(_) => return None,
                }
            }
            number_family(&name, summary)
        }
    };
    let family = match (&name, suffix) {
        (Cow::Borrowed(name), "") => Piece::Answer(name),
        _ => {
            let start = names.len();
            push(names, head);
            push(names, suffix);
            Piece::Names(Span::since(start, names))
        }
    };

    let labels_start = names.len();
    if !labels.is_empty() {
        labels.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let reserved = labels.iter().any(|(label, _)| label.starts_with("__"));
        let repeated = labels.windows(2).any(|pair| pair[0].0 == pair[1].0);
        if reserved || repeated {
            return None;
        }
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                names.push(',');
            }
            push(names, label);
            names.push_str("=\"");
            push_label_value(names, value);
            names.push('"');
        }
    }
    let labels = Span::since(labels_start, names);

    let value_start = names.len();
    let value = match (entry.value, note) {
        (Value::Text(_), _) => Piece::Answer("1"),
        (Value::Number(text), Note::InSeconds) => {
            push_thousandth(names, text);
            Piece::Names(Span::since(value_start, names))
        }
        (Value::Number(text), _) => Piece::Answer(text),
        (Value::Float(number), Note::InSeconds) => {
            push_float(names, number / 1000.0);
            Piece::Names(Span::since(value_start, names))
        }
        (Value::Float(number), _) => {
            push_float(names, number);
            Piece::Names(Span::since(value_start, names))
        }
    };
    Some(Series {
        family,
        kind,
        name,
        renamed: !suffix.is_empty(),
        note,
        labels,
        value,
    })
}

/// Bytes allowed in a label name; metric names also allow `:`.
const LABEL_NAME: u8 = 1;
const METRIC_NAME: u8 = 2;

/// For each byte, which names may hold it.
static NAME_BYTES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_alphanumeric() || byte == b'_' {
            table[b] = LABEL_NAME | METRIC_NAME;
        } else if byte == b':' {
            table[b] = METRIC_NAME;
        }
        b += 1;
    }
    table
};

/// `key` as a metric name: letters, digits, `_` and `:`, not starting with a digit. Every
/// other character becomes `_`, and `_` goes before a leading digit or an empty name.
/// Borrowed when it is one already, as every key ZooKeeper prints.
fn metric_name(key: &str) -> Cow<'_, str> {
    clean_name(key, METRIC_NAME)
}

/// `name` as a label name: as a metric name, but without `:`.
fn label_name(name: &str) -> Cow<'_, str> {
    clean_name(name, LABEL_NAME)
}

fn clean_name(name: &str, kind: u8) -> Cow<'_, str> {
    let allowed = |b: u8| NAME_BYTES[usize::from(b)] & kind != 0;
    let starts_well = name.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if starts_well && name.bytes().all(allowed) {
        return Cow::Borrowed(name);
    }
    let mut clean = String::with_capacity(name.len() + 1);
    if !starts_well {
        clean.push('_');
    }
    clean.extend(name.chars().map(|c| match u8::try_from(c) {
        Ok(b) if allowed(b) => c,
        _ => '_',
    }));
    Cow::Owned(clean)
}

/// A label value between its quotes: `\`, `"` and line feeds escaped.
fn push_label_value(out: &mut String, text: &str) {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'\n' => "\\n",
            _ => continue,
        };
        push(out, &text[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    push(out, &text[start..]);
}

/// A number Prometheus reads: `NaN`, `+Inf`, `-Inf`, or decimal digits.
fn push_float(out: &mut String, number: f64) {
    if number.is_nan() {
        out.push_str("NaN");
    } else if number.is_infinite() {
        out.push_str(if number > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        let _ = write!(out, "{number}");
    }
}

/// `text`, a number in JSON's syntax, divided by 1000: for decimals, the point moves three
/// digits to the left, so `1500` is `1.5` with no rounding on the way.
fn push_thousandth(out: &mut String, text: &str) {
    if text.bytes().any(|b| b == b'e' || b == b'E') {
        return push_float(out, text.parse::<f64>().unwrap_or(f64::NAN) / 1000.0);
    }
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", text),
    };
    let (integer, fraction) = match digits.bytes().position(|b| b == b'.') {
        Some(point) => (&digits[..point], &digits[point + 1..]),
        None => (digits, ""),
    };
    let (kept, moved) = integer.split_at(integer.len().saturating_sub(3));
    // The decimals: zeros, the digits moved, the fraction, less the zeros they end with.
    let fraction = without_trailing_zeros(fraction);
    let moved = match fraction {
        "" => without_trailing_zeros(moved),
        _ => moved,
    };
    push(out, sign);
    push(out, if kept.is_empty() { "0" } else { kept });
    if !moved.is_empty() || !fraction.is_empty() {
        push(out, ".");
        push(out, &"000"[..3 - integer.len().min(3)]);
        push(out, moved);
        push(out, fraction);
    }
}

/// `digits` without the zeros it ends with.
fn without_trailing_zeros(digits: &str) -> &str {
    let bytes = digits.as_bytes();
    let mut end = bytes.len();
    while end > 0 && bytes[end - 1] == b'0' {
        end -= 1;
    }
    &digits[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::mntr::SAMPLE;

    fn page_of(mntr: &str) -> String {
        page(mntr, true)
    }

    #[test]
    fn the_short_way_writes_the_page_the_long_way_does() {
        let odd = "zk_a\t1\nzk_a\t2\nzk_b_ms\t1500\nzk_b_seconds\t3\nzk_c_count\t4\n\
                   zk_c_count_total\t5\nzk_up\t1\nzk_d\ttext\nzk_d\t6\nzk_e\t7\n\
                   zk_e{x=\"1\"}\t8\nzk_f{quantile=\"0.5\"}\t1\nzk_f_sum\t2\nzk_f\t3\n\
                   zk_g_ms\t1e3\nzk_h_ms\t-0.5\nzk_cnt_i_ms\t9\nzk_cnt_i_total\t1\n\
                   zk_j\t1\nzk_k\t2\nzk_j{y=\"2\"}\t3\nzk_p99_l_count\t4\n";
        let answers = [
            SAMPLE,
            odd,
            include_str!("../../tests/fixtures/mntr-3.4-leader.txt"),
            include_str!("../../tests/fixtures/mntr-3.5-follower.txt"),
            include_str!("../../tests/fixtures/mntr-3.8-leader.txt"),
            include_str!("../../tests/fixtures/mntr-3.8-standalone.txt"),
        ];
        for answer in answers {
            let page = page_of(answer);
            assert_eq!(page, page_the_long_way(answer, true), "{answer}");
            // Compiled for any x86_64, as on a processor without AVX2.
            let any = Page::of_any(answer, true, mntr::plain_run).finish();
            assert_eq!(page, any, "{answer}");
        }
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
            let mut out = String::new();
            push_thousandth(&mut out, ms);
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
        // apart, and it must keep them apart in the table too.
        let (mntr, n) = megabyte_of(|n| format!("zk_a{n}{{quantile=\"0.5\"}}\t{n}\n"));
        let page = Page::of(&mntr, true);
        // A search for a series goes through few slots, not through every family's.
        assert!(
            page.labelled.longest_run() < 100,
            "{}",
            page.labelled.longest_run()
        );
        let page = page.finish();
        let samples = page.lines().filter(|l| l.contains("{quantile=\"0.5\"} "));
        assert_eq!(samples.count(), n);
    }
}
