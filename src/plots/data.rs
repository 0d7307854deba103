//! A `[[plots]]` file read at one revision: CSV, TSV or a JSON list of records (chosen by
//! extension) as a table of named columns, then the numeric points of a line or the
//! (actual, predicted) counts of a confusion matrix.

use crate::problem::{Hinted, Kind};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum PlotsError {
    #[error("plots file `{file}` ({at}) is not valid {format}: {reason}")]
    Invalid {
        file: String,
        at: String,
        format: &'static str,
        reason: String,
    },
    #[error(
        "plots file `{file}` ends in none of `.csv`, `.tsv` or `.json`, so its format is unknown"
    )]
    Format { file: String },
    #[error("plots file `{file}` does not exist in any revision plotted ({at})")]
    Missing { file: String, at: String },
    #[error("reading plots file `{file}`")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// A plots file git-mlv cannot draw is the request's fault; failing to read it is not.
impl Hinted for PlotsError {
    fn kind(&self) -> Kind {
        match self {
            PlotsError::Io { .. } => Kind::Failed,
            _ => Kind::Usage,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                PlotsError::Invalid { .. } => {
                    "fix the file or the stage that writes it; `docs/pipeline.md` describes `[[plots]]`"
                }
                PlotsError::Format { .. } => "name plots files `*.csv`, `*.tsv` or `*.json`",
                PlotsError::Missing { .. } => {
                    "run the stage that writes it, or fix `file` of its `[[plots]]` entry in `mlv.toml`"
                }
                PlotsError::Io { .. } => return None,
            }
            .into(),
        )
    }
}

/// Rows of cells under named columns.
pub struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Parses a plots file's bytes; `at` says where they came from, for errors.
pub fn parse(bytes: &[u8], file: &str, at: &str) -> Result<Table, PlotsError> {
    let text = String::from_utf8_lossy(bytes);
    let invalid = |format, reason: String| PlotsError::Invalid {
        file: file.to_string(),
        at: at.to_string(),
        format,
        reason,
    };
    match file.rsplit_once('.').map(|(_, e)| e) {
        Some("csv") => delimited(&text, ',').map_err(|r| invalid("CSV", r)),
        Some("tsv") => delimited(&text, '\t').map_err(|r| invalid("TSV", r)),
        Some("json") => records(&text).map_err(|r| invalid("JSON", r)),
        _ => Err(PlotsError::Format {
            file: file.to_string(),
        }),
    }
}

/// A header line, then one record a line; a cell in double quotes may hold the delimiter
/// and `""` for a quote.
fn delimited(text: &str, delim: char) -> Result<Table, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let columns = split(lines.next().ok_or("the file is empty")?, delim);
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let row = split(line, delim);
        if row.len() != columns.len() {
            return Err(format!(
                "row {} has {} cells, the header {}",
                i + 2,
                row.len(),
                columns.len()
            ));
        }
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

fn split(line: &str, delim: char) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delim && !quoted => cells.push(std::mem::take(&mut cell).trim().to_string()),
            c => cell.push(c),
        }
    }
    cells.push(cell.trim().to_string());
    cells
}

/// A JSON list of records (`[{"epoch": 1, "loss": 0.5}, …]`), or an object whose only
/// value is one (`{"train": [...]}`, as DVC writes them).
fn records(text: &str) -> Result<Table, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let list = match value {
        serde_json::Value::Array(list) => list,
        serde_json::Value::Object(map) if map.len() == 1 => match map.into_iter().next() {
            Some((_, serde_json::Value::Array(list))) => list,
            _ => return Err("its only key does not hold a list of records".into()),
        },
        _ => {
            return Err(
                "expected a list of records, e.g. `[{\"epoch\": 1, \"loss\": 0.5}]`".into(),
            );
        }
    };
    let mut columns: Vec<String> = Vec::new();
    let mut maps = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        let serde_json::Value::Object(map) = item else {
            return Err(format!("item {} is not a record (an object)", i + 1));
        };
        for k in map.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        maps.push(map);
    }
    let cell = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    };
    let rows = maps
        .iter()
        .map(|m| columns.iter().map(|c| cell(m.get(c))).collect())
        .collect();
    Ok(Table { columns, rows })
}

impl Table {
    fn column(&self, name: &str) -> Result<usize, String> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            let have: Vec<String> = self.columns.iter().map(|c| format!("`{c}`")).collect();
            format!("it has no column `{name}` (it has {})", have.join(", "))
        })
    }

    /// The numeric (x, y) of every row, in file order.
    pub fn points(&self, x: &str, y: &str) -> Result<Vec<(f64, f64)>, String> {
        let (xi, yi) = (self.column(x)?, self.column(y)?);
        let num = |row: usize, col: &str, s: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("row {} has `{s}` in column `{col}`, not a number", row + 2))
        };
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| Ok((num(i, x, &r[xi])?, num(i, y, &r[yi])?)))
            .collect()
    }

    /// How often each (actual, predicted) pair occurs.
    pub fn pairs(
        &self,
        actual: &str,
        predicted: &str,
    ) -> Result<BTreeMap<(String, String), u64>, String> {
        let (ai, pi) = (self.column(actual)?, self.column(predicted)?);
        let mut counts = BTreeMap::new();
        for r in &self.rows {
            *counts.entry((r[ai].clone(), r[pi].clone())).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_tsv_and_json_records_read_alike() {
        let csv = parse(b"epoch,loss\n1,0.5\r\n2,\"0.25\"\n\n", "l.csv", "work tree").unwrap();
        assert_eq!(
            csv.points("epoch", "loss").unwrap(),
            [(1.0, 0.5), (2.0, 0.25)]
        );
        let tsv = parse(b"epoch\tloss\n1\t0.5\n", "l.tsv", "work tree").unwrap();
        assert_eq!(tsv.points("epoch", "loss").unwrap(), [(1.0, 0.5)]);
        let json = parse(
            br#"{"train": [{"epoch": 1, "loss": 0.5}, {"loss": 0.1, "epoch": 2}]}"#,
            "l.json",
            "x",
        )
        .unwrap();
        assert_eq!(
            json.points("epoch", "loss").unwrap(),
            [(1.0, 0.5), (2.0, 0.1)]
        );
        let cm = parse(b"actual,predicted\na,a\na,b\na,a\n", "c.csv", "x").unwrap();
        assert_eq!(
            cm.pairs("actual", "predicted").unwrap()[&("a".into(), "a".into())],
            2
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = |b: &[u8], f: &str| match parse(b, f, "at `HEAD`") {
            Ok(t) => t.points("epoch", "loss").unwrap_err(),
            Err(e) => e.to_string(),
        };
        assert!(err(b"epoch,loss\n1\n", "l.csv").contains("row 2 has 1 cells"));
        assert!(err(b"epoch,loss\n1,x\n", "l.csv").contains("`x` in column `loss`"));
        assert!(err(b"epoch,los\n1,2\n", "l.csv").contains("no column `loss`"));
        assert!(err(b"{\"a\": 1}", "l.json").contains("list of records"));
        assert!(err(b"[1]", "l.json").contains("item 1 is not a record"));
        assert!(err(b"", "l.txt").contains("format is unknown"));
    }
}
