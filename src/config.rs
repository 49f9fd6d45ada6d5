//! Command-line flags (DESIGN.md §1): Bedrock's single-dash spellings (`-nodeName`) and GNU long
//! forms (`--node-name`), parsed with clap, then validated into a `Config`. Flags whose feature is
//! not built yet refuse to start with one line naming the flag — never silently ignored.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::Parser;

/// SQLite `PRAGMA synchronous` levels a user may pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

impl Synchronous {
    pub fn pragma(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

/// The raw flags, as clap sees them after single-dash spellings are normalised.
#[derive(Debug, Parser)]
#[command(
    name = "bedrock",
    version,
    about = "bedrock-pg: a replicated SQL database on SQLite that speaks the PostgreSQL wire protocol"
)]
struct Flags {
    /// This node's name; peers refer to it by this name (default: the host name).
    #[arg(long)]
    node_name: Option<String>,
    /// SQLite database file.
    #[arg(long, default_value = "bedrock.db")]
    db: PathBuf,
    /// Start from an empty database (removes the file and its -wal/-shm).
    #[arg(long)]
    clean: bool,
    /// Election priority; unique per voting node; 0 = permafollower.
    #[arg(long, default_value_t = 100)]
    priority: u32,
    /// PostgreSQL wire listener for clients.
    #[arg(long, default_value = "127.0.0.1:5432")]
    server_host: String,
    /// Listener for peers.
    #[arg(long, default_value = "127.0.0.1:8889")]
    node_host: String,
    /// HTTP status listener, or `off` (the HTTP endpoints are not built yet).
    #[arg(long, default_value = "off")]
    http_host: String,
    /// Peers: host:port[?nodeName=N][&permafollower=true], comma separated.
    #[arg(long, default_value = "")]
    peer_list: String,
    /// Most commits the leader may hold that a majority has not approved.
    #[arg(long, default_value_t = 100)]
    quorum_checkpoint: u64,
    /// Commits kept in the journal for catch-up.
    #[arg(long, default_value_t = 1_000_000)]
    max_journal_size: u64,
    /// Shared secret peers prove at login.
    #[arg(long)]
    cluster_secret: Option<String>,
    /// File holding the shared cluster secret.
    #[arg(long)]
    cluster_secret_file: Option<PathBuf>,
    /// Detach and run in the background.
    #[arg(long)]
    fork: bool,
    /// Where `-fork` writes the process id.
    #[arg(long)]
    pidfile: Option<PathBuf>,
    /// SQLite `PRAGMA synchronous`; `full` makes an acknowledged commit survive power loss.
    #[arg(long, value_enum, default_value = "full", ignore_case = true)]
    synchronous: Synchronous,
    /// Password clients must prove with SCRAM-SHA-256.
    #[arg(long)]
    password: Option<String>,
    /// File holding the client password.
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// TLS certificate for client connections.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// TLS key for client connections.
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// TLS certificate for peer connections.
    #[arg(long)]
    node_tls_cert: Option<PathBuf>,
    /// TLS key for peer connections.
    #[arg(long)]
    node_tls_key: Option<PathBuf>,
    /// CA that signs peer certificates.
    #[arg(long)]
    node_tls_ca: Option<PathBuf>,
}

/// Bedrock's camelCase flag names and their GNU long forms.
const SPELLINGS: &[(&str, &str)] = &[
    ("nodeName", "node-name"),
    ("db", "db"),
    ("clean", "clean"),
    ("priority", "priority"),
    ("serverHost", "server-host"),
    ("nodeHost", "node-host"),
    ("httpHost", "http-host"),
    ("peerList", "peer-list"),
    ("quorumCheckpoint", "quorum-checkpoint"),
    ("maxJournalSize", "max-journal-size"),
    ("clusterSecret", "cluster-secret"),
    ("clusterSecretFile", "cluster-secret-file"),
    ("fork", "fork"),
    ("pidfile", "pidfile"),
    ("synchronous", "synchronous"),
    ("password", "password"),
    ("passwordFile", "password-file"),
    ("tlsCert", "tls-cert"),
    ("tlsKey", "tls-key"),
    ("nodeTlsCert", "node-tls-cert"),
    ("nodeTlsKey", "node-tls-key"),
    ("nodeTlsCa", "node-tls-ca"),
];

/// Validated configuration of one node.
#[derive(Debug, Clone)]
pub struct Config {
    pub node_name: String,
    pub db: PathBuf,
    pub clean: bool,
    pub priority: u32,
    pub server_host: SocketAddr,
    pub node_host: SocketAddr,
    pub quorum_checkpoint: u64,
    pub max_journal_size: u64,
    pub synchronous: Synchronous,
}

impl Default for Config {
    fn default() -> Self {
        // invariant: parsing the empty argument list only uses the defaults above.
        Config::from_args(["bedrock"]).expect("defaults are valid")
    }
}

/// Rewrite Bedrock's `-camelCase` spellings (also `-flag=value`) into clap's `--kebab-case`.
fn normalise(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    for (i, arg) in args.into_iter().enumerate() {
        let single_dash = i > 0 && arg.starts_with('-') && !arg.starts_with("--") && arg.len() > 2;
        if !single_dash {
            out.push(arg);
            continue;
        }
        let body = &arg[1..];
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let long = SPELLINGS
            .iter()
            .find(|(camel, kebab)| camel.eq_ignore_ascii_case(name) || *kebab == name)
            .map(|(_, kebab)| *kebab)
            .ok_or_else(|| format!("unknown flag -{name} (see --help)"))?;
        match value {
            Some(v) => out.push(format!("--{long}={v}")),
            None => out.push(format!("--{long}")),
        }
    }
    Ok(out)
}

fn resolve(flag: &str, host: &str) -> Result<SocketAddr, String> {
    host.to_socket_addrs()
        .map_err(|e| format!("-{flag} {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("-{flag} {host}: no address"))
}

fn not_built(flag: &str, what: &str) -> String {
    format!("-{flag}: {what} is not built yet in this version of bedrock-pg; remove the flag")
}

impl Config {
    /// Parse and validate a full argument list (program name first). Errors are one line that
    /// names the offending flag; `--help` and `--version` come back as their clap text.
    pub fn from_args<I, S>(args: I) -> Result<Config, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args = normalise(args.into_iter().map(Into::into).collect())?;
        let flags =
            Flags::try_parse_from(args).map_err(|e| e.to_string().trim_end().to_string())?;
        Config::validate(flags)
    }

    fn validate(f: Flags) -> Result<Config, String> {
        if !f.peer_list.trim().is_empty() {
            return Err(not_built(
                "peerList",
                "clustering (peers, election, replication)",
            ));
        }
        if f.http_host != "off" {
            return Err(not_built("httpHost", "the HTTP status endpoint"));
        }
        if f.cluster_secret.is_some() {
            return Err(not_built("clusterSecret", "peer authentication"));
        }
        if f.cluster_secret_file.is_some() {
            return Err(not_built("clusterSecretFile", "peer authentication"));
        }
        if f.fork {
            return Err(not_built("fork", "running in the background"));
        }
        if f.pidfile.is_some() {
            return Err(not_built("pidfile", "running in the background"));
        }
        if f.password.is_some() {
            return Err(not_built("password", "password authentication"));
        }
        if f.password_file.is_some() {
            return Err(not_built("passwordFile", "password authentication"));
        }
        for (flag, v) in [
            ("tlsCert", &f.tls_cert),
            ("tlsKey", &f.tls_key),
            ("nodeTlsCert", &f.node_tls_cert),
            ("nodeTlsKey", &f.node_tls_key),
            ("nodeTlsCa", &f.node_tls_ca),
        ] {
            if v.is_some() {
                return Err(not_built(flag, "TLS"));
            }
        }
        if f.priority == 0 {
            return Err(
                "-priority 0 makes a permafollower, which needs a cluster (-peerList); a single node must lead"
                    .to_string(),
            );
        }
        if f.quorum_checkpoint == 0 {
            return Err("-quorumCheckpoint must be at least 1".to_string());
        }
        if f.max_journal_size == 0 {
            return Err("-maxJournalSize must be at least 1".to_string());
        }
        if f.db.as_os_str().is_empty() {
            return Err("-db: the database file name is empty".to_string());
        }
        let node_name = match f.node_name {
            Some(n) if n.trim().is_empty() => return Err("-nodeName is empty".to_string()),
            Some(n) => n,
            None => hostname(),
        };
        Ok(Config {
            node_name,
            db: f.db,
            clean: f.clean,
            priority: f.priority,
            server_host: resolve("serverHost", &f.server_host)?,
            node_host: resolve("nodeHost", &f.node_host)?,
            quorum_checkpoint: f.quorum_checkpoint,
            max_journal_size: f.max_journal_size,
            synchronous: f.synchronous,
        })
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::from_args(["bedrock"]).unwrap();
        assert_eq!(c.db, PathBuf::from("bedrock.db"));
        assert_eq!(c.server_host.to_string(), "127.0.0.1:5432");
        assert_eq!(c.priority, 100);
        assert_eq!(c.synchronous, Synchronous::Full);
        assert!(!c.clean);
    }

    #[test]
    fn both_spellings() {
        let a = Config::from_args([
            "bedrock",
            "-clean",
            "-nodeName",
            "node0",
            "-db",
            "x.db",
            "-priority",
            "7",
            "-serverHost",
            "127.0.0.1:6000",
            "-synchronous=normal",
        ])
        .unwrap();
        let b = Config::from_args([
            "bedrock",
            "--clean",
            "--node-name",
            "node0",
            "--db",
            "x.db",
            "--priority",
            "7",
            "--server-host",
            "127.0.0.1:6000",
            "--synchronous",
            "NORMAL",
        ])
        .unwrap();
        for c in [a, b] {
            assert!(c.clean);
            assert_eq!(c.node_name, "node0");
            assert_eq!(c.db, PathBuf::from("x.db"));
            assert_eq!(c.priority, 7);
            assert_eq!(c.server_host.port(), 6000);
            assert_eq!(c.synchronous, Synchronous::Normal);
        }
    }

    #[test]
    fn unbuilt_features_refuse() {
        for args in [
            vec!["bedrock", "-peerList", "node1:9001"],
            vec!["bedrock", "-httpHost", "127.0.0.1:8080"],
            vec!["bedrock", "--password", "x"],
            vec!["bedrock", "-tlsCert", "c.pem"],
            vec!["bedrock", "-clusterSecret", "s"],
            vec!["bedrock", "-fork"],
        ] {
            let err = Config::from_args(args.clone()).unwrap_err();
            assert!(err.contains("not built"), "{args:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn bad_values_name_the_flag() {
        let err = Config::from_args(["bedrock", "-serverHost", "nonsense"]).unwrap_err();
        assert!(err.contains("serverHost"), "{err}");
        let err = Config::from_args(["bedrock", "-bogus"]).unwrap_err();
        assert!(err.contains("-bogus"), "{err}");
        let err = Config::from_args(["bedrock", "-priority", "x"]).unwrap_err();
        assert!(err.contains("priority"), "{err}");
    }
}
