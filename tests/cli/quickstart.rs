//! The shell helpers of `scripts/quickstart.sh` (the script itself does a release build, so
//! it is not run here): the script parses, echoed commands paste back as the same command,
//! steps meant to fail say so, and a log file gets no escape codes.

use std::path::Path;
use std::process::{Command, Output};

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/quickstart.sh")
}

/// Runs `body` in bash after sourcing the quickstart (which only defines its helpers when
/// sourced), with stdout a pipe.
fn helpers(body: &str) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("source \"$0\"\n{body}"))
        .arg(script())
        .env_remove("NO_COLOR");
    no_cargo(&mut cmd).output().expect("bash runs")
}

/// Should the sourced guard ever break, the script stops at its first check (no `cargo`)
/// instead of doing a release build.
fn no_cargo(cmd: &mut Command) -> &mut Command {
    cmd.env("PATH", "/usr/bin:/bin")
        .env("CARGO_HOME", "/nonexistent-cargo-home")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn quickstart_script_parses() {
    let out = Command::new("bash")
        .arg("-n")
        .arg(script())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 13: `run` echoed `$ git commit -qm Add dataset v1`, which pastes as another command.
#[test]
fn quickstart_echoes_commands_that_paste_back_as_the_same_command() {
    let out = helpers(
        r#"run printf '[%s]\n' 'a b' "it's" '' 'x$y' 's/^gamma = .*/gamma = 0.005/' data/f.csv"#,
    );
    assert!(out.status.success());
    let text = stdout(&out);
    let (echoed, ran) = text.split_once('\n').unwrap();
    assert_eq!(
        echoed,
        r#"$ printf '[%s]\n' 'a b' 'it'\''s' '' 'x$y' 's/^gamma = .*/gamma = 0.005/' data/f.csv"#
    );
    let pasted = Command::new("bash")
        .arg("-c")
        .arg(echoed.strip_prefix("$ ").unwrap())
        .output()
        .unwrap();
    assert_eq!(
        stdout(&pasted),
        ran,
        "the pasted command printed something else"
    );
}

/// Issue 13: the gate and the refused promotion looked like real errors, and headings wrote
/// bold escape codes into a log file.
#[test]
fn quickstart_marks_expected_failures_and_writes_no_escapes_to_a_pipe() {
    let out = helpers("step 'A worse model'\nrefused 'the gate catches it' false");
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "escape codes in {text:?}");
    assert_eq!(
        text,
        "\n== A worse model\n(expected to fail: the gate catches it)\n$ false\n→ failed as expected\n"
    );
    let out = helpers("refused 'should fail' true");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a passing `refused` step stops the script"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected to fail and did not"));
}

/// On a terminal the headings are bold, unless NO_COLOR is set (`script` gives bash a tty).
#[test]
fn quickstart_headings_are_bold_only_on_a_terminal_without_no_color() {
    let on_tty = |no_color: Option<&str>| {
        let mut cmd = Command::new("script");
        cmd.args([
            "-qec",
            "bash -c 'source \"$0\"; step hi' \"$QS\"",
            "/dev/null",
        ])
        .env("QS", script())
        .env_remove("NO_COLOR");
        no_cargo(&mut cmd);
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd.output().expect("`script` (util-linux) runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    };
    assert!(
        on_tty(None).contains("\x1b[1m== hi\x1b[0m"),
        "{:?}",
        on_tty(None)
    );
    assert!(!on_tty(Some("1")).contains('\x1b'));
}
