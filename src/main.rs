use std::process::ExitCode;

use portcullis::cli::Cli;

fn main() -> ExitCode {
    // .env first, so that RUST_LOG and every PORTCULLIS_* variable may come from it.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("portcullis: cannot read .env: {e}");
        return ExitCode::from(2);
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let (cli, settings) = Cli::parse_with_settings();
    let settings = match settings {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("portcullis: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the cause chain holds (libpq's messages span several).
            let message = format!("{e:#}");
            eprintln!("portcullis: {}", message.split_whitespace().collect::<Vec<_>>().join(" "));
            ExitCode::FAILURE
        }
    }
}
