//! The WinCC OA grammar of `vac.parse.winccoa`, matched by hand. Each regular expression
//! there has exactly one way to match (no class can swallow the delimiter after it), so a
//! greedy scan gives the same answer as Python's backtracking engine.

use crate::text::{is_ascii_space, is_py_space, is_word};

pub type Span = (usize, usize);

/// The fields of a record's first line, as spans of that line.
pub struct Header {
    pub manager: Span,
    pub manager_id: Span,
    /// `YYYY.MM.DD HH:MM:SS`, local time.
    pub second: Span,
    pub millis: Span,
    pub category: Span,
    pub severity: Span,
    pub code: i64,
    pub catalog: Option<Span>,
    pub text: Span,
    pub params: Vec<Span>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        if self.bytes[self.at..].starts_with(expected) {
            self.at += expected.len();
            Some(())
        } else {
            None
        }
    }

    /// As many bytes of the class as there are; None if fewer than `min`.
    fn run(&mut self, min: usize, class: impl Fn(u8) -> bool) -> Option<Span> {
        let start = self.at;
        while self.peek().is_some_and(&class) {
            self.at += 1;
        }
        (self.at - start >= min).then_some((start, self.at))
    }

    fn digits(&mut self, count: usize) -> Option<()> {
        let end = self.at + count;
        if end <= self.bytes.len() && self.bytes[self.at..end].iter().all(u8::is_ascii_digit) {
            self.at = end;
            Some(())
        } else {
            None
        }
    }

    /// `\d{4}\.\d\d\.\d\d \d\d:\d\d:\d\d` then `\.\d{3}`.
    fn time(&mut self) -> Option<(Span, Span)> {
        let start = self.at;
        self.digits(4)?;
        for separator in [b".", b".", b" ", b":", b":"] {
            self.literal(separator)?;
            self.digits(2)?;
        }
        let second = (start, self.at);
        self.literal(b".")?;
        let millis_start = self.at;
        self.digits(3)?;
        Some((second, (millis_start, self.at)))
    }
}

fn is_upper_or_underscore(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte == b'_'
}

fn is_name(byte: u8) -> bool {
    is_word(byte) || byte == b'.' || byte == b'-'
}

/// `_HEADER.match(line)`, with `text, *params = split_params(rest.rstrip())`.
pub fn header(line: &str) -> Option<Header> {
    let mut cursor = Cursor {
        bytes: line.as_bytes(),
        at: 0,
    };
    if !cursor.peek()?.is_ascii_alphabetic() {
        return None;
    }
    cursor.at = 1;
    let manager = (0, cursor.run(0, is_name)?.1);
    cursor.run(0, is_ascii_space);
    cursor.literal(b"(")?;
    let manager_id = cursor.run(1, |b| b.is_ascii_digit())?;
    cursor.literal(b"), ")?;
    let (second, millis) = cursor.time()?;
    cursor.literal(b", ")?;
    let category = cursor.run(1, is_upper_or_underscore)?;
    cursor.literal(b",")?;
    cursor.run(0, is_ascii_space);
    let severity = cursor.run(1, is_upper_or_underscore)?;
    cursor.literal(b",")?;
    cursor.run(0, is_ascii_space);
    let code_span = cursor.run(1, |b| b.is_ascii_digit())?;
    if code_span.1 - code_span.0 > 18 {
        return None; // `\d{1,18}`: a code always fits a JSON integer
    }
    let code = line[code_span.0..code_span.1].parse().ok()?;
    let mut catalog = None;
    if cursor.peek() == Some(b'/') {
        cursor.at += 1;
        catalog = Some(cursor.run(1, is_name)?);
    }
    cursor.literal(b",")?;
    if cursor.peek().is_some_and(is_ascii_space) {
        cursor.at += 1;
    }
    let rest_start = cursor.at;
    let rest_end = rest_start + line[rest_start..].trim_end_matches(is_py_space).len();
    let mut parts = split_params(line, (rest_start, rest_end)).into_iter();
    let text = parts.next().unwrap_or((rest_start, rest_start));
    Some(Header {
        manager,
        manager_id,
        second,
        millis,
        category,
        severity,
        code,
        catalog,
        text,
        params: parts.collect(),
    })
}

/// `split_params`: split on `, ` outside parentheses (a `)` with none open is ignored).
fn split_params(line: &str, (start, end): Span) -> Vec<Span> {
    let rest = &line[start..end];
    let mut pieces = Vec::new();
    let mut at = start;
    for piece in rest.split(", ") {
        pieces.push((at, at + piece.len()));
        at += piece.len() + 2;
    }
    if !rest.contains('(') {
        return pieces;
    }
    let mut parts = Vec::with_capacity(pieces.len());
    let mut pending: Option<usize> = None;
    let mut depth = 0usize;
    for (piece_start, piece_end) in pieces {
        let from = *pending.get_or_insert(piece_start);
        for byte in line[piece_start..piece_end].bytes() {
            if byte == b'(' {
                depth += 1;
            } else if byte == b')' && depth > 0 {
                depth -= 1;
            }
        }
        if depth == 0 {
            parts.push((from, piece_end));
            pending = None;
        }
    }
    if let Some(from) = pending {
        parts.push((from, end));
    }
    parts
}

/// Where `_CLOBBER` matches at `at`: `(?:WCC|PVSS)[A-Za-z]\w*\s*\(\d+\), <time>, [A-Z_]+,`.
fn clobber_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut cursor = Cursor { bytes, at };
    if cursor.literal(b"WCC").is_none() {
        cursor.literal(b"PVSS")?;
    }
    if !cursor.peek()?.is_ascii_alphabetic() {
        return None;
    }
    cursor.at += 1;
    cursor.run(0, is_word);
    cursor.run(0, is_ascii_space);
    cursor.literal(b"(")?;
    cursor.run(1, |b| b.is_ascii_digit())?;
    cursor.literal(b"), ")?;
    cursor.time()?;
    cursor.literal(b", ")?;
    cursor.run(1, is_upper_or_underscore)?;
    cursor.literal(b",")?;
    Some(cursor.at)
}

/// The starts (> 0) of the records clobbering a chunk of a line, as `re.finditer` finds
/// them: left to right, each search resuming after the previous match.
pub struct Clobbers<'a> {
    chunk: &'a [u8],
    at: usize,
}

impl<'a> Clobbers<'a> {
    pub fn new(chunk: &'a [u8]) -> Self {
        Clobbers { chunk, at: 0 }
    }
}

impl Iterator for Clobbers<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.at < self.chunk.len() {
            let start = self.at + memchr::memchr2(b'W', b'P', &self.chunk[self.at..])?;
            match clobber_end(self.chunk, start) {
                Some(end) => {
                    self.at = end;
                    if start > 0 {
                        return Some(start);
                    }
                }
                None => self.at = start + 1,
            }
        }
        None
    }
}

/// `_CONTINUATION`: `^(?:\s|$|[A-Za-z][\w -]*:\s)`, the lines that normally continue a record.
pub fn is_expected_continuation(line: &str) -> bool {
    let bytes = line.as_bytes();
    let Some(&first) = bytes.first() else {
        return true;
    };
    if is_ascii_space(first) {
        return true;
    }
    if !first.is_ascii_alphabetic() {
        return false;
    }
    let mut at = 1;
    while at < bytes.len() && (is_word(bytes[at]) || bytes[at] == b' ' || bytes[at] == b'-') {
        at += 1;
    }
    bytes.get(at) == Some(&b':') && bytes.get(at + 1).is_some_and(|&b| is_ascii_space(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_and_its_fields() {
        let line = "WCCOActrl    (2), 2019.08.03 14:53:25.608, CTRL, WARNING,    76/ctrl, Invalid argument in function, dpGet(a, b), x  ";
        let header = header(line).expect("a header");
        let at = |span: Span| &line[span.0..span.1];
        assert_eq!(at(header.manager), "WCCOActrl");
        assert_eq!(at(header.manager_id), "2");
        assert_eq!(at(header.second), "2019.08.03 14:53:25");
        assert_eq!(header.code, 76);
        assert_eq!(at(header.catalog.unwrap()), "ctrl");
        assert_eq!(at(header.text), "Invalid argument in function");
        let params: Vec<&str> = header.params.iter().map(|&span| at(span)).collect();
        assert_eq!(params, ["dpGet(a, b)", "x"]);
    }

    #[test]
    fn clobbers_are_found_after_the_start() {
        let line = b"WCCILsim (1), 2019.08.03 14:53:25.608, SYS, INFO, 1, a secsWCCOActrl(3), 2019.08.03 14:53:25.609, CTRL, INFO,";
        assert_eq!(Clobbers::new(line).collect::<Vec<_>>(), vec![59]);
    }
}
