//! The `git-mlv` binary: parse the command line, run it, map the outcome to exit 0/1/2.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = mlv::cli::Cli::parse();
    let ui = mlv::ui::Ui::new(&cli.global);
    match mlv::run(cli, &ui) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = mlv::error::exit_code(&err);
            if !mlv::error::is_silent(&err) && !mlv::error::is_broken_pipe(&err) {
                ui.error(&err);
            }
            if mlv::error::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            ExitCode::from(code)
        }
    }
}
