//! `cargo run --release -p notes`: the notes app, configured by the same environment variables
//! as `portcullis serve` (a `.env` file is read first).

use std::process::ExitCode;

use portcullis::Settings;

#[actix_web::main]
async fn main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("notes: cannot read .env: {e}");
        return ExitCode::from(2);
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("notes: {e}");
            return ExitCode::from(2);
        }
    };
    portcullis::init_logging(settings.log_format);
    match notes::serve(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notes: {e:#}");
            ExitCode::FAILURE
        }
    }
}
