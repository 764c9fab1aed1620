//! Text as Python sees it: the same decoding, whitespace and JSON escaping, so that the
//! documents are byte for byte those of the Python parser (`vac.parse.winccoa`) + orjson.

use std::fmt::Write;

/// `raw.decode("utf-8", "backslashreplace")`: bytes that are not UTF-8 are kept as `\xNN`.
pub fn decode(raw: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(raw) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(raw.len() + 16);
    let mut rest = raw;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                return out;
            }
            Err(error) => {
                let valid = error.valid_up_to();
                // SAFETY: from_utf8 just checked these bytes.
                out.push_str(unsafe { std::str::from_utf8_unchecked(&rest[..valid]) });
                let bad = error.error_len().unwrap_or(rest.len() - valid);
                for byte in &rest[valid..valid + bad] {
                    let _ = write!(out, "\\x{byte:02x}");
                }
                rest = &rest[valid + bad..];
            }
        }
    }
}

/// `str.isspace()`: Rust's whitespace plus the four ASCII separators U+001C..U+001F.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// ASCII `\s` of a Python regular expression compiled with `re.ASCII` (or over bytes).
pub fn is_ascii_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// ASCII `\w`.
pub fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Bytes a JSON string must escape: control characters, `"` and `\`.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A JSON string as orjson writes it: `"` and `\` escaped, control characters as `\b \t \n
/// \f \r` or `\u00xx`, everything else (DEL and non-ASCII included) as it is.
pub fn push_json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut clean_from = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[byte as usize] {
            continue;
        }
        out.extend_from_slice(&bytes[clean_from..index]);
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ]),
        }
        clean_from = index + 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_become_escapes() {
        assert_eq!(decode(b"a\xffb\xe2\x82"), "a\\xffb\\xe2\\x82");
        assert_eq!(decode("é".as_bytes()), "é");
    }

    #[test]
    fn json_escapes_like_orjson() {
        let mut out = Vec::new();
        push_json_str(&mut out, "\u{0}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}\"\\/é");
        assert_eq!(out, b"\"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\x7f\\\"\\\\/\xc3\xa9\"");
    }
}
