use super::*;

#[test]
fn paths_are_relative_to_wdir() {
    let p = Project::parse(
        r#"
[stages.train]
cmd = "python train.py"
wdir = "ml"
deps = ["data", "./train.py"]
params = ["params.toml:train.depth"]
outs = ["model.pkl"]
metrics = ["metrics.json"]

[[gates]]
metric = "ml/metrics.json:eval.accuracy"
min = 0.9

[artifacts.model]
path = "ml/model.pkl"
type = "model"
"#,
        Path::new(FILE),
    )
    .unwrap();
    let s = &p.stages["train"];
    assert_eq!(
        s.deps,
        [RepoPath::new("ml/data"), RepoPath::new("ml/train.py")]
    );
    assert_eq!(s.params[0].file, RepoPath::new("ml/params.toml"));
    assert_eq!(s.params[0].key.as_deref(), Some("train.depth"));
    assert_eq!(p.gates[0].metric.key, "eval.accuracy");
    assert_eq!(p.artifacts["model"].kind.as_deref(), Some("model"));
    assert_eq!(
        p.producer_of(&RepoPath::new("ml/model.pkl")).unwrap().name,
        "train"
    );
}

#[test]
fn refuses_paths_that_climb_out_and_unknown_keys() {
    for text in [
        "[stages.a]\ncmd = \"x\"\nouts = [\"../x\"]\n",
        "[stages.a]\ncmd = \"x\"\nout = [\"x\"]\n",
        "[[gates]]\nmetric = \"m.json\"\nmin = 1\n",
        "[[gates]]\nmetric = \"m.json:a\"\n",
    ] {
        assert!(Project::parse(text, Path::new(FILE)).is_err(), "{text}");
    }
}
