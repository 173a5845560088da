//! `shop healthcheck`, run as the image's HEALTHCHECK runs it: the binary, configured by
//! environment only, judged by its exit status.

use std::{net::SocketAddr, process::Output, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// `shop healthcheck ARGS` with exactly the `SHOP_*` variables given: none inherited
/// from the test's environment, and no shop.toml in its working directory.
async fn healthcheck(args: &[&str], env: &[(&str, String)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_shop"));
    command
        .arg("healthcheck")
        .args(args)
        .current_dir(dir.path());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SHOP_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command.output().await.expect("shop healthcheck runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit 1 with one line, naming `expected`.
fn assert_unhealthy(output: &Output, expected: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(expected), "expected {expected:?} in {err}");
}

fn assert_healthy(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
}

/// A port nothing listens on: one the OS just handed out and took back.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Answers every connection on `host` with `response` once it has read the request;
/// `None` holds every connection open without a word.
async fn fake_service(host: &str, response: Option<&'static str>) -> SocketAddr {
    let listener = TcpListener::bind((host, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut silent = Vec::new();
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            match response {
                Some(response) => {
                    tokio::spawn(async move {
                        let mut request = Vec::new();
                        let mut buf = [0; 1024];
                        while !request.ends_with(b"\r\n\r\n") {
                            match socket.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => request.extend_from_slice(&buf[..n]),
                            }
                        }
                        assert!(request.starts_with(b"GET /healthz HTTP/1.1\r\n"));
                        let _ = socket.write_all(response.as_bytes()).await;
                    });
                }
                None => silent.push(socket),
            }
        }
    });
    addr
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";

#[tokio::test]
async fn a_running_system_is_healthy_and_each_service_is_asked_on_its_own_port() {
    let settings = service_kit::Settings::from_pairs([("storage", "memory")]).unwrap();
    let system = shop::start(settings, shop::Ports::Ephemeral).await.unwrap();
    let gateway = system.gateway_url().rsplit(':').next().unwrap().to_owned();
    let order = system
        .services()
        .find(|(name, _)| *name == "order")
        .map(|(_, addr)| addr.port().to_string())
        .unwrap();

    // The default is the gateway; SHOP_HOST=0.0.0.0, as in the image, is asked on
    // loopback.
    assert_healthy(&healthcheck(&[], &[("SHOP_GATEWAY_PORT", gateway.clone())]).await);
    let wildcard = [
        ("SHOP_GATEWAY_PORT", gateway.clone()),
        ("SHOP_HOST", "0.0.0.0".to_owned()),
    ];
    assert_healthy(&healthcheck(&[], &wildcard).await);

    // A service named by argument or by SHOP_HEALTHCHECK_SERVICE is asked on its own
    // port, not the gateway's: here the gateway's setting points at nothing.
    let only_order_live = [
        ("SHOP_GATEWAY_PORT", closed_port().to_string()),
        ("SHOP_ORDER_PORT", order.clone()),
    ];
    assert_healthy(&healthcheck(&["order"], &only_order_live).await);
    let mut by_env = only_order_live.to_vec();
    by_env.push(("SHOP_HEALTHCHECK_SERVICE", "order".to_owned()));
    assert_healthy(&healthcheck(&[], &by_env).await);
    assert_unhealthy(&healthcheck(&[], &only_order_live).await, "gateway at");

    system.stop().await;
    // The same settings once the system has stopped.
    assert_unhealthy(
        &healthcheck(&[], &[("SHOP_GATEWAY_PORT", gateway.clone())]).await,
        &format!("127.0.0.1:{gateway}/healthz did not answer"),
    );
}

#[tokio::test]
async fn a_closed_port_is_unhealthy() {
    let port = closed_port();
    let output = healthcheck(&["order"], &[("SHOP_ORDER_PORT", port.to_string())]).await;
    assert_unhealthy(
        &output,
        &format!("order at http://127.0.0.1:{port}/healthz"),
    );
    assert!(stderr(&output).contains("Connection refused"));
}

#[tokio::test]
async fn any_answer_but_200_is_unhealthy() {
    for (response, expected) in [
        (
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n",
            "answered 503",
        ),
        // Only /healthz's own answer counts, not where a redirect leads.
        (
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n",
            "answered 307",
        ),
    ] {
        let addr = fake_service("127.0.0.1", Some(response)).await;
        let output = healthcheck(&[], &[("SHOP_GATEWAY_PORT", addr.port().to_string())]).await;
        assert_unhealthy(&output, expected);
    }
}

#[tokio::test]
async fn a_service_that_does_not_answer_is_unhealthy_after_two_seconds() {
    let addr = fake_service("127.0.0.1", None).await;
    let started = std::time::Instant::now();
    let output = healthcheck(&[], &[("SHOP_GATEWAY_PORT", addr.port().to_string())]).await;
    let took = started.elapsed();
    assert_unhealthy(&output, "did not answer within 2 s");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_service_bound_to_one_address_is_asked_there() {
    // 127.0.0.2 is loopback too on Linux, but not where 127.0.0.1 would find it.
    let addr = fake_service("127.0.0.2", Some(OK)).await;
    let env = [
        ("SHOP_GATEWAY_PORT", addr.port().to_string()),
        ("SHOP_HOST", "127.0.0.2".to_owned()),
    ];
    assert_healthy(&healthcheck(&[], &env).await);
    assert_unhealthy(
        &healthcheck(&[], &env[..1]).await,
        &format!("127.0.0.1:{}", addr.port()),
    );
}

#[tokio::test]
async fn a_wrong_service_or_setting_is_unhealthy_not_a_usage_error() {
    // Docker reserves exit status 2, clap's for a usage error.
    assert_unhealthy(&healthcheck(&["ordr"], &[]).await, "no service `ordr`");
    let env = [("SHOP_HEALTHCHECK_SERVICE", "ordr".to_owned())];
    assert_unhealthy(&healthcheck(&[], &env).await, "no service `ordr`");
    let env = [("SHOP_ODRER_PORT", "9005".to_owned())];
    assert_unhealthy(&healthcheck(&[], &env).await, "SHOP_ODRER_PORT");
}
