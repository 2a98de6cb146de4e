//! Python's `json.dumps` of strings and lists of strings (default separators,
//! `ensure_ascii`).

/// Python `json.dumps(str)` with `ensure_ascii=True`.
pub(crate) fn py_json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Python `json.dumps(list_of_str)`: `["a", "b"]`, `[]` when empty, ensure_ascii.
pub fn py_json_str_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| py_json_str(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_lists_as_json_dumps_writes_them() {
        assert_eq!(py_json_str_list(&["a", "é"]), r#"["a", "\u00e9"]"#);
        assert_eq!(py_json_str_list::<&str>(&[]), "[]");
        assert_eq!(
            py_json_str_list(&["😀\"\n\u{1}"]),
            r#"["\ud83d\ude00\"\n\u0001"]"#
        );
        assert_eq!(
            py_json_str_list(&["*", "admin.users"]),
            r#"["*", "admin.users"]"#
        );
    }
}
