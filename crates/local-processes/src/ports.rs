//! Loopback ports for processes that bind their own, and waiting until one listens.

use std::{
    io,
    net::{TcpListener, TcpStream},
    process::Child,
    thread::sleep,
    time::{Duration, Instant},
};

use crate::PATIENCE;

/// A block of `n` consecutive loopback ports that are free now. Taken below Linux's
/// ephemeral range (32768 and up), so an outgoing connection cannot grab one between
/// our check and the service's bind, as it can with a port the kernel handed out for
/// port 0. Where in the range to start depends on the process id, so that runs side by
/// side rarely try the same block first.
pub fn free_ports(n: u16) -> io::Result<Vec<u16>> {
    let start = 20_000 + (std::process::id() % 500) as u16 * 20;
    for base in (start..30_000)
        .step_by(20)
        .chain((20_000..start).step_by(20))
    {
        let held: Vec<TcpListener> = (base..base + n)
            .map_while(|p| TcpListener::bind(("127.0.0.1", p)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return Ok((base..base + n).collect());
        }
    }
    Err(io::Error::other(format!(
        "no block of {n} free ports between 20000 and 30000"
    )))
}

/// Waits (a minute at most) until `child`, called `what` in errors, listens on the
/// loopback `port`; an error if it exits first.
pub fn wait_for_port(port: u16, what: &str, child: &mut Child) -> io::Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait()? {
            return Err(io::Error::other(format!(
                "{what} exited before listening ({status})"
            )));
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{what} did not listen on port {port} within a minute"
            )));
        }
        sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{collections::HashSet, process::Command};

    use super::*;

    #[test]
    fn free_ports_are_consecutive_distinct_and_bindable() {
        let ports = free_ports(9).unwrap();
        assert_eq!(ports.len(), 9);
        assert_eq!(ports.iter().collect::<HashSet<_>>().len(), 9);
        assert!(ports.windows(2).all(|w| w[1] == w[0] + 1));
        assert!(ports.iter().all(|p| (20_000..30_000).contains(p)));
        let _held: Vec<TcpListener> = ports
            .iter()
            .map(|p| TcpListener::bind(("127.0.0.1", *p)).expect("the port is free"))
            .collect();
    }

    #[test]
    fn a_block_in_use_is_not_handed_out_again() {
        let first = free_ports(4).unwrap();
        let _held: Vec<TcpListener> = first
            .iter()
            .map(|p| TcpListener::bind(("127.0.0.1", *p)).unwrap())
            .collect();
        let second = free_ports(4).unwrap();
        assert!(second.iter().all(|p| !first.contains(p)));
    }

    #[test]
    fn a_process_that_exits_before_listening_is_reported() {
        let port = free_ports(1).unwrap()[0];
        let mut child = Command::new("true").spawn().unwrap();
        let error = wait_for_port(port, "true", &mut child).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("true exited before listening"),
            "{error}"
        );
    }
}
