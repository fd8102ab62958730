//! The small part of strace's output syntax we need: quoted C strings with
//! strace's escapes, arrays `[..]`, structs `{..}`, comments `/* .. */`, and
//! splitting argument lists at top-level commas.
//!
//! strace prints a string with `\"`, `\\`, `\n`, `\t`, `\r`, `\f`, `\v`, octal
//! (`\33`, `\377`: up to three digits, padded when a digit follows) and, with
//! `-x`/`-xx`, hex (`\x1b`). A string cut by `-s` is followed by `...`.

/// Finds the byte index just past the bracket that closes the one opened
/// before `start` (`open_depth` = 1), skipping strings and comments. `None`
/// when the text ends first.
pub(crate) fn find_close(s: &[u8], start: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = start;
    while i < s.len() {
        match s[i] {
            b'"' => i = skip_string(s, i)?,
            b'/' if s.get(i + 1) == Some(&b'*') => i = skip_comment(s, i)?,
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Index just past the closing quote of the string starting at `s[i] == '"'`.
fn skip_string(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Index just past `*/` of the comment starting at `s[i..i+2] == "/*"`.
fn skip_comment(s: &[u8], i: usize) -> Option<usize> {
    let rest = &s[i + 2..];
    rest.windows(2).position(|w| w == b"*/").map(|p| i + 2 + p + 2)
}

/// Splits at commas outside strings, comments and brackets; trims each part.
/// An empty input gives no parts. `None` if a string, comment or bracket is
/// left open.
pub(crate) fn split_top(s: &str) -> Option<Vec<&str>> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(b, i)?,
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_comment(b, i)?,
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            b',' if depth == 0 => {
                parts.push(s[start..i].trim());
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if depth != 0 {
        return None;
    }
    let last = s[start..].trim();
    if !(last.is_empty() && parts.is_empty()) {
        parts.push(last);
    }
    Some(parts)
}

/// A decoded C string: its bytes and whether strace cut it (`"..."...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CString {
    pub bytes: Vec<u8>,
    pub truncated: bool,
}

/// Decodes one quoted string token like `"a\n\33[2J"...`. `None` if the token
/// is not a well-formed string.
pub(crate) fn parse_cstring(tok: &str) -> Option<CString> {
    let b = tok.trim().as_bytes();
    if b.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 1;
    loop {
        let c = *b.get(i)?;
        match c {
            b'"' => {
                i += 1;
                break;
            }
            b'\\' => {
                let e = *b.get(i + 1)?;
                i += 2;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'f' => out.push(0x0c),
                    b'v' => out.push(0x0b),
                    b'a' => out.push(0x07),
                    b'b' => out.push(0x08),
                    b'e' => out.push(0x1b),
                    b'"' | b'\\' | b'\'' | b'?' => out.push(e),
                    b'x' => {
                        let mut v: u32 = 0;
                        let mut n = 0;
                        while n < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                            v = v * 16 + (b[i] as char).to_digit(16)?;
                            i += 1;
                            n += 1;
                        }
                        if n == 0 {
                            return None;
                        }
                        out.push(v as u8);
                    }
                    b'0'..=b'7' => {
                        let mut v: u32 = u32::from(e - b'0');
                        let mut n = 1;
                        while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                            v = v * 8 + u32::from(b[i] - b'0');
                            i += 1;
                            n += 1;
                        }
                        if v > 0xff {
                            return None;
                        }
                        out.push(v as u8);
                    }
                    _ => return None,
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    let rest = std::str::from_utf8(&b[i..]).ok()?.trim();
    match rest {
        "" => Some(CString { bytes: out, truncated: false }),
        "..." => Some(CString { bytes: out, truncated: true }),
        _ => None,
    }
}

/// If `tok` is `[ ... ]` (optionally followed by a comment), the inner text.
pub(crate) fn array_inner(tok: &str) -> Option<&str> {
    bracket_inner(tok, b'[', b']')
}

/// If `tok` is `{ ... }`, the inner text.
pub(crate) fn struct_inner(tok: &str) -> Option<&str> {
    bracket_inner(tok, b'{', b'}')
}

fn bracket_inner(tok: &str, open: u8, close: u8) -> Option<&str> {
    let t = tok.trim();
    let b = t.as_bytes();
    if b.first() != Some(&open) {
        return None;
    }
    let end = find_close(b, 1)?;
    if b[end - 1] != close {
        return None;
    }
    let rest = t[end..].trim();
    if !(rest.is_empty() || is_comment(rest)) {
        return None;
    }
    Some(&t[1..end - 1])
}

/// Whether the whole token is one `/* ... */` comment.
pub(crate) fn is_comment(tok: &str) -> bool {
    let t = tok.trim();
    t.starts_with("/*") && t.ends_with("*/") && t.len() >= 4
}

/// The text inside the first `/* ... */` of a token, trimmed.
pub(crate) fn comment_text(tok: &str) -> Option<&str> {
    let start = tok.find("/*")?;
    let end = tok[start + 2..].find("*/")? + start + 2;
    Some(tok[start + 2..end].trim())
}

/// Splits `key=value` (struct members, clone's named arguments).
pub(crate) fn key_value(tok: &str) -> Option<(&str, &str)> {
    let (k, v) = tok.split_once('=')?;
    let k = k.trim();
    if k.is_empty() || !k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return None;
    }
    Some((k, v.trim()))
}

/// Parses an integer as strace prints it: decimal, `0x` hex, leading-zero
/// octal, optional minus sign; a trailing comment is ignored.
pub(crate) fn parse_int(tok: &str) -> Option<i128> {
    let mut t = tok.trim();
    if let Some(p) = t.find("/*") {
        t = t[..p].trim();
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i128::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse::<i128>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// A pointer or NULL: `NULL` -> 0, `0x...` -> value.
pub(crate) fn parse_ptr(tok: &str) -> Option<u64> {
    let t = tok.trim();
    if t == "NULL" {
        return Some(0);
    }
    parse_int(t).and_then(|v| u64::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_decode_every_strace_escape() {
        let s = parse_cstring(r#""a\nb\tc\"d\\e\33[2J\377\x41\0011\v\f\r""#).unwrap();
        assert_eq!(s.bytes, b"a\nb\tc\"d\\e\x1b[2J\xffA\x011\x0b\x0c\r");
        assert!(!s.truncated);
        let t = parse_cstring(r#""trace=clone,clone3,fork,vfork,ex"..."#).unwrap();
        assert!(t.truncated);
        assert_eq!(t.bytes, b"trace=clone,clone3,fork,vfork,ex");
    }

    #[test]
    fn malformed_strings_are_rejected() {
        assert_eq!(parse_cstring(r#""abc"#), None);
        assert_eq!(parse_cstring(r#""a\q""#), None);
        assert_eq!(parse_cstring(r#""a" junk"#), None);
        assert_eq!(parse_cstring("abc"), None);
        assert_eq!(parse_cstring(r#""\777""#), None);
    }

    #[test]
    fn split_respects_strings_brackets_and_comments() {
        let parts = split_top(r#""/bin/a,b", ["x, y", "z"], 0x7ff /* 2, vars */, {a=1, b=[2, 3]}"#).unwrap();
        assert_eq!(parts, vec![r#""/bin/a,b""#, r#"["x, y", "z"]"#, "0x7ff /* 2, vars */", "{a=1, b=[2, 3]}"]);
        assert_eq!(split_top("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_top("[1, 2"), None);
        assert_eq!(split_top(r#""open"#), None);
    }

    #[test]
    fn arrays_structs_ints() {
        assert_eq!(array_inner(r#"["a", "b"]"#), Some(r#""a", "b""#));
        assert_eq!(array_inner("[/* 20 vars */]"), Some("/* 20 vars */"));
        assert_eq!(array_inner("[1] x"), None);
        assert_eq!(struct_inner("{flags=CLONE_VM, stack=0x10}"), Some("flags=CLONE_VM, stack=0x10"));
        assert_eq!(comment_text("0x7ffd /* 184 vars */"), Some("184 vars"));
        assert_eq!(parse_int("0x9000"), Some(0x9000));
        assert_eq!(parse_int("-100"), Some(-100));
        assert_eq!(parse_int("0755"), Some(0o755));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("12 /* note */"), Some(12));
        assert_eq!(parse_int("x12"), None);
        assert_eq!(parse_ptr("NULL"), Some(0));
        assert_eq!(key_value("child_stack=NULL"), Some(("child_stack", "NULL")));
        assert_eq!(key_value("\"a=b\""), None);
    }
}
