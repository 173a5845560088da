//! A consumer or relay task that dies is never silent: the service stops being ready,
//! and the host learns of it (and exits non-zero, for the orchestrator to restart it).

use std::time::Duration;

use axum::http::Method;
use service_kit::{ServiceDef, ServiceRuntime, Wiring, openapi::ApiDoc};
use test_support::{TestTokens, call, memory_context};

const DOC: ApiDoc = ApiDoc {
    title: "dying",
    description: "A service whose background task dies at once.",
    tag: ("dying", "Nothing"),
};

/// Keeps state (so it has a relay and a store check too), and tracks a task that
/// panics: as a consumer whose handler hit a bug, or a relay that crashed.
static DYING: ServiceDef = ServiceDef::new("dying", 1, &[], wire_dying);

fn wire_dying(runtime: &mut ServiceRuntime) -> Wiring<'_> {
    Box::pin(async move {
        runtime.track(tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            panic!("the task hit a bug");
        }));
        Ok(DOC.api((), []))
    })
}

#[tokio::test]
async fn a_vital_task_that_dies_fails_readiness_and_tells_the_host() {
    let tokens = TestTokens::new();
    let ctx = memory_context(&tokens);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (runtime, api) = DYING.assemble(ctx.clone()).await.unwrap();
    let router = runtime.router(api);

    let running = DYING.start(ctx, listener).await.unwrap();
    let what = tokio::time::timeout(Duration::from_secs(10), running.failed())
        .await
        .expect("the host hears that a vital task stopped");
    assert!(what.contains("dying background task"), "{what}");
    assert!(what.contains("the task hit a bug"), "{what}");

    let ready = call(Method::GET, "/readyz").send(&router).await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(
        ready.body.to_string().contains("the task hit a bug"),
        "{}",
        ready.body
    );
}

#[tokio::test]
async fn a_service_whose_tasks_run_is_ready_and_stopping_it_is_no_failure() {
    static QUIET: ServiceDef = ServiceDef::new("quiet", 1, &[], |_| {
        Box::pin(async move { Ok(DOC.api((), [])) })
    });
    let tokens = TestTokens::new();
    let ctx = memory_context(&tokens);
    let shutdown = ctx.shutdown.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = QUIET.start(ctx, listener).await.unwrap();
    shutdown.cancel();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), running.failed())
            .await
            .is_err(),
        "a stop is not a failure"
    );
    running.stopped().await;
}
