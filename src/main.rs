//! The `git-mlv` binary: parse the command line, run it, map the outcome to exit 0/1/2.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match mlv::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => match mlv::cli::foreign_word(&err, std::env::args_os()) {
            Some(foreign) => {
                let (code, hint) = mlv::error::outcome(&foreign);
                mlv::ui::Ui::new(false, false, false).error(&foreign, hint.as_deref());
                return ExitCode::from(code);
            }
            None => err.exit(),
        },
    };
    let g = &cli.global;
    let ui = mlv::ui::Ui::new(g.quiet, g.verbose, g.json);
    match mlv::run(cli, &ui) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of stdout went away (`git mlv ls | head`): stop quietly, like ripgrep.
        // Output is written after the work it reports, so nothing is left half done.
        Err(err) if mlv::error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let (code, hint) = mlv::error::outcome(&err);
            if !mlv::error::is_silent(&err) {
                ui.error(&err, hint.as_deref());
            }
            ExitCode::from(code)
        }
    }
}
