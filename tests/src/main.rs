//! `rostro-mock`: runs the Rostro mock server until killed. The first line
//! on stdout is the base URL.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use clap::Parser;
use rostro_mock::{ChatScenario, RateLimit, RostroMock};

/// Reference mock server for the Rostro API.
#[derive(Debug, Parser)]
#[command(name = "rostro-mock", version, about)]
struct Args {
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Seed for the catalog and generated ids.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Delay added before every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// A valid API key (repeatable; default: any non-empty key is valid).
    #[arg(long = "key")]
    keys: Vec<String>,
    /// Require a key on every operation, not only where the spec demands one.
    #[arg(long)]
    require_auth: bool,
    /// Checks after which a generation is done.
    #[arg(long, default_value_t = 2)]
    imagine_checks: u32,
    /// Default chat streaming scenario (normal, keepalive, error-mid-stream,
    /// no-done, slow, drop); repeatable.
    #[arg(long = "scenario")]
    scenarios: Vec<ChatScenario>,
    /// Play a Routstr node (`/v1/balance/*`, `/v1/wallet/*`, `/lightning/*`,
    /// X-Cashu payments) instead of the Rostro API.
    #[arg(long)]
    routstr: bool,
    /// Routstr mode: status checks after which an invoice is paid.
    #[arg(long, default_value_t = 2)]
    invoice_checks: u32,
    /// Routstr mode: the first N refunds of each key answer 425.
    #[arg(long, default_value_t = 0)]
    refund_pending: u32,
    /// Keep state (generations, uploads, lore, personas, balances) in this
    /// directory, shared with `rostro --mock` and other mocks serving it.
    #[arg(long, env = "ROSTRO_MOCK_DIR")]
    state_dir: Option<std::path::PathBuf>,
    /// Answer 429 beyond this many requests per window, e.g. `100/s`, `6000/min`
    /// (X-RateLimit-* headers are on every response either way).
    #[arg(long, env = "ROSTRO_MOCK_RATE_LIMIT", value_name = "N/PERIOD")]
    rate_limit: Option<RateLimit>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut builder = RostroMock::builder()
        .port(args.port)
        .host(args.host)
        .seed(args.seed)
        .latency(Duration::from_millis(args.latency_ms))
        .require_auth_everywhere(args.require_auth)
        .imagine_checks(args.imagine_checks);
    if let Some(dir) = args.state_dir {
        builder = builder.state_dir(dir);
    }
    if let Some(limit) = args.rate_limit {
        builder = builder.rate_limit(limit);
    }
    if !args.keys.is_empty() {
        builder = builder.valid_keys(args.keys);
    }
    for s in args.scenarios {
        builder = builder.chat_scenario(s);
    }
    let (mock, node) = if args.routstr {
        let node = builder
            .routstr()
            .invoice_checks(args.invoice_checks)
            .refund_pending(args.refund_pending)
            .try_start()
            .await?;
        (None, Some(node))
    } else {
        (Some(builder.try_start().await?), None)
    };
    let uri = match (&mock, &node) {
        (Some(m), _) => m.uri(),
        (_, Some(n)) => n.uri(),
        _ => unreachable!("one of them is started"),
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{uri}")?;
        out.flush()?;
    }
    shutdown_signal().await;
    drop((mock, node));
    Ok(())
}

#[cfg(unix)]
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
