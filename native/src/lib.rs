//! `vac_native`: the WinCC OA log parser of `vac ship logs` in compiled code.
//!
//! It does what `vac.parse.winccoa.WinccoaParser`, `vac.records.logrecord.to_document` and
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
use text::{decode, push_json_str};

/// `vac.logs.reading.MAX_LINE_PIECE`: a longer line is passed on in pieces of this size,
/// joined back with nothing between them.
const MAX_LINE_PIECE: usize = 32 * 1024;

struct Record {
    /// The whole record, its lines joined by newlines; the header spans point into its start.
    message: String,
    offset: u64,
    end: u64,
    header: Option<(Header, String)>,
    tags: Vec<&'static str>,
    lines: u64,
}

impl Record {
    fn new(message: String, offset: u64, header: Option<(Header, String)>, tag: Option<&'static str>) -> Self {
        Record {
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
    /// The cap on a record's bytes in the file (`MultilineParser._full`).
    max_bytes: u64,
    fields_json: Vec<u8>,
    host_json: Vec<u8>,
    file_json: Vec<u8>,
    /// `"<key>-` as JSON: the document id is the file key and the record's offset.
    id_prefix: Vec<u8>,
    seconds: HashMap<String, Option<String>>,
    /// The last second looked up, and its answer: most records share their second.
    last_second: (String, Option<String>),
    current: Option<Record>,
    /// The last piece fed was cut from a longer line: the next one continues that line.
    mid_line: bool,
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
        max_bytes: u64,
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
            max_bytes,
            fields_json: fields_json.to_vec(),
            host_json: host_json.to_vec(),
            file_json: file_json.to_vec(),
            id_prefix,
            seconds: HashMap::new(),
            last_second: (String::new(), None),
            current: None,
            mid_line: false,
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
        let mut joined = self.mid_line;
        let at = |index: usize| base + index as u64;
        while let Some(found) = memchr::memchr(b'\n', &buffer[start..]) {
            let newline = start + found;
            while newline - start > MAX_LINE_PIECE {
                let end = start + MAX_LINE_PIECE;
                lines += self.line(py, &out, at(start), &buffer[start..end], at(end), joined, ingested)?;
                lines += usize::from(!joined);
                joined = true;
                start = end;
            }
            lines += self.line(
                py,
                &out,
                at(start),
                &buffer[start..newline],
                at(newline + 1),
                joined,
                ingested,
            )?;
            lines += usize::from(!joined);
            joined = false;
            start = newline + 1;
        }
        while buffer.len() - start > MAX_LINE_PIECE {
            let end = start + MAX_LINE_PIECE;
            lines += self.line(py, &out, at(start), &buffer[start..end], at(end), joined, ingested)?;
            lines += usize::from(!joined);
            joined = true;
            start = end;
        }
        if last && start < buffer.len() {
            lines += self.line(
                py,
                &out,
                at(start),
                &buffer[start..],
                at(buffer.len()),
                joined,
                ingested,
            )?;
            lines += usize::from(!joined);
            joined = false;
            start = buffer.len();
        }
        self.mid_line = joined;
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
    /// One physical line without its newline (or the next piece of a long one, `joined`),
    /// split where a clobbering record starts or at a bare CR (`WinccoaParser.pieces` and
    /// `MultilineParser.feed`); how many bare CRs it held (each counts as a line end).
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        py: Python<'_>,
        out: &Out<'_>,
        offset: u64,
        raw: &[u8],
        end: u64,
        joined: bool,
        ingested: &str,
    ) -> PyResult<usize> {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        // The common case: one record's worth of line, no CR, no second header in it.
        if memchr::memchr(b'\r', line).is_none() && grammar::Clobbers::new(line).next().is_none() {
            self.take(py, out, offset, decode(line), end, false, joined, ingested)?;
            return Ok(0);
        }
        let bare_crs = memchr::memchr_iter(b'\r', line).count();
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
            self.take(py, out, offset, decode(line), end, false, joined, ingested)?;
            return Ok(bare_crs);
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
                joined && index == 0,
                ingested,
            )?;
        }
        Ok(bare_crs)
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
        joined: bool,
        ingested: &str,
    ) -> PyResult<()> {
        // The rest of a long line starts no record (it is the middle of one).
        let header = if joined { None } else { self.header(py, &piece)? };
        let mut record = if header.is_some() {
            Record::new(piece, offset, header, clobbered.then_some("clobbered"))
        } else {
            match self.current.as_mut() {
                None => Record::new(
                    piece,
                    offset,
                    None,
                    Some(if joined { "continued" } else { "parse_failure" }),
                ),
                Some(current) => {
                    if (!joined && current.lines >= self.max_lines) || end - current.offset > self.max_bytes {
                        current.tags.push("truncated");
                        Record::new(piece, offset, None, Some("continued"))
                    } else if joined {
                        current.message.push_str(&piece);
                        current.end = end;
                        return Ok(());
                    } else {
                        if !current.tags.contains(&"fragment") && !grammar::is_expected_continuation(&piece) {
                            current.tags.push("fragment");
                        }
                        current.message.push('\n');
                        current.message.push_str(&piece);
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
