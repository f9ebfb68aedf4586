use std::process::ExitCode;

use portcullis::Cli;
use portcullis::config::LogFormat;

fn main() -> ExitCode {
    // .env first, so that RUST_LOG and every PORTCULLIS_* variable may come from it.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("portcullis: cannot read .env: {e}");
        return ExitCode::from(2);
    }
    let (cli, settings) = Cli::parse_with_settings();
    // The format is a setting; when the settings themselves are wrong, the environment's
    // own value (if it is one) still decides how that error is written.
    let format = match &settings {
        Ok(settings) => settings.log_format,
        Err(_) => std::env::var("PORTCULLIS_LOG_FORMAT")
            .ok()
            .and_then(|v| LogFormat::parse(&v))
            .unwrap_or(LogFormat::Text),
    };
    portcullis::init_logging(format);
    let settings = match settings {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{}", portcullis::fatal_line(format, &e.to_string()));
            return ExitCode::from(2);
        }
    };
    match cli.run(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the cause chain holds (libpq's messages span several).
            let message = format!("{e:#}");
            let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("{}", portcullis::fatal_line(format, &message));
            ExitCode::FAILURE
        }
    }
}
