//! `e2e-containers`: what the distributed end-to-end pass needs where a Docker engine
//! runs, started with testcontainers: a MongoDB replica set (the mongo image; the
//! store's batches are transactions) and an Apache Kafka broker (apache/kafka).
//!
//! It prints `mongodb=<uri>` and `kafka=<host:port>` once both accept connections,
//! holds them until its standard input closes (the caller finished, or died), and
//! then removes them. `cargo xtask test` runs it; it is built only with the
//! `containers` feature, so machines without Docker never compile testcontainers' Kafka
//! module for nothing.

use std::io::Write;

use anyhow::Context;
use testcontainers_modules::{
    kafka::apache::{KAFKA_PORT, Kafka},
    mongo::Mongo,
    testcontainers::runners::AsyncRunner,
};
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mongo = Mongo::repl_set()
        .start()
        .await
        .context("starting a MongoDB replica set container (mongo image)")?;
    let kafka = match Kafka::default().with_jvm_image().start().await {
        Ok(kafka) => kafka,
        Err(e) => {
            let _ = mongo.rm().await;
            return Err(e).context("starting an Apache Kafka container (apache/kafka image)");
        }
    };
    let mongo_port = mongo.get_host_port_ipv4(27017).await?;
    let kafka_port = kafka.get_host_port_ipv4(KAFKA_PORT).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "mongodb=mongodb://127.0.0.1:{mongo_port}/?directConnection=true"
        )?;
        writeln!(out, "kafka=127.0.0.1:{kafka_port}")?;
        out.flush()?;
    }
    // Held until the caller closes our stdin.
    let mut rest = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut rest).await;
    let (kafka, mongo) = tokio::join!(kafka.rm(), mongo.rm());
    kafka.context("removing the Kafka container")?;
    mongo.context("removing the MongoDB container")?;
    Ok(())
}
