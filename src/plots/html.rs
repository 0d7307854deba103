//! The page: every chart's SVG inline, the revisions plotted and the notes, with no script
//! and nothing fetched from the network, so it reads the same offline, in a mail or in CI.

use super::Plots;
use super::svg::{chart, esc};
use std::fmt::Write;

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222;background:#fafafa}\
section{background:#fff;border:1px solid #ddd;margin:0 0 20px;padding:8px;overflow-x:auto}\
code{background:#eee;padding:0 3px}li{margin:2px 0}\
ul.revisions{display:flex;flex-wrap:wrap;gap:2px 18px;list-style:none;padding:0}";

pub fn page(plots: &Plots) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>git mlv plots</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>git mlv plots</h1>\n<p>{} across {}:</p>\n<ul class=\"revisions\">\n",
        crate::units::count(plots.charts.len() as u64, "plot"),
        crate::units::count(plots.sides.len() as u64, "revision"),
    );
    for side in &plots.sides {
        let commit = side
            .commit
            .as_deref()
            .map_or("the work tree".to_string(), |c| {
                format!("<code>{}</code>", esc(&c[..c.len().min(12)]))
            });
        let stages = if side.stages.is_empty() {
            String::new()
        } else {
            format!(", holds <b>{}</b>", esc(&side.stages.join(", ")))
        };
        let _ = writeln!(s, "<li><b>{}</b>: {commit}{stages}</li>", esc(&side.label));
    }
    s.push_str("</ul>\n");
    for c in &plots.charts {
        let _ = write!(
            s,
            "<section class=\"plot\" id=\"{}\">\n{}</section>\n",
            esc(&c.id),
            chart(c)
        );
    }
    if !plots.notes.is_empty() {
        s.push_str("<h2>Notes</h2>\n<ul class=\"notes\">\n");
        for n in &plots.notes {
            let _ = writeln!(s, "<li>{}</li>", esc(n));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</body>\n</html>\n");
    s
}
