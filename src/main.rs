//! `bedrock`: parse the flags, set up logging, run the node.

use bedrock_pg::config::Config;

fn main() {
    let config = match Config::from_args(std::env::args()) {
        Ok(c) => c,
        Err(msg) => {
            // clap's --help / --version text comes back here too.
            let is_info = msg.starts_with("Usage")
                || msg.starts_with("bedrock-pg")
                || msg.starts_with("bedrock ");
            if is_info {
                println!("{msg}");
                std::process::exit(0);
            }
            eprintln!("bedrock: {msg}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::thread::available_parallelism()
                .map(|n| n.get().max(2))
                .unwrap_or(2),
        )
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bedrock: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(msg) = rt.block_on(bedrock_pg::node::run(config)) {
        eprintln!("bedrock: {msg}");
        std::process::exit(1);
    }
}
