//! The "Deploy on promotion" recipes of `docs/ci.md`, run as CI would run them: their YAML
//! is parsed, the `run:`/`script:` steps are run with `bash -e` in a fresh clone of a bare
//! "origin", with the variables GitHub Actions or GitLab CI set and no git identity, for
//! promotions, rollbacks and jobs finishing out of order, against a folder and S3. So the
//! documented recipes cannot rot.

use crate::remotes::{Kind, Remote};
use crate::servers::{ACCESS_KEY, BUCKET, SECRET_KEY};
use crate::support::TestEnv;
use serde_norway::{Mapping, Value};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ci {
    GitHub,
    GitLab,
}

/// One CI job of a recipe: its variables as written (expressions unresolved) and its
/// shell steps, the install step left out.
struct Job {
    vars: Vec<(String, String)>,
    steps: Vec<String>,
}

/// The deploy job (triggered by a tag) and the manual rollback job of one CI service.
struct Recipe {
    deploy: Job,
    rollback: Job,
    /// Default values of `workflow_dispatch` inputs (GitHub).
    inputs: Vec<(String, String)>,
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn map<'a>(v: &'a Value, key: &str) -> Option<&'a Mapping> {
    v.get(key).and_then(Value::as_mapping)
}

fn pairs(m: Option<&Mapping>) -> Vec<(String, String)> {
    m.into_iter()
        .flatten()
        .map(|(k, v)| (str_of(k), str_of(v)))
        .collect()
}

/// The fenced YAML blocks of `docs/ci.md`'s section `## Deploy on promotion`.
fn recipe_blocks() -> Vec<Value> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    // Every YAML block of the page parses, not only the deploy recipes.
    let blocks = |text: &str| -> Vec<Value> {
        text.split("```yaml\n")
            .skip(1)
            .map(|b| serde_norway::from_str(b.split("```").next().unwrap()).unwrap())
            .collect()
    };
    blocks(&doc);
    let section = doc
        .split("\n## Deploy on promotion\n")
        .nth(1)
        .expect("docs/ci.md has a section `## Deploy on promotion`");
    let section = section.split("\n## ").next().unwrap();
    blocks(section)
}

/// GitHub's filter pattern (`*` anything but `/`, `**` anything), as far as the recipe
/// uses it.
fn github_glob(pattern: &str, name: &str) -> bool {
    assert!(
        !pattern.starts_with('!') && !pattern.contains(['?', '+', '[']),
        "extend github_glob for `{pattern}`"
    );
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| go(rest, &s[i..])),
            [b'*', rest @ ..] => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| go(rest, &s[i..])),
            [c, rest @ ..] => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn github_recipe(blocks: &[Value]) -> Recipe {
    let workflows: Vec<&Value> = blocks.iter().filter(|b| b.get("jobs").is_some()).collect();
    let on = |w: &&Value| w.get("on").cloned().unwrap_or(Value::Null);
    let deploy = workflows
        .iter()
        .find(|w| on(w).get("push").is_some())
        .expect("a workflow on push");
    let rollback = workflows
        .iter()
        .find(|w| on(w).get("workflow_dispatch").is_some())
        .expect("a workflow_dispatch workflow");
    // The trigger matches the tags promote and rollback write, and no version tag.
    let tags: Vec<String> = on(deploy)["push"]["tags"]
        .as_sequence()
        .expect("on.push.tags")
        .iter()
        .map(str_of)
        .collect();
    let matched = |t: &str| tags.iter().any(|p| github_glob(p, t));
    for t in ["model#prod#3", "model#prod!#4", "nlp/model#prod#5"] {
        assert!(matched(t), "{tags:?} misses `{t}`");
    }
    assert!(!matched("model@v1.2.0"), "{tags:?} matches a version tag");
    let job = |w: &Value| -> Job {
        let jobs = map(w, "jobs").unwrap();
        assert_eq!(jobs.len(), 1, "one job per workflow");
        let job = jobs.values().next().unwrap();
        let mut vars = pairs(map(w, "env"));
        vars.extend(pairs(map(job, "env")));
        let mut steps = Vec::new();
        for step in job["steps"].as_sequence().unwrap() {
            if let Some(uses) = step.get("uses") {
                if str_of(uses).starts_with("actions/checkout") {
                    assert_eq!(
                        step["with"]["fetch-depth"].as_u64(),
                        Some(0),
                        "checkout needs every tag"
                    );
                }
                continue;
            }
            if step.get("name").map(str_of).as_deref() == Some("Install git-mlv") {
                continue;
            }
            assert!(step.get("env").is_none(), "extend the test for step env");
            steps.push(str_of(&step["run"]));
        }
        Job { vars, steps }
    };
    let inputs = map(&on(rollback)["workflow_dispatch"], "inputs")
        .into_iter()
        .flatten()
        .map(|(k, v)| (str_of(k), str_of(&v["default"])))
        .collect();
    Recipe {
        deploy: job(deploy),
        rollback: job(rollback),
        inputs,
    }
}

fn gitlab_recipe(blocks: &[Value]) -> Recipe {
    let pipelines: Vec<&Value> = blocks.iter().filter(|b| b.get("jobs").is_none()).collect();
    assert_eq!(pipelines.len(), 1, "one .gitlab-ci.yml block");
    let root = pipelines[0].as_mapping().unwrap();
    let global = pairs(root.get("variables").and_then(Value::as_mapping));
    let jobs: Vec<&Value> = root
        .iter()
        .filter(|(k, v)| {
            let k = str_of(k);
            !k.starts_with('.') && k != "variables" && v.get("script").is_some()
        })
        .map(|(_, v)| v)
        .collect();
    let rules = |j: &Value| j["rules"].as_sequence().cloned().unwrap_or_default();
    let job = |j: &Value| -> Job {
        let mut vars = global.clone();
        vars.extend(pairs(map(j, "variables")));
        assert_eq!(
            vars.iter()
                .find(|(k, _)| k == "GIT_DEPTH")
                .map(|(_, v)| v.as_str()),
            Some("0"),
            "the job needs every tag"
        );
        let mut lines = Vec::new();
        for key in ["before_script", "script"] {
            for l in j
                .get(key)
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
            {
                let l = str_of(l);
                if !l.starts_with("cargo install") {
                    lines.push(l);
                }
            }
        }
        Job {
            vars,
            steps: vec![lines.join("\n")],
        }
    };
    let deploy = jobs
        .iter()
        .find(|j| {
            rules(j)
                .iter()
                .any(|r| r.get("if").map(str_of).as_deref() == Some("$CI_COMMIT_TAG"))
        })
        .expect("a job with `rules: - if: $CI_COMMIT_TAG`");
    let rollback = jobs
        .iter()
        .find(|j| {
            rules(j)
                .iter()
                .any(|r| r.get("when").map(str_of).as_deref() == Some("manual"))
        })
        .expect("a job with `when: manual`");
    Recipe {
        deploy: job(deploy),
        rollback: job(rollback),
        inputs: Vec::new(),
    }
}

/// Where deploys go, and how to read which version `current` serves there.
enum Target {
    Folder(PathBuf),
    S3 { url: String, bucket: PathBuf },
}

impl Target {
    fn spec(&self) -> String {
        match self {
            Target::Folder(p) => p.display().to_string(),
            Target::S3 { url, .. } => url.clone(),
        }
    }

    fn current(&self) -> String {
        match self {
            Target::Folder(p) => std::fs::read_link(p.join("model/current"))
                .unwrap()
                .display()
                .to_string(),
            Target::S3 { bucket, .. } => {
                let json: serde_json::Value = serde_json::from_slice(
                    &std::fs::read(bucket.join("deploys/model/current.json")).unwrap(),
                )
                .unwrap();
                json["version"].as_str().unwrap().to_string()
            }
        }
    }
}

/// A team's repository, a bare "origin" and a CI service running the recipe's jobs.
struct World {
    ci: Ci,
    recipe: Recipe,
    dev: TestEnv,
    origin: PathBuf,
    target: Target,
    _remote: Remote,
    jobs: std::cell::Cell<u32>,
}

impl World {
    fn new(ci: Ci, s3_target: bool) -> World {
        let blocks = recipe_blocks();
        let recipe = match ci {
            Ci::GitHub => github_recipe(&blocks),
            Ci::GitLab => gitlab_recipe(&blocks),
        };
        let remote = Remote::start(Kind::S3);
        let dev = TestEnv::ml_project("");
        remote.add_to(&dev);
        let origin = dev.outside().join("origin.git");
        std::fs::create_dir_all(&origin).unwrap();
        let out = std::process::Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&origin)
            .output()
            .unwrap();
        assert!(out.status.success());
        dev.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
        let target = if s3_target {
            Target::S3 {
                url: format!("s3://{BUCKET}/deploys"),
                bucket: remote
                    .server
                    .as_ref()
                    .unwrap()
                    .dir
                    .path()
                    .join("data")
                    .join(BUCKET),
            }
        } else {
            Target::Folder(dev.outside().join("serving"))
        };
        World {
            ci,
            recipe,
            dev,
            origin,
            target,
            _remote: remote,
            jobs: std::cell::Cell::new(0),
        }
    }

    /// Trains, pushes and registers a new model; returns its version.
    fn release(&self, model: &str) -> String {
        self.dev.commit_model(model, 0.9);
        self.dev.mlv(&["push", "-q"]).assert().success();
        let out = self.dev.json(&["register", "model"]);
        out["version"].as_str().unwrap().to_string()
    }

    fn promote(&self, version: &str) -> String {
        let out = self
            .dev
            .mlv(&["promote", &format!("model@{version}"), "prod"])
            .assert()
            .success();
        String::from_utf8_lossy(&out.get_output().stdout)
            .trim()
            .to_string()
    }

    /// `git push origin main --tags`, as a developer shares a promotion.
    fn publish(&self) {
        self.dev.git(&["push", "-q", "origin", "main", "--tags"]);
    }

    /// What the registry on origin says prod holds.
    fn registry_prod(&self) -> String {
        self.dev.git(&["fetch", "-q", "--tags", "origin"]);
        self.dev.json(&["which", "model", "prod"])["version"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The value of a `${{ … }}` expression or a literal, as GitHub would set it.
    fn resolve(&self, value: &str) -> String {
        let Some(expr) = value
            .strip_prefix("${{")
            .and_then(|v| v.strip_suffix("}}"))
            .map(str::trim)
        else {
            assert!(!value.contains("${{"), "`{value}`");
            return value.to_string();
        };
        match expr.split_once('.') {
            Some(("secrets", "AWS_ACCESS_KEY_ID")) => ACCESS_KEY.into(),
            Some(("secrets", "AWS_SECRET_ACCESS_KEY")) => SECRET_KEY.into(),
            Some(("vars", "DEPLOY_TARGET")) => self.target.spec(),
            Some(("inputs", name)) => self
                .recipe
                .inputs
                .iter()
                .find(|(k, _)| k == name)
                .unwrap_or_else(|| panic!("no input `{name}`"))
                .1
                .clone(),
            _ => panic!("the test does not know `{value}`"),
        }
    }

    /// Runs `job` as the CI service would: a fresh clone of origin at `sha` (with
    /// GitHub's checkout replacing a triggering tag by a lightweight one), the service's
    /// variables, each step with `bash -e`. Returns stdout and stderr of all steps.
    fn run_job(&self, job: &Job, tag: Option<&str>) -> String {
        let n = self.jobs.get() + 1;
        self.jobs.set(n);
        let base = self.dev.outside().join(format!("runner-{n}"));
        let dir = base.join("build");
        let home = base.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(if dir.exists() { &dir } else { &base })
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .output()
                .unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        git(&["clone", "-q", self.origin.to_str().unwrap(), "build"]);
        assert!(
            !dir.join(".mlv/config.local.toml").exists(),
            "credentials must come from the CI's variables"
        );
        let sha = match tag {
            Some(t) => {
                let sha = git(&["rev-parse", &format!("{t}^{{commit}}")]);
                git(&["checkout", "-q", "--detach", &sha]);
                if self.ci == Ci::GitHub {
                    // actions/checkout fetches the pushed tag as `+<sha>:refs/tags/<tag>`.
                    git(&["tag", "-f", t, &sha]);
                }
                sha
            }
            None => git(&["rev-parse", "HEAD"]),
        };
        let mut env: Vec<(String, String)> = match (self.ci, tag) {
            (Ci::GitHub, Some(t)) => vec![("GITHUB_REF_NAME".into(), t.into())],
            (Ci::GitHub, None) => vec![("GITHUB_REF_NAME".into(), "main".into())],
            (Ci::GitLab, Some(t)) => vec![("CI_COMMIT_TAG".into(), t.into())],
            (Ci::GitLab, None) => vec![
                ("CI_COMMIT_BRANCH".into(), "main".into()),
                ("CI_DEFAULT_BRANCH".into(), "main".into()),
            ],
        };
        match self.ci {
            Ci::GitHub => env.push(("GITHUB_SHA".into(), sha)),
            Ci::GitLab => {
                env.push(("CI_COMMIT_SHA".into(), sha));
                // Masked CI/CD variables of the project.
                env.push(("AWS_ACCESS_KEY_ID".into(), ACCESS_KEY.into()));
                env.push(("AWS_SECRET_ACCESS_KEY".into(), SECRET_KEY.into()));
                env.push(("DEPLOY_TARGET".into(), self.target.spec()));
            }
        }
        for (k, v) in &job.vars {
            env.push((k.clone(), self.resolve(v)));
        }
        let bin = assert_cmd::cargo::cargo_bin("git-mlv");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut log = String::new();
        for step in &job.steps {
            assert!(
                !step.contains("${{"),
                "an expression inside a script: {step}"
            );
            let out = std::process::Command::new("bash")
                .args(["-e", "-c", step])
                .current_dir(&dir)
                .env_clear()
                .env("PATH", &path)
                .env("HOME", &home)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                // A runner has no git identity: git must not guess one.
                .env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "user.useConfigOnly")
                .env("GIT_CONFIG_VALUE_0", "true")
                .env("MLV_NO_PROGRESS", "1")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .output()
                .unwrap();
            log.push_str(&String::from_utf8_lossy(&out.stdout));
            log.push_str(&String::from_utf8_lossy(&out.stderr));
            assert!(
                out.status.success(),
                "{:?} job step failed: {step}\n{log}",
                self.ci
            );
        }
        log
    }

    /// A tag was pushed: the deploy job runs for it.
    fn deploy_job(&self, tag: &str) -> String {
        self.run_job(&self.recipe.deploy, Some(tag))
    }

    /// `current` at the target serves what the registry says prod holds, and that is `v`.
    fn assert_serving(&self, v: &str) {
        assert_eq!(self.target.current(), v, "{:?}", self.ci);
        assert_eq!(self.registry_prod(), v);
    }
}

/// Promotion, second promotion, a rollback's tags, two jobs out of order, and the manual
/// rollback job, each followed by the deploy jobs its tags trigger.
fn the_loop_closes(ci: Ci, s3_target: bool) {
    let w = World::new(ci, s3_target);
    let v1 = w.release("model 1");
    let t1 = w.promote(&v1);
    w.publish();
    w.deploy_job(&t1);
    w.assert_serving(&v1);
    // The same job again (a re-run) changes nothing.
    let log = w.deploy_job(&t1);
    assert!(log.contains("nothing to do"), "{log}");
    w.assert_serving(&v1);

    let v2 = w.release("model 2");
    let t2 = w.promote(&v2);
    w.publish();
    w.deploy_job(&t2);
    w.assert_serving(&v2);

    // A rollback by hand: the unassign tag's job deploys the target, the assign tag's job
    // finds it done.
    let r = w.dev.json(&["rollback", "model", "prod"]);
    let (off, on) = (
        r["tags"][0].as_str().unwrap(),
        r["tags"][1].as_str().unwrap(),
    );
    assert!(off.contains("!#"), "{off}");
    w.publish();
    w.deploy_job(off);
    w.assert_serving(&v1);
    let log = w.deploy_job(on);
    assert!(log.contains("nothing to do"), "{log}");
    w.assert_serving(&v1);

    // Two promotions; the older tag's job finishes last and leaves the newer version.
    let v3 = w.release("model 3");
    let t3 = w.promote(&v3);
    let v4 = w.release("model 4");
    let t4 = w.promote(&v4);
    w.publish();
    w.deploy_job(&t4);
    w.assert_serving(&v4);
    let log = w.deploy_job(&t3);
    assert!(log.contains(&format!("holds {v4} now")), "{log}");
    w.assert_serving(&v4);

    // The manual rollback job rolls back, pushes its tags and deploys; the jobs its tags
    // start (pushed with a token that triggers them) find nothing to do.
    let before: Vec<String> = w.dev.git(&["tag"]).lines().map(str::to_owned).collect();
    w.run_job(&w.recipe.rollback, None);
    w.assert_serving(&v3);
    let after: Vec<String> = w.dev.git(&["tag"]).lines().map(str::to_owned).collect();
    let new: Vec<&String> = after.iter().filter(|t| !before.contains(t)).collect();
    assert_eq!(new.len(), 2, "{new:?}");
    for t in new {
        let log = w.deploy_job(t);
        assert!(log.contains("nothing to do"), "{log}");
    }
    w.assert_serving(&v3);
}

#[test]
fn github_actions_recipe_deploys_to_a_folder() {
    the_loop_closes(Ci::GitHub, false);
}

#[test]
fn github_actions_recipe_deploys_to_s3() {
    the_loop_closes(Ci::GitHub, true);
}

#[test]
fn gitlab_ci_recipe_deploys_to_a_folder() {
    the_loop_closes(Ci::GitLab, false);
}

#[test]
fn gitlab_ci_recipe_deploys_to_s3() {
    the_loop_closes(Ci::GitLab, true);
}

#[test]
fn the_github_tag_filter_is_read_as_github_reads_it() {
    assert!(github_glob("*#*#*", "model#prod!#4"));
    assert!(!github_glob("*#*#*", "nlp/model#prod#4"));
    assert!(github_glob("**#**#*", "nlp/model#team/prod#4"));
    assert!(!github_glob("**#**#*", "model@v1.0.0"));
}
