//! CSV answers (`Accept: text/csv`): what a spreadsheet program opens correctly and safely.
//!
//! - **UTF-8 with a byte-order mark** (`EF BB BF`), so Excel and WPS read the Chinese as
//!   UTF-8 instead of the local code page.
//! - **Formula cells neutralised** (OWASP, "CSV Injection"): a cell that begins with `=`, `+`,
//!   `-`, `@`, a tab or a carriage return is prefixed with a single quote `'`, so a name such as
//!   `=HYPERLINK(…)` from a report or an import shows as text and never runs. Every cell is
//!   treated so, not only free text: the rule does not depend on knowing which cells are safe.
//! - Quoting (commas, quotes, line breaks) is the `csv` crate's.

use actix_web::http::header::{self, Accept, Header};
use actix_web::{HttpRequest, HttpResponse};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The characters that make a spreadsheet read a cell as a formula (OWASP).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, with a single quote before it when it begins with a formula character.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A CSV document being written: a header, then rows, each cell neutralised.
pub struct CsvTable {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvTable {
    /// A table with the header `columns`.
    pub fn new(columns: &[&str]) -> CsvTable {
        let mut table = CsvTable {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(BOM.to_vec()),
        };
        table.row(columns.iter().map(|c| c.to_string()));
        table
    }

    /// Adds one row; each cell is neutralised (see the module doc).
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        // Writing to a Vec cannot fail.
        self.writer
            .write_record(&cells)
            .expect("CSV rows are written to memory");
    }

    /// The document's bytes: the BOM, the header and the rows.
    pub fn into_bytes(self) -> Vec<u8> {
        self.writer
            .into_inner()
            .expect("CSV rows are written to memory")
    }
}

/// Whether the request asks for CSV: its `Accept` header ranks `text/csv` above
/// `application/json` (and any wildcard). Without an `Accept` header the answer is JSON.
pub fn wants_csv(req: &HttpRequest) -> bool {
    let Ok(accept) = Accept::parse(req) else {
        return false;
    };
    accept
        .ranked()
        .into_iter()
        .find(|m| {
            m.essence_str() == "text/csv"
                || m.essence_str() == "application/json"
                || m.type_() == actix_web::mime::STAR
        })
        .is_some_and(|m| m.essence_str() == "text/csv")
}

/// A 200 answer with `bytes` as `text/csv; charset=utf-8`, offered for download as
/// `filename`.
pub fn response(filename: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_get_a_quote_and_others_stay() {
        for bad in ["=1+2", "+86", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for good in ["张三", "360734100201", "", "a=b", " =x", "'quoted"] {
            assert_eq!(neutralise(good), good);
        }
    }

    #[test]
    fn the_bytes_begin_with_the_bom_and_quote_what_needs_it() {
        let mut t = CsvTable::new(&["name", "note"]);
        t.row(["王某", "=HYPERLINK(\"http://x\",\"点\")"]);
        t.row(["李,某", "line\nbreak"]);
        let bytes = t.into_bytes();
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert_eq!(
            text,
            "name,note\r\n王某,\"'=HYPERLINK(\"\"http://x\"\",\"\"点\"\")\"\r\n\"李,某\",\"line\nbreak\"\r\n"
        );
    }
}
