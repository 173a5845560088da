//! A throwaway PostgreSQL cluster for tansu's durable storage, which the broker-restart
//! fault test needs: PostgreSQL is found where the distribution put it, never installed.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    thread::sleep,
    time::Duration,
};

use anyhow::Context;
use local_processes::{Signal, free_ports, stop, wait_for_port};

use crate::cargo::{check, workspace_root};

/// A throwaway PostgreSQL cluster holding tansu's durable storage for the broker-restart
/// fault test: initdb into a temporary directory, started on a free loopback port with
/// trust authentication, the tables tansu needs created from `tansu-postgres.sql`, and
/// stopped and deleted when dropped.
pub struct Postgres {
    dir: PathBuf,
    /// The server, a direct child in our process group: Ctrl-C reaches it as it
    /// reaches the broker (pg_ctl would detach it).
    server: Option<Child>,
}

impl Postgres {
    /// The cluster and its URL, or the reason there is none (no PostgreSQL here).
    pub fn start() -> anyhow::Result<Result<(Self, String), String>> {
        let Some(bin) = postgres_bin() else {
            return Ok(Err(
                "no PostgreSQL server binaries (initdb, postgres) on PATH or under \
                 /usr/lib/postgresql; apt-get install postgresql"
                    .into(),
            ));
        };
        // Debian's server directory has psql too; elsewhere it may only be on PATH.
        let Some(psql) = Some(bin.join("psql"))
            .filter(|p| p.is_file())
            .or_else(|| which("psql"))
        else {
            return Ok(Err(
                "no psql beside initdb or on PATH; apt-get install postgresql-client".into(),
            ));
        };
        // initdb and postgres refuse to run as root: then they run as `postgres`.
        let owner = if nix::unistd::geteuid().is_root() {
            match nix::unistd::User::from_name("postgres")? {
                Some(user) => Some((user.uid, user.gid)),
                None => {
                    return Ok(Err(
                        "running as root and there is no postgres user to own a cluster".into(),
                    ));
                }
            }
        } else {
            None
        };
        let as_owner = |program: &str| {
            let mut command = Command::new(bin.join(program));
            if let Some((uid, gid)) = owner {
                use std::os::unix::process::CommandExt;
                command.uid(uid.as_raw()).gid(gid.as_raw());
            }
            command
        };
        // A fresh directory only we (then postgres) can enter: creating it fails rather
        // than adopt one somebody else put there.
        let dir = std::env::temp_dir().join(format!("shop-tansu-pg-{}", random_hex(6)?));
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        }
        let mut cluster = Self { dir, server: None };
        // Local users other than us must not get a superuser on the loopback port: the
        // socket lives in our 0700 directory, TCP needs the password.
        let password = random_hex(16)?;
        let pwfile = cluster.dir.join("pwfile");
        std::fs::write(&pwfile, &password)?;
        if let Some((uid, gid)) = owner {
            for path in [&cluster.dir, &pwfile] {
                std::os::unix::fs::chown(path, Some(uid.as_raw()), Some(gid.as_raw()))?;
            }
        }
        let data = cluster.dir.join("data");
        let status = as_owner("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth-local=trust"])
            .args(["--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(Stdio::null())
            .status()?;
        check("initdb", status)?;
        let port = free_ports(1)?[0];
        let log = std::fs::File::create(cluster.dir.join("log"))?;
        let server = cluster.server.insert(
            as_owner("postgres")
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-k"])
                .arg(&cluster.dir)
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .context("starting postgres")?,
        );
        wait_for_port(port, "postgres", server)?;
        // Listening comes a moment before accepting; psql is retried over that moment.
        let schema = workspace_root().join("xtask/tansu-postgres.sql");
        let mut tries = 0;
        loop {
            let status = Command::new(&psql)
                .args(["-X", "-h", "127.0.0.1", "-p", &port.to_string()])
                .args(["-U", "postgres", "-d", "postgres"])
                .args(["-v", "ON_ERROR_STOP=1", "-q", "-f"])
                .arg(&schema)
                .env("PGPASSWORD", &password)
                .stdout(Stdio::null())
                .stderr(if tries < 20 {
                    Stdio::null()
                } else {
                    Stdio::inherit()
                })
                .status()?;
            if status.success() {
                break;
            }
            tries += 1;
            if tries > 20 {
                check("creating tansu's tables (psql)", status)?;
            }
            sleep(Duration::from_millis(250));
        }
        eprintln!("xtask: PostgreSQL for tansu listening on 127.0.0.1:{port}");
        Ok(Ok((
            cluster,
            format!("postgres://postgres:{password}@127.0.0.1:{port}/postgres"),
        )))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT is PostgreSQL's fast shutdown; nothing here needs keeping.
            stop(&mut server, Signal::SIGINT, Duration::from_secs(20));
            eprintln!("xtask: stopped PostgreSQL");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `bytes` random bytes from the kernel, in hex.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The directory of initdb and postgres: Debian's versioned directory (PATH often
/// holds only symlinks to it), or PATH.
fn postgres_bin() -> Option<PathBuf> {
    let on_path = which("initdb").and_then(|initdb| {
        let bin = std::fs::canonicalize(initdb).ok()?.parent()?.to_path_buf();
        bin.join("postgres").is_file().then_some(bin)
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    versions.sort();
    versions.pop()
}
