//! `vac_native`: the WinCC OA log parser of `vac ship logs` in compiled code.
//!
//! It does what `vac.parse.winccoa.WinccoaParser`, `vac.logs.documents.to_document` and
//! `orjson.dumps` do together, from the bytes read from a file to the JSON of each finished
//! record, and gives byte for byte the same documents (a test compares them). The Python
//! parser stays the reference and the fallback; this one exists because, in Python, parsing
//! alone costs more per line than the 150,000 lines/s target allows.

use std::collections::HashMap;
use std::io::Write;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

mod grammar;
mod text;

use grammar::Header;
use text::{char_count, decode, push_json_str};

/// `vac.logs.reading.MAX_LINE_PIECE`: a longer line is passed on in pieces of this size.
const MAX_LINE_PIECE: usize = 32 * 1024;

struct Record {
    /// The whole record, its lines joined by newlines; the header spans point into its start.
    message: String,
    /// Its length as Python counts it (characters), for the size cap; counted when a line
    /// is to be added (most records have one line).
    chars: Option<usize>,
    offset: u64,
    end: u64,
    header: Option<(Header, String)>,
    tags: Vec<&'static str>,
    lines: u64,
}

impl Record {
    fn new(message: String, offset: u64, header: Option<(Header, String)>, tag: Option<&'static str>) -> Self {
        Record {
            chars: None,
            message,
            offset,
            end: offset,
            header,
            tags: tag.into_iter().collect(),
            lines: 1,
        }
    }
}

/// One file's records: raw bytes in, finished documents out, the record in progress kept
/// between calls (a record is finished when the next one starts, or on `flush`).
#[pyclass(module = "vac_native")]
pub struct WinccoaDocuments {
    /// `"YYYY.MM.DD HH:MM:SS"` (local) -> `"YYYY-MM-DDTHH:MM:SS."` (UTC), or None if no such
    /// time: Python's zoneinfo decides, once per second of log time.
    utc_second: Py<PyAny>,
    max_lines: u64,
    max_chars: usize,
    fields_json: Vec<u8>,
    host_json: Vec<u8>,
    file_json: Vec<u8>,
    /// `"<key>-` as JSON: the document id is the file key and the record's offset.
    id_prefix: Vec<u8>,
    seconds: HashMap<String, Option<String>>,
    /// The last second looked up, and its answer: most records share their second.
    last_second: (String, Option<String>),
    current: Option<Record>,
    json: Vec<u8>,
}

type Out<'py> = Bound<'py, PyList>;

#[pymethods]
impl WinccoaDocuments {
    #[new]
    #[pyo3(signature = (utc_second, max_lines, max_bytes, fields_json, host_json, file_json, key))]
    fn new(
        utc_second: Py<PyAny>,
        max_lines: u64,
        max_bytes: usize,
        fields_json: &[u8],
        host_json: &[u8],
        file_json: &[u8],
        key: &str,
    ) -> Self {
        let mut id_prefix = Vec::new();
        push_json_str(&mut id_prefix, &format!("{key}-"));
        id_prefix.pop(); // the offset goes before the closing quote
        WinccoaDocuments {
            utc_second,
            max_lines,
            max_chars: max_bytes,
            fields_json: fields_json.to_vec(),
            host_json: host_json.to_vec(),
            file_json: file_json.to_vec(),
            id_prefix,
            seconds: HashMap::new(),
            last_second: (String::new(), None),
            current: None,
            json: Vec::with_capacity(4096),
        }
    }

    /// The complete lines of `buffer` (which starts at byte `base` of the file); with `last`,
    /// also a final line without its newline. Returns the finished documents as
    /// `(end, offset, timestamp, tags or None, json)`, how many lines were read, and how many
    /// bytes of `buffer` were used (the rest is a partial line, to be given again).
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        buffer: &[u8],
        base: u64,
        last: bool,
        ingested: &str,
    ) -> PyResult<(Out<'py>, usize, usize)> {
        let out = PyList::empty(py);
        let mut lines = 0;
        let mut start = 0;
        let at = |index: usize| base + index as u64;
        while let Some(found) = memchr::memchr(b'\n', &buffer[start..]) {
            let newline = start + found;
            while newline - start > MAX_LINE_PIECE {
                let end = start + MAX_LINE_PIECE;
                self.line(py, &out, at(start), &buffer[start..end], at(end), ingested)?;
                lines += 1;
                start = end;
            }
            self.line(py, &out, at(start), &buffer[start..newline], at(newline + 1), ingested)?;
            lines += 1;
            start = newline + 1;
        }
        while buffer.len() - start > MAX_LINE_PIECE {
            let end = start + MAX_LINE_PIECE;
            self.line(py, &out, at(start), &buffer[start..end], at(end), ingested)?;
            lines += 1;
            start = end;
        }
        if last && start < buffer.len() {
            self.line(py, &out, at(start), &buffer[start..], at(buffer.len()), ingested)?;
            lines += 1;
            start = buffer.len();
        }
        Ok((out, lines, start))
    }

    /// The record in progress as a finished document (idle file, or end of input).
    fn flush<'py>(&mut self, py: Python<'py>, ingested: &str) -> PyResult<Out<'py>> {
        let out = PyList::empty(py);
        if let Some(record) = self.current.take() {
            self.emit(py, &out, record, ingested)?;
        }
        Ok(out)
    }

    /// Where the record in progress starts: reading resumes there after a restart.
    #[getter]
    fn pending_offset(&self) -> Option<u64> {
        self.current.as_ref().map(|record| record.offset)
    }
}

impl WinccoaDocuments {
    /// One physical line without its newline, split where a clobbering record starts or at a
    /// bare CR (`WinccoaParser.pieces` and `MultilineParser.feed`).
    fn line(
        &mut self,
        py: Python<'_>,
        out: &Out<'_>,
        offset: u64,
        raw: &[u8],
        end: u64,
        ingested: &str,
    ) -> PyResult<()> {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        // The common case: one record's worth of line, no CR, no second header in it.
        if memchr::memchr(b'\r', line).is_none() && grammar::Clobbers::new(line).next().is_none() {
            return self.take(py, out, offset, decode(line), end, false, ingested);
        }
        let mut pieces: Vec<(u64, &[u8])> = Vec::new();
        let mut chunk_start = 0;
        for chunk in line.split(|&byte| byte == b'\r') {
            let mut bounds = vec![0];
            bounds.extend(grammar::Clobbers::new(chunk));
            bounds.push(chunk.len());
            for pair in bounds.windows(2) {
                pieces.push((offset + (chunk_start + pair[0]) as u64, &chunk[pair[0]..pair[1]]));
            }
            chunk_start += chunk.len() + 1;
        }
        if pieces.len() == 1 {
            return self.take(py, out, offset, decode(line), end, false, ingested);
        }
        for index in 0..pieces.len() {
            let (piece_offset, piece) = pieces[index];
            let piece_end = pieces.get(index + 1).map_or(end, |next| next.0);
            self.take(
                py,
                out,
                piece_offset,
                decode(piece),
                piece_end,
                piece_offset != offset,
                ingested,
            )?;
        }
        Ok(())
    }

    /// One piece of a line, spanning [offset, end) (`MultilineParser._take`).
    #[allow(clippy::too_many_arguments)]
    fn take(
        &mut self,
        py: Python<'_>,
        out: &Out<'_>,
        offset: u64,
        piece: String,
        end: u64,
        clobbered: bool,
        ingested: &str,
    ) -> PyResult<()> {
        let header = self.header(py, &piece)?;
        let mut record = if header.is_some() {
            Record::new(piece, offset, header, clobbered.then_some("clobbered"))
        } else {
            match self.current.as_mut() {
                None => Record::new(piece, offset, None, Some("parse_failure")),
                Some(current) => {
                    let piece_chars = char_count(&piece);
                    let chars = *current.chars.get_or_insert_with(|| char_count(&current.message));
                    if current.lines >= self.max_lines || chars + piece_chars + 1 > self.max_chars {
                        current.tags.push("truncated");
                        Record::new(piece, offset, None, Some("continued"))
                    } else {
                        if !current.tags.contains(&"fragment") && !grammar::is_expected_continuation(&piece) {
                            current.tags.push("fragment");
                        }
                        current.message.push('\n');
                        current.message.push_str(&piece);
                        current.chars = Some(chars + piece_chars + 1);
                        current.lines += 1;
                        current.end = end;
                        return Ok(());
                    }
                }
            }
        };
        record.end = end;
        if let Some(done) = self.current.replace(record) {
            self.emit(py, out, done, ingested)?;
        }
        Ok(())
    }

    /// The header of a record's first line and its time in UTC (ISO 8601 text), if it is one.
    fn header(&mut self, py: Python<'_>, line: &str) -> PyResult<Option<(Header, String)>> {
        let Some(header) = grammar::header(line) else {
            return Ok(None);
        };
        let second = &line[header.second.0..header.second.1];
        if self.last_second.0 != second {
            let prefix = match self.seconds.get(second) {
                Some(prefix) => prefix.clone(),
                None => {
                    let prefix: Option<String> = self.utc_second.call1(py, (second,))?.extract(py)?;
                    if self.seconds.len() > 4096 {
                        self.seconds.clear();
                    }
                    self.seconds.insert(second.to_owned(), prefix.clone());
                    prefix
                }
            };
            self.last_second = (second.to_owned(), prefix);
        }
        let Some(prefix) = &self.last_second.1 else {
            return Ok(None);
        };
        let millis = &line[header.millis.0..header.millis.1];
        let mut timestamp = String::with_capacity(prefix.len() + millis.len() + 1);
        timestamp.push_str(prefix);
        timestamp.push_str(millis);
        timestamp.push('Z');
        Ok(Some((header, timestamp)))
    }

    /// A finished record as its document (`to_document` + `orjson.dumps`, same key order).
    fn emit(&mut self, py: Python<'_>, out: &Out<'_>, record: Record, ingested: &str) -> PyResult<()> {
        let json = &mut self.json;
        json.clear();
        let message = record.message.as_str();
        let timestamp = record
            .header
            .as_ref()
            .map_or(ingested, |(_, timestamp)| timestamp.as_str());
        json.extend_from_slice(b"{\"@timestamp\":");
        push_json_str(json, timestamp);
        json.extend_from_slice(b",\"message\":");
        push_json_str(json, message);
        json.extend_from_slice(b",\"fields\":");
        json.extend_from_slice(&self.fields_json);
        json.extend_from_slice(b",\"host\":");
        json.extend_from_slice(&self.host_json);
        json.extend_from_slice(b",\"log\":{\"file\":");
        json.extend_from_slice(&self.file_json);
        write!(json, ",\"offset\":{}}},\"event\":{{\"id\":", record.offset)?;
        json.extend_from_slice(&self.id_prefix);
        write!(json, "{}\",\"ingested\":", record.offset)?;
        push_json_str(json, ingested);
        json.push(b'}');
        if let Some((header, _)) = &record.header {
            let field = |json: &mut Vec<u8>, name: &[u8], (start, end): (usize, usize)| {
                json.extend_from_slice(name);
                push_json_str(json, &message[start..end]);
            };
            field(json, b",\"level\":", header.severity);
            field(json, b",\"type\":", header.category);
            write!(json, ",\"number\":{}", header.code)?;
            field(json, b",\"managerID\":", header.manager_id);
            field(json, b",\"manager\":", header.manager);
            if let Some(catalog) = header.catalog {
                field(json, b",\"catalog\":", catalog);
            }
            field(json, b",\"text\":", header.text);
            if !header.params.is_empty() {
                json.extend_from_slice(b",\"params\":[");
                for (index, &(start, end)) in header.params.iter().enumerate() {
                    if index > 0 {
                        json.push(b',');
                    }
                    push_json_str(json, &message[start..end]);
                }
                json.push(b']');
            }
        }
        let tags = if record.tags.is_empty() {
            None
        } else {
            json.extend_from_slice(b",\"tags\":[");
            for (index, tag) in record.tags.iter().enumerate() {
                if index > 0 {
                    json.push(b',');
                }
                push_json_str(json, tag);
            }
            json.push(b']');
            Some(PyList::new(py, &record.tags)?)
        };
        if record.lines > 1 {
            write!(json, ",\"lines\":{}", record.lines)?;
        }
        json.push(b'}');
        let document = (record.end, record.offset, timestamp, tags, PyBytes::new(py, json));
        out.append(document)
    }
}

#[pymodule]
fn vac_native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<WinccoaDocuments>()?;
    module.add("MAX_LINE_PIECE", MAX_LINE_PIECE)?;
    Ok(())
}
