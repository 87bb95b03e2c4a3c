//! Showing values from users and servers inside one-line messages.

/// How many characters of a value a message shows.
const SHOWN_CHARS: usize = 60;

/// `value` in double quotes, with control characters escaped (so a newline cannot break a
/// one-line message) and cut to a readable length.
pub fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in value.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push_str("\"… (");
            out.push_str(&value.chars().count().to_string());
            out.push_str(" characters)");
            return out;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn escapes_control_characters() {
        assert_eq!(quote("a\nb\tc\"d"), r#""a\nb\tc\"d""#);
    }

    #[test]
    fn cuts_long_values() {
        let long = "x".repeat(1000);
        let shown = quote(&long);
        assert!(shown.starts_with(&format!("\"{}\"…", "x".repeat(60))));
        assert!(shown.ends_with("(1000 characters)"));
    }
}
