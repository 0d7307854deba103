//! Aligned text tables: `metrics show`, `metrics diff` and `gate` print through them.

use crate::ui::Ui;

/// Rows as left-aligned columns separated by two spaces.
pub fn print_table<const N: usize>(ui: &Ui, rows: &[[String; N]]) -> anyhow::Result<()> {
    for line in table_lines(rows) {
        ui.out(&line)?;
    }
    Ok(())
}

/// The lines of a table with aligned columns.
pub fn table_lines<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0usize; N];
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let line: Vec<String> = r
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            line.join("  ").trim_end().to_string()
        })
        .collect()
}
