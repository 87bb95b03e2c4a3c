//! A strict reader of the Prometheus text format (version 0.0.4), stricter than Prometheus
//! itself: what it accepts, every Prometheus reader accepts.
//!
//! Every line is `# HELP name text`, `# TYPE name type` or `name{label="value",…} value`.
//! A family has at most one HELP and one TYPE, its TYPE comes before its samples, and its
//! samples come together. Samples `X_sum` and `X_count` belong to summary `X`, as Prometheus
//! reads them. No series comes twice. Exactly one `zk_up`, 0 or 1.

use std::collections::{HashMap, HashSet};

#[derive(Default)]
struct Family {
    kind: Option<String>,
    help: bool,
    /// Samples were seen, and then another family's line: no more samples of this one.
    closed: bool,
    sampled: bool,
}

pub fn check(page: &str) -> Result<(), String> {
    let body = page
        .strip_suffix('\n')
        .ok_or("the page does not end with a line feed")?;
    let mut families: HashMap<String, Family> = HashMap::new();
    let mut series: HashSet<(String, Vec<(String, String)>)> = HashSet::new();
    let mut current: Option<String> = None;
    let mut up = 0;
    for (n, line) in body.split('\n').enumerate() {
        let at = |problem: String| format!("line {}: {problem}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest
                .split_once(' ')
                .ok_or_else(|| at("no help text".into()))?;
            metric_name(name).map_err(at)?;
            help_text(text).map_err(at)?;
            let family = family_of(&families, name);
            switch(&mut families, &mut current, &family);
            let entry = families.entry(family.clone()).or_default();
            if entry.help {
                return Err(at(format!("second HELP for {family}")));
            }
            if entry.sampled {
                return Err(at(format!("HELP after samples of {family}")));
            }
            entry.help = true;
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| at("no type".into()))?;
            metric_name(name).map_err(at)?;
            if !matches!(
                kind,
                "counter" | "gauge" | "summary" | "untyped" | "histogram"
            ) {
                return Err(at(format!("unknown type {kind}")));
            }
            let family = family_of(&families, name);
            if family != name {
                return Err(at(format!("TYPE for {name}, a part of {family}")));
            }
            switch(&mut families, &mut current, &family);
            let entry = families.entry(family.clone()).or_default();
            if entry.kind.is_some() {
                return Err(at(format!("second TYPE for {family}")));
            }
            if entry.sampled {
                return Err(at(format!("TYPE after samples of {family}")));
            }
            entry.kind = Some(kind.to_owned());
        } else if line.starts_with('#') {
            return Err(at("a comment".into()));
        } else {
            let (name, labels, value) = sample(line).map_err(at)?;
            let family = family_of(&families, &name);
            switch(&mut families, &mut current, &family);
            let entry = families
                .get_mut(&family)
                .ok_or_else(|| at(format!("a sample of {family} before its TYPE")))?;
            if entry.kind.is_none() {
                return Err(at(format!("a sample of {family} before its TYPE")));
            }
            if entry.closed {
                return Err(at(format!("samples of {family} apart")));
            }
            entry.sampled = true;
            float(&value).map_err(at)?;
            if entry.kind.as_deref() == Some("summary") && name == family {
                let quantile = labels.iter().find(|(l, _)| l == "quantile");
                let quantile = quantile.ok_or_else(|| at("a summary without quantile".into()))?;
                float(&quantile.1).map_err(|p| at(format!("quantile: {p}")))?;
            }
            if name == "zk_up" {
                up += 1;
                if !labels.is_empty() || !(value == "0" || value == "1") {
                    return Err(at("zk_up is not 0 or 1".into()));
                }
            }
            let mut key = labels.clone();
            key.sort();
            if !series.insert((name.clone(), key)) {
                return Err(at(format!("a second series {name} with these labels")));
            }
        }
    }
    if up != 1 {
        return Err(format!("{up} zk_up samples"));
    }
    Ok(())
}

/// The family a name belongs to, as Prometheus reads it: `X_sum` and `X_count` are summary
/// `X`'s when there is one.
fn family_of(families: &HashMap<String, Family>, name: &str) -> String {
    for suffix in ["_sum", "_count", "_bucket"] {
        if let Some(stem) = name.strip_suffix(suffix)
            && let Some(family) = families.get(stem)
            && matches!(family.kind.as_deref(), Some("summary" | "histogram"))
            && (suffix != "_bucket" || family.kind.as_deref() == Some("histogram"))
        {
            return stem.to_owned();
        }
    }
    name.to_owned()
}

/// A line of `family`: the family before it, if another, is done.
fn switch(families: &mut HashMap<String, Family>, current: &mut Option<String>, family: &str) {
    if current.as_deref() != Some(family) {
        if let Some(previous) = current.take()
            && let Some(entry) = families.get_mut(&previous)
            && entry.sampled
        {
            entry.closed = true;
        }
        *current = Some(family.to_owned());
    }
}

fn metric_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':');
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

fn label_name(name: &str) -> Result<(), String> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("bad label name {name:?}"));
    }
    if name.starts_with("__") {
        return Err(format!("reserved label name {name:?}"));
    }
    Ok(())
}

fn help_text(text: &str) -> Result<(), String> {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' && !matches!(chars.next(), Some('\\' | 'n')) {
            return Err("bad escape in HELP".into());
        }
    }
    Ok(())
}

/// `name{labels} value`.
#[allow(clippy::type_complexity)]
fn sample(line: &str) -> Result<(String, Vec<(String, String)>, String), String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| "no value".to_string())?;
    let name = &line[..name_end];
    metric_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            let eq = rest.find('=').ok_or("a label without =")?;
            let label = &rest[..eq];
            label_name(label)?;
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("a label value without quotes")?;
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next().ok_or("an unclosed label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        _ => return Err("bad escape in a label value".into()),
                    },
                    (_, c) => value.push(c),
                }
            };
            if labels.iter().any(|(l, _): &(String, String)| l == label) {
                return Err(format!("label {label} twice"));
            }
            labels.push((label.to_owned(), value));
            rest = &rest[end + 1..];
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else {
                rest = rest.strip_prefix('}').ok_or("labels not closed")?;
                break;
            }
        }
        if labels.is_empty() {
            return Err("empty braces".into());
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    if value.contains(' ') {
        return Err("more than a value".into());
    }
    Ok((name.to_owned(), labels, value.to_owned()))
}

/// A float as every Prometheus reader takes it: `NaN`, `+Inf`, `-Inf`, or a decimal that is
/// not too large for a double.
fn float(text: &str) -> Result<(), String> {
    if matches!(text, "NaN" | "+Inf" | "-Inf") {
        return Ok(());
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let decimal = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b"eE.+-".contains(&b))
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    match text.parse::<f64>() {
        Ok(number) if decimal && number.is_finite() => Ok(()),
        _ => Err(format!("not a Prometheus float: {text:?}")),
    }
}
