//! One chart as a standalone SVG document: a line chart (axes with ticks, one polyline per
//! series, a legend) or a row of confusion matrices. Drawn by hand rather than through a
//! plotting crate so the markup names what it draws (`class="series"`, `data-count`…) for
//! tests and readers, and so every string from a file or a revision goes through `esc`.

use super::{Body, Chart, Matrix, Series};
use std::fmt::Write;

/// Colours of successive series (Tableau 10), readable on white.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];
/// Series with more points are drawn as a line only, without a dot per point.
const MAX_DOTS: usize = 100;
const WIDTH: f64 = 720.0;
const LEFT: f64 = 80.0;
const TOP: f64 = 44.0;
const PLOT_H: f64 = 260.0;

/// Text for XML content and attribute values: markup characters become entities.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn chart(c: &Chart) -> String {
    let (w, h, inner) = match &c.body {
        Body::Lines {
            x_label,
            y_label,
            categories,
            series,
        } => lines(x_label, y_label, categories.as_deref(), series),
        Body::Matrices(ms) => matrices(ms),
    };
    let kind = serde_json::to_value(c.kind).map(|v| v.as_str().unwrap_or("").to_string());
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"mlv-plot\" data-kind=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{t}</title>\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n<text class=\"title\" x=\"{LEFT}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{t}</text>\n{inner}</svg>\n",
        kind.unwrap_or_default(),
        t = esc(&c.title),
    )
}

/// Width, height and the markup of a line chart.
fn lines(
    x_label: &str,
    y_label: &str,
    cats: Option<&[String]>,
    series: &[Series],
) -> (f64, f64, String) {
    let pts = || series.iter().flat_map(|s| &s.points);
    let (x_lo, x_hi) = match cats {
        Some(c) => (-0.5, c.len().max(1) as f64 - 0.5),
        None => widen(range(pts().map(|p| p.0))),
    };
    let (y_lo, y_hi) = widen(range(pts().map(|p| p.1)));
    let right = WIDTH - 24.0;
    let bottom = TOP + PLOT_H;
    let sx = |x: f64| LEFT + (x - x_lo) / (x_hi - x_lo) * (right - LEFT);
    let sy = |y: f64| bottom - (y - y_lo) / (y_hi - y_lo) * PLOT_H;
    let mut s = String::new();
    // The x axis: ticks, then its label below them (lower when tick labels are slanted).
    let slant = cats.is_some_and(|c| c.len() > 6 || c.iter().any(|l| l.chars().count() > 12));
    let _ = write!(
        s,
        "<g class=\"axis x\" stroke-width=\"1\">\n<line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#333\"/>\n"
    );
    let x_ticks: Vec<(f64, String)> = match cats {
        Some(c) => c
            .iter()
            .enumerate()
            .map(|(i, l)| (i as f64, l.clone()))
            .collect(),
        None => ticks(x_lo, x_hi),
    };
    // At most about 16 revision names fit under the axis: every revision gets a tick, every
    // `every`-th (and the last) its name; the dots' tooltips name them all.
    let every = x_ticks.len().div_ceil(16).max(1);
    for (i, (x, label)) in x_ticks.iter().enumerate() {
        let (px, ty) = (sx(*x), bottom + 16.0);
        let _ = write!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{bottom}\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#333\"/>",
            bottom + 4.0
        );
        if !(x_ticks.len() - 1 - i).is_multiple_of(every) {
            continue;
        }
        if slant {
            let _ = writeln!(
                s,
                "<text class=\"tick\" x=\"{px:.1}\" y=\"{ty}\" text-anchor=\"end\" transform=\"rotate(-35 {px:.1} {ty})\">{}</text>",
                esc(&clip(label))
            );
        } else {
            let _ = writeln!(
                s,
                "<text class=\"tick\" x=\"{px:.1}\" y=\"{ty}\" text-anchor=\"middle\">{}</text>",
                esc(label)
            );
        }
    }
    let label_y = bottom + if slant { 90.0 } else { 40.0 };
    let _ = write!(
        s,
        "<text class=\"label\" x=\"{:.1}\" y=\"{label_y}\" text-anchor=\"middle\">{}</text>\n</g>\n",
        (LEFT + right) / 2.0,
        esc(x_label)
    );
    // The y axis, with faint grid lines at its ticks.
    let _ = writeln!(
        s,
        "<g class=\"axis y\">\n<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"#333\"/>"
    );
    for (y, label) in ticks(y_lo, y_hi) {
        let py = sy(y);
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{right}\" y2=\"{py:.1}\" stroke=\"#ddd\"/><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            LEFT - 6.0,
            py + 4.0
        );
    }
    let mid = TOP + PLOT_H / 2.0;
    let _ = write!(
        s,
        "<text class=\"label\" x=\"18\" y=\"{mid}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {mid})\">{}</text>\n</g>\n",
        esc(y_label)
    );
    for (i, ser) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let _ = writeln!(
            s,
            "<g class=\"series\" data-name=\"{}\" data-points=\"{}\" stroke=\"{color}\" fill=\"{color}\">",
            esc(&ser.name),
            ser.points.len()
        );
        if ser.points.len() > 1 {
            let path: Vec<String> = ser
                .points
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = writeln!(
                s,
                "<polyline class=\"line\" fill=\"none\" stroke-width=\"2\" points=\"{}\"/>",
                path.join(" ")
            );
        }
        if ser.points.len() <= MAX_DOTS {
            for &(x, y) in &ser.points {
                let at = cats
                    .and_then(|c| c.get(x as usize))
                    .cloned()
                    .unwrap_or_else(|| x.to_string());
                let _ = writeln!(
                    s,
                    "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\"><title>{}: {} = {y}</title></circle>",
                    sx(x),
                    sy(y),
                    esc(&ser.name),
                    esc(&at)
                );
            }
        }
        for (at, stages) in &ser.marks {
            let Some(&(x, y)) = ser.points.get(*at) else {
                continue;
            };
            let (px, py) = (sx(x), sy(y));
            let _ = writeln!(
                s,
                "<g class=\"mark\" data-stage=\"{st}\"><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"8\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#d62728\" stroke=\"none\" font-weight=\"bold\">{st}</text></g>",
                py - 12.0,
                st = esc(stages)
            );
        }
        s.push_str("</g>\n");
    }
    // The legend: four entries a row, under the x axis label.
    let legend_top = label_y + 20.0;
    s.push_str("<g class=\"legend\">\n");
    for (i, ser) in series.iter().enumerate() {
        let (x, y) = (
            LEFT + (i % 4) as f64 * 160.0,
            legend_top + (i / 4) as f64 * 18.0,
        );
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{y}\">{}</text>",
            y - 10.0,
            PALETTE[i % PALETTE.len()],
            x + 16.0,
            esc(&clip(&ser.name))
        );
    }
    s.push_str("</g>\n");
    let height = legend_top + series.len().div_ceil(4) as f64 * 18.0 + 8.0;
    (WIDTH, height, s)
}

/// Long labels shortened for a slanted tick or a legend entry (the full text is in titles).
fn clip(s: &str) -> String {
    if s.chars().count() <= 22 {
        return s.to_string();
    }
    s.chars().take(21).chain(['…']).collect()
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// A range with room around its points; a single value (or none) gets one around it.
fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < f64::EPSILON * lo.abs().max(1.0) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// About five round tick values in `[lo, hi]`, with labels as precise as their step.
fn ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let decimals = (-step.log10().floor()).clamp(0.0, 9.0) as usize;
    // Multiples of the step, never sums of it, so zero is exactly zero.
    let first = (lo / step).ceil() as i64;
    (first..first + 20)
        .map(|k| k as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .map(|v| (v, format!("{:.*}", decimals, v + 0.0)))
        .collect()
}

/// Width, height and markup of one matrix per revision, side by side.
fn matrices(ms: &[Matrix]) -> (f64, f64, String) {
    let mut s = String::new();
    let (mut x0, mut top, mut height, mut width) = (LEFT, TOP, 0.0f64, WIDTH);
    for m in ms {
        let n = m.labels.len().max(1);
        let cell = (360.0 / n as f64).clamp(14.0, 40.0);
        // A new row of matrices where this one would reach past 1,020 pixels.
        if x0 > LEFT && x0 + 100.0 + cell * n as f64 > WIDTH + 300.0 {
            (x0, top) = (LEFT, height + 10.0);
        }
        let max = m.counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
        let (gx, gy) = (x0 + 60.0, top + 50.0);
        let _ = writeln!(
            s,
            "<g class=\"matrix\" data-name=\"{name}\">\n<text x=\"{x0}\" y=\"{}\" font-weight=\"bold\">{name}</text>",
            top + 6.0,
            name = esc(&m.name)
        );
        let _ = writeln!(
            s,
            "<text class=\"label\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">predicted</text>",
            gx + cell * n as f64 / 2.0,
            top + 26.0
        );
        for (i, l) in m.labels.iter().enumerate() {
            let c = gx + (i as f64 + 0.5) * cell;
            let _ = writeln!(
                s,
                "<text class=\"tick\" x=\"{c:.1}\" y=\"{}\" text-anchor=\"middle\">{l}</text><text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{l}</text>",
                gy - 6.0,
                gx - 6.0,
                gy + (i as f64 + 0.5) * cell + 4.0,
                l = esc(&clip(l))
            );
        }
        for (a, row) in m.counts.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let (x, y) = (gx + p as f64 * cell, gy + a as f64 * cell);
                let shade = count as f64 / max;
                let fill = blend(shade);
                let ink = if shade > 0.5 { "white" } else { "#222" };
                let _ = writeln!(
                    s,
                    "<rect class=\"cell\" data-actual=\"{}\" data-predicted=\"{}\" data-count=\"{count}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{fill}\" stroke=\"#fff\"/><text class=\"count\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{ink}\">{count}</text>",
                    esc(&m.labels[a]),
                    esc(&m.labels[p]),
                    x + cell / 2.0,
                    y + cell / 2.0 + 4.0
                );
            }
        }
        let bottom = gy + cell * n as f64;
        let _ = write!(
            s,
            "<text class=\"label\" x=\"{}\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 {} {:.1})\">actual</text>\n</g>\n",
            x0 + 10.0,
            (gy + bottom) / 2.0,
            x0 + 10.0,
            (gy + bottom) / 2.0
        );
        x0 = gx + cell * n as f64 + 40.0;
        (width, height) = (width.max(x0), height.max(bottom + 20.0));
    }
    (width, height.max(TOP + 60.0), s)
}

/// From white (0) to the first palette blue (1).
fn blend(t: f64) -> String {
    let mix = |to: f64| (255.0 + (to - 255.0) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(31.0), mix(119.0), mix(180.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_text_is_escaped() {
        let t: Vec<String> = ticks(0.0, 1.0).into_iter().map(|t| t.1).collect();
        assert_eq!(t, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(
            ticks(-0.04, 0.04).iter().filter(|t| t.1 == "-0.00").count(),
            0
        );
        assert_eq!(
            esc("<script>\"a\"&'b'"),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;"
        );
        assert_eq!(widen((2.0, 2.0)), (1.8, 2.2));
    }

    #[test]
    fn fifty_revisions_get_a_tick_each_and_every_fourth_a_name_ending_with_the_newest() {
        let cats: Vec<String> = (0..50).map(|i| format!("r{i}")).collect();
        let series = [Series {
            name: "acc".into(),
            points: (0..50).map(|i| (i as f64, i as f64)).collect(),
            marks: Vec::new(),
        }];
        let (_, _, svg) = lines("revision", "acc", Some(&cats), &series);
        let axis = &svg[..svg.find("class=\"label\"").unwrap()];
        let names: Vec<&str> = axis
            .split("class=\"tick\"")
            .skip(1)
            .map(|t| &t[t.find('>').unwrap() + 1..t.find('<').unwrap()])
            .collect();
        assert_eq!(axis.matches("<line").count(), 51);
        assert_eq!(names.len(), 13);
        assert_eq!((names[0], names[12]), ("r1", "r49"));
    }
}
