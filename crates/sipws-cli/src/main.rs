//! `sipws`: the command-line tool of the sipws SIP-over-WebSocket stack.
//!
//! One module per subcommand under `cmd/`; this file only parses the
//! command line (with the settings file's values put in, see
//! [`settings`]), sets up `-v` tracing ([`log`]) and maps each command's
//! outcome to the process exit code.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod cmd;
mod log;
mod settings;

/// SIP over WebSocket (RFC 7118) from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "sipws",
    version,
    about,
    after_help = "Exit codes: 0 success, 1 SIP failure (error status, rejected or unanswered call, timeout), 2 usage error, 3 connection failure (the link gave up). Formats: docs/sip-commands.md."
)]
struct Cli {
    /// Tracing on standard error: `-v` debug lines of the sipws crates,
    /// `-vv` also every frame (trace). `SIPWS_LOG` (e.g.
    /// `sipws=trace`) overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Settings file (TOML; keys are long flag names, `[COMMAND]` tables
    /// for one command, `url` for the URL); command-line flags win. Also
    /// from `SIPWS_CONFIG`. See docs/settings.md.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Play the whole SIP-over-WebSocket story on loopback: testbed, two
    /// user agents, registration, calls, NOTIFY, INFO, keepalive, reconnect.
    Demo(cmd::demo::Args),
    /// Parse one SIP message and print its JSON form (or a summary).
    Parse(cmd::parse::Args),
    /// Open a link to a server and keep it alive, printing each link event
    /// (pings, pongs, deaths, reconnects) with its time since start.
    Connect(Box<cmd::connect::Args>),
    /// Run the embedded testbed on loopback (registrar with digest, relay,
    /// scripted peer, faults); prints its URL first, then one line per
    /// event, until Ctrl-C; faults switch at run time by commands on
    /// standard input.
    #[command(after_help = cmd::serve::COMMANDS_HELP)]
    Serve(Box<cmd::serve::Args>),
    /// Register with digest (and un-REGISTER; `--stay` keeps it).
    Register(Box<cmd::sip::RegisterArgs>),
    /// Place a call (registering first when a password is given), then hang up.
    Call(Box<cmd::sip::CallArgs>),
    /// Send one request (MESSAGE, INFO, NOTIFY, …) out of dialog.
    Send(Box<cmd::sip::SendArgs>),
    /// Send OPTIONS to the server (or `--target`).
    Options(Box<cmd::sip::OptionsArgs>),
    /// Register and print every SIP message as a ladder, answering calls
    /// (`--answer`, `--reject CODE`) and requests, until Ctrl-C.
    Listen(Box<cmd::listen::Args>),
}

/// Exit code for usage errors (bad flags, bad settings file).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let expanded = match settings::expand(std::env::args_os().collect(), &Cli::command()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sipws: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let cli = match Cli::try_parse_from(&expanded.args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if let (true, Some(file)) = (e.use_stderr(), &expanded.file) {
                eprintln!("note: settings were read from {}", file.display());
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE));
        }
    };
    log::init(cli.verbose);
    if let Some(file) = &expanded.file {
        tracing::debug!(file = %file.display(), "settings read");
    }
    match cli.command {
        Command::Demo(args) => cmd::demo::run(&args),
        Command::Parse(args) => cmd::parse::run(&args),
        Command::Connect(args) => cmd::connect::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Register(args) => cmd::sip::register(&args),
        Command::Call(args) => cmd::sip::call(&args),
        Command::Send(args) => cmd::sip::send(&args),
        Command::Options(args) => cmd::sip::options(&args),
        Command::Listen(args) => cmd::listen::run(&args),
    }
}
