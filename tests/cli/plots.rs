//! `plots`: metrics across revisions and registry versions, `[[plots]]` series from CSV,
//! TSV and JSON, confusion matrices, `--format svg`, `--json`, errors, hostile strings, and
//! a screenshot of the page in headless Chromium. The page is parsed as XML, so markup a
//! file smuggles in would break the parse or show up as an element.

use crate::support::{TestEnv, stderr_of};
use predicates::prelude::*;
use predicates::str::contains;
use quick_xml::events::Event;
use std::collections::BTreeMap;

/// An element of the parsed page: its name, attributes, children and text.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
    text: String,
}

impl Node {
    fn parse(xml: &str) -> Node {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut stack = vec![Node::default()];
        let open = |e: &quick_xml::events::BytesStart| Node {
            name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    (
                        key,
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("attribute value")
                            .into_owned(),
                    )
                })
                .collect(),
            ..Node::default()
        };
        loop {
            match reader.read_event().expect("the page is well-formed XML") {
                Event::Start(e) => stack.push(open(&e)),
                Event::Empty(e) => stack.last_mut().unwrap().children.push(open(&e)),
                Event::End(_) => {
                    let done = stack.pop().unwrap();
                    stack.last_mut().unwrap().children.push(done);
                }
                Event::Text(t) => stack.last_mut().unwrap().text += &t.decode().unwrap(),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().unwrap() {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_xml_entity(&r.decode().unwrap())
                            .expect("a known entity")
                            .to_string(),
                    };
                    stack.last_mut().unwrap().text += &resolved;
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(stack.len(), 1, "unclosed elements");
        stack.pop().unwrap()
    }

    fn all(&self) -> Vec<&Node> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.all());
        }
        out
    }

    /// Elements (self included) whose `class` holds `class`.
    fn class(&self, class: &str) -> Vec<&Node> {
        self.all()
            .into_iter()
            .filter(|n| {
                n.attrs
                    .get("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == class))
            })
            .collect()
    }

    fn named(&self, name: &str) -> Vec<&Node> {
        self.all().into_iter().filter(|n| n.name == name).collect()
    }

    fn attr(&self, key: &str) -> &str {
        self.attrs.get(key).map_or("", String::as_str)
    }

    /// The chart in `<section id="…">`.
    fn chart(&self, id: &str) -> &Node {
        let section = self
            .class("plot")
            .into_iter()
            .find(|n| n.attr("id") == id)
            .unwrap_or_else(|| panic!("no chart `{id}` on the page"));
        section.named("svg")[0]
    }

    /// The texts of an axis: its tick labels and its label.
    fn axis(&self, which: &str) -> (Vec<String>, String) {
        let axis = self
            .class("axis")
            .into_iter()
            .find(|n| n.attr("class").split(' ').any(|w| w == which))
            .unwrap();
        let ticks = axis.class("tick").iter().map(|t| t.text.clone()).collect();
        (ticks, axis.class("label")[0].text.clone())
    }

    /// Each series: its name, its `data-points` and the dots drawn.
    fn series(&self) -> Vec<(String, usize, usize)> {
        self.class("series")
            .iter()
            .map(|s| {
                let points = s.attr("data-points").parse().unwrap();
                (
                    s.attr("data-name").to_string(),
                    points,
                    s.class("point").len(),
                )
            })
            .collect()
    }
}

fn page(env: &TestEnv, file: &str) -> Node {
    Node::parse(&env.read_str(file))
}

const LOSS_PLOT: &str = "[[plots]]\nfile = \"loss.csv\"\nx = \"epoch\"\ny = \"loss\"\n";

fn losses(n: usize, scale: f64) -> String {
    let rows: String = (1..=n)
        .map(|e| format!("{e},{}\n", scale / e as f64))
        .collect();
    format!("epoch,loss\n{rows}")
}

#[test]
fn a_metric_across_three_commits_is_one_series_with_a_point_each() {
    let env = TestEnv::ml_project("");
    for acc in [0.8, 0.85, 0.9] {
        env.commit_model(format!("model {acc}"), acc);
    }
    env.mlv(&[
        "plots", "--rev", "HEAD~2", "--rev", "HEAD~1", "--rev", "HEAD",
    ])
    .assert()
    .success()
    .stdout(format!("{}\n", env.path("plots.html").display()))
    .stderr(contains("wrote 1 plot across 3 revisions"));
    let page = page(&env, "plots.html");
    let chart = page.chart("metrics.json-eval.accuracy");
    assert_eq!(chart.series(), [("eval.accuracy".to_string(), 3, 3)]);
    assert_eq!(
        chart.axis("x"),
        (
            vec!["HEAD~2".into(), "HEAD~1".into(), "HEAD".into()],
            "revision".into()
        )
    );
    assert_eq!(chart.axis("y").1, "eval.accuracy");
    // Self-contained: no script, and no URL but the SVG namespace.
    let text = env.read_str("plots.html");
    assert!(page.named("script").is_empty());
    assert_eq!(
        text.matches("http").count(),
        text.matches("http://www.w3.org/2000/svg").count()
    );
}

#[test]
fn a_csv_series_overlays_two_revisions_and_a_missing_one_is_a_note() {
    let env = TestEnv::ml_project(LOSS_PLOT);
    env.commit_model("m0", 0.7);
    env.write("loss.csv", losses(5, 1.0));
    env.commit_model("m1", 0.8);
    env.write("loss.csv", losses(4, 2.0));
    env.commit_model("m2", 0.9);
    let out = env
        .mlv(&[
            "plots",
            "--rev",
            "HEAD~2",
            "--rev",
            "HEAD~1",
            "--rev",
            "HEAD",
            "-o",
            "out/p.html",
        ])
        .assert()
        .success();
    assert!(stderr_of(out).contains("`loss.csv` does not exist at `HEAD~2`: skipped there"));
    let chart = page(&env, "out/p.html");
    let chart = chart.chart("loss.csv-loss");
    assert_eq!(
        chart.series(),
        [("HEAD~1".to_string(), 5, 5), ("HEAD".to_string(), 4, 4)]
    );
    assert_eq!(chart.axis("x").1, "epoch");
    assert_eq!(chart.axis("y").1, "loss");
    assert_eq!(chart.class("line").len(), 2);
}

#[test]
fn json_records_and_tsv_compare_head_with_the_work_tree_by_default() {
    let env = TestEnv::ml_project(
        "[[plots]]\nfile = \"train.json\"\nx = \"step\"\ny = \"acc\"\ntitle = \"Accuracy per step\"\n\n[[plots]]\nfile = \"eval.tsv\"\nx = \"epoch\"\ny = \"f1\"\n",
    );
    env.write(
        "train.json",
        r#"{"train": [{"step": 1, "acc": 0.5}, {"step": 2, "acc": 0.7}]}"#,
    );
    env.write("eval.tsv", "epoch\tf1\n1\t0.4\n2\t0.6\n3\t0.65\n");
    env.commit_model("m", 0.8);
    env.write(
        "train.json",
        r#"[{"step": 1, "acc": 0.6}, {"step": 2, "acc": 0.8}, {"step": 3, "acc": 0.9}]"#,
    );
    env.mlv(&["plots"]).assert().success();
    let page = page(&env, "plots.html");
    let json = page.chart("train.json-acc");
    assert_eq!(
        json.series(),
        [("HEAD".to_string(), 2, 2), ("workspace".to_string(), 3, 3)]
    );
    assert_eq!(json.class("title")[0].text, "Accuracy per step");
    let tsv = page.chart("eval.tsv-f1");
    assert_eq!(
        tsv.series(),
        [("HEAD".to_string(), 3, 3), ("workspace".to_string(), 3, 3)]
    );
}

#[test]
fn a_confusion_matrix_counts_each_pair() {
    let env = TestEnv::ml_project(
        "[[plots]]\nfile = \"pred.csv\"\ntemplate = \"confusion\"\nx = \"actual\"\ny = \"predicted\"\n",
    );
    env.write(
        "pred.csv",
        "actual,predicted\ncat,cat\ncat,dog\ndog,dog\ncat,cat\ndog,dog\ndog,dog\n",
    );
    env.commit_model("m", 0.8);
    env.mlv(&["plots", "--rev", "HEAD"]).assert().success();
    let page = page(&env, "plots.html");
    let chart = page.chart("pred.csv-confusion");
    let matrices = chart.class("matrix");
    assert_eq!(matrices.len(), 1);
    let cells: BTreeMap<(String, String), String> = matrices[0]
        .class("cell")
        .iter()
        .map(|c| {
            let key = (
                c.attr("data-actual").to_string(),
                c.attr("data-predicted").to_string(),
            );
            (key, c.attr("data-count").to_string())
        })
        .collect();
    let want: BTreeMap<(String, String), String> = [
        (("cat", "cat"), "2"),
        (("cat", "dog"), "1"),
        (("dog", "cat"), "0"),
        (("dog", "dog"), "3"),
    ]
    .into_iter()
    .map(|((a, p), n)| ((a.to_string(), p.to_string()), n.to_string()))
    .collect();
    assert_eq!(cells, want);
    let counts: Vec<&str> = matrices[0]
        .class("count")
        .iter()
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(counts, ["2", "1", "0", "3"]);
}

#[test]
fn versions_plot_each_registered_version_and_mark_production() {
    let env = TestEnv::ml_project("");
    for (acc, v) in [(0.8, "0.0.1"), (0.85, "0.0.2"), (0.9, "0.0.3")] {
        env.commit_model(format!("model {acc}"), acc);
        env.mlv(&["register", "model", v]).assert().success();
    }
    env.mlv(&["promote", "model@v0.0.2", "prod"])
        .assert()
        .success();
    let report = env.json(&["plots", "--versions", "model"]);
    let labels: Vec<&str> = report["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["v0.0.1", "v0.0.2", "v0.0.3"]);
    assert_eq!(
        report["revisions"][1]["stages"],
        serde_json::json!(["prod"])
    );
    let page = page(&env, "plots.html");
    let chart = page.chart("metrics.json-eval.accuracy");
    assert_eq!(chart.series()[0].1, 3);
    let marks = chart.class("mark");
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].attr("data-stage"), "prod");
    assert_eq!(chart.axis("x").0, ["v0.0.1", "v0.0.2", "v0.0.3"]);
    // A registry reference is a revision like any other.
    let report = env.json(&["plots", "--rev", "model#prod", "--rev", "HEAD"]);
    let prod = env.git(&["rev-parse", "HEAD~1"]);
    assert_eq!(report["revisions"][0]["label"], "model#prod");
    assert_eq!(report["revisions"][0]["commit"], prod.trim());
    env.mlv(&["plots", "--versions", "nothing"])
        .assert()
        .code(2)
        .stderr(contains("`nothing` has no registered version"));
}

#[test]
fn format_svg_writes_one_file_per_chart_and_json_reports_them() {
    let env = TestEnv::ml_project(LOSS_PLOT);
    env.write("loss.csv", losses(3, 1.0));
    env.commit_model("m", 0.8);
    let report = env.json(&["plots", "--format", "svg", "-o", "charts"]);
    let mut files: Vec<String> = std::fs::read_dir(env.path("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["loss.csv-loss.svg", "metrics.json-eval.accuracy.svg"]
    );
    for f in &files {
        let svg = Node::parse(&env.read_str(&format!("charts/{f}")));
        assert_eq!(svg.children[0].name, "svg", "{f}");
        assert_eq!(svg.children[0].attr("xmlns"), "http://www.w3.org/2000/svg");
    }
    assert_eq!(report["format"], "svg");
    assert_eq!(report["files"].as_array().unwrap().len(), 2);
    let kinds: Vec<&str> = report["plots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["metric", "series"]);
    assert_eq!(report["revisions"][0]["label"], "HEAD");
    assert_eq!(report["revisions"][1]["commit"], serde_json::Value::Null);
    let html = env.json(&["plots"]);
    assert_eq!(
        html["files"][0].as_str().unwrap(),
        env.path("plots.html").to_str().unwrap()
    );
}

#[test]
fn a_missing_or_invalid_plots_file_is_exit_2_and_named() {
    let env = TestEnv::ml_project(LOSS_PLOT);
    env.commit_model("m", 0.8);
    env.mlv(&["plots"]).assert().code(2).stderr(contains(
        "plots file `loss.csv` does not exist in any revision plotted (`HEAD`, `workspace`)",
    ));
    env.write("loss.csv", "epoch,loss\n1,0.5\n2\n");
    env.mlv(&["plots"]).assert().code(2).stderr(contains(
        "plots file `loss.csv` (work tree) is not valid CSV: row 3 has 1 cells",
    ));
    env.write("loss.csv", "epoch,los\n1,0.5\n");
    env.mlv(&["plots"])
        .assert()
        .code(2)
        .stderr(contains("`loss.csv` (work tree)").and(contains("no column `loss`")));
    env.write(
        "mlv.toml",
        "[[plots]]\nfile = \"loss.csv\"\nx = \"epoch\"\ny = \"loss\"\ntemplate = \"pie\"\n",
    );
    env.mlv(&["plots"])
        .assert()
        .code(2)
        .stderr(contains("template `pie`"));
    assert!(!env.exists("plots.html"));
}

#[test]
fn hostile_titles_and_keys_are_escaped_and_the_git_dir_is_refused() {
    let env = TestEnv::ml_project(
        "[[plots]]\nfile = \"l.csv\"\nx = \"<i>x</i>\"\ny = \"y\\\"><script>alert(1)</script>\"\ntitle = \"<script>alert('t')</script> & more\"\n",
    );
    env.write(
        "l.csv",
        "\"<i>x</i>\",\"y\"\"><script>alert(1)</script>\"\n1,2\n2,3\n",
    );
    env.write("metrics.json", r#"{"<img src=x onerror=alert(1)>": 1}"#);
    env.mlv(&["plots"]).assert().success();
    let text = env.read_str("plots.html");
    let page = Node::parse(&text);
    assert!(
        page.named("script").is_empty()
            && page.named("img").is_empty()
            && page.named("i").is_empty()
    );
    assert!(!text.contains("<script"));
    let title = &page.class("title")[1].text;
    assert_eq!(title, "<script>alert('t')</script> & more");
    for bad in [".git/x.html", ".git", "sub/../.git/mlv/p.html"] {
        env.mlv(&["plots", "-o", bad])
            .assert()
            .code(2)
            .stderr(contains("is inside the git dir"));
    }
    assert!(!env.exists(".git/x.html"));
    std::os::unix::fs::symlink(env.path(".git"), env.path("link")).unwrap();
    env.mlv(&["plots", "--format", "svg", "-o", "link/charts"])
        .assert()
        .code(2);
    assert!(!env.exists(".git/charts"));
}

#[test]
fn open_uses_the_desktop_opener_or_says_where_the_page_is() {
    let env = TestEnv::ml_project("");
    env.commit_model("m", 0.8);
    let bin = env.outside().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::os::unix::fs::symlink(git.trim(), bin.join("git")).unwrap();
    let out = env
        .mlv(&["plots", "--open"])
        .env("PATH", &bin)
        .assert()
        .success();
    assert!(stderr_of(out).contains("no desktop opener (`xdg-open`) here: open"));
    let marker = env.outside().join("opened");
    std::fs::write(
        bin.join("xdg-open"),
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", marker.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(bin.join("xdg-open"))
        .status()
        .unwrap();
    env.mlv(&["plots", "--open"])
        .env("PATH", &bin)
        .assert()
        .success();
    // The opener runs detached: its file exists from the shell's `>` before `echo` fills it.
    for _ in 0..50 {
        if std::fs::read_to_string(&marker).is_ok_and(|s| s.ends_with('\n')) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().trim(),
        env.path("plots.html").to_str().unwrap()
    );
}

/// Chromium from Debian renders the page headless; the screenshot must show the charts:
/// many non-white pixels in several colours. Needs `chromium` (scripts/install-test-servers.sh).
#[test]
fn headless_chromium_renders_the_page_with_visible_charts() {
    let env = TestEnv::ml_project(LOSS_PLOT);
    for (i, acc) in [0.8, 0.85, 0.9].into_iter().enumerate() {
        env.write("loss.csv", losses(10, 1.0 + i as f64));
        env.commit_model(format!("m{acc}"), acc);
    }
    env.mlv(&[
        "plots", "--rev", "HEAD~2", "--rev", "HEAD~1", "--rev", "HEAD",
    ])
    .assert()
    .success();
    let shot = env.outside().join("shot.png");
    let profile = env.outside().join("chromium-profile");
    let out = std::process::Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=900,1400")
        .arg(format!("file://{}", env.path("plots.html").display()))
        .output()
        .expect("`chromium` is not installed: run `bash scripts/install-test-servers.sh` (apt-get install chromium)");
    assert!(
        shot.exists(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(step).collect();
    let inked = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    let colours: std::collections::BTreeSet<[u8; 3]> = pixels
        .iter()
        .filter(|p| {
            let (max, min) = (*p[..3].iter().max().unwrap(), *p[..3].iter().min().unwrap());
            max - min > 60
        })
        .map(|p| [p[0] & 0xe0, p[1] & 0xe0, p[2] & 0xe0])
        .collect();
    assert!(
        inked > 5_000,
        "only {inked} of {} pixels are not near white",
        pixels.len()
    );
    assert!(
        colours.len() >= 3,
        "only {} saturated colours: {colours:?}",
        colours.len()
    );
}
