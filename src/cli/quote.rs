//! Showing values from users and servers inside one-line messages.

/// How many characters of a value a message shows, escapes counted as they are shown.
const SHOWN_CHARS: usize = 60;

/// `value` in double quotes, with control characters escaped (so a newline cannot break a
/// one-line message) and cut to a readable length.
pub fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    let mut shown = 0;
    for c in value.chars() {
        let escaped = c.escape_debug();
        shown += escaped.len();
        if shown > SHOWN_CHARS {
            out.push_str("\"… (");
            out.push_str(&value.chars().count().to_string());
            out.push_str(" characters)");
            return out;
        }
        out.extend(escaped);
    }
    out.push('"');
    out
}

/// `value` as it is when it is one plain word (no spaces, quotes or control characters, not
/// too long); otherwise quoted as by `quote`.
pub fn word(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().count() <= SHOWN_CHARS
        && !value
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
    if plain {
        value.to_owned()
    } else {
        quote(value)
    }
}

#[cfg(test)]
mod tests {
    use super::{quote, word};

    #[test]
    fn plain_words_stay_as_they_are() {
        assert_eq!(word("/usr/bin/java"), "/usr/bin/java");
        assert_eq!(word("read-only"), "read-only");
        assert_eq!(word("a\nb"), r#""a\nb""#);
        assert_eq!(word("\u{1b}[31m"), r#""\u{1b}[31m""#);
        assert_eq!(word(""), r#""""#);
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(quote("a\nb\tc\"d"), r#""a\nb\tc\"d""#);
    }

    #[test]
    fn escapes_count_toward_the_length() {
        let shown = quote(&"\u{15}".repeat(200));
        assert!(shown.len() < 100, "{shown}");
        assert!(shown.ends_with("(200 characters)"), "{shown}");
    }

    #[test]
    fn cuts_long_values() {
        let long = "x".repeat(1000);
        let shown = quote(&long);
        assert!(shown.starts_with(&format!("\"{}\"…", "x".repeat(60))));
        assert!(shown.ends_with("(1000 characters)"));
    }
}
