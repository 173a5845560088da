//! Fault tests on a real broker: the services run as separate processes of the `shop`
//! binary, each with its own store file, on a tansu broker the test starts for itself
//! from `SHOP_TEST_TANSU` (`cargo xtask test` installs tansu and sets it; without it
//! every test here says SKIPPED). The broker-restart test also needs a PostgreSQL
//! database for tansu's durable storage at `SHOP_TEST_TANSU_POSTGRES`, which
//! `cargo xtask test` creates in a throwaway cluster.

mod broker;
mod broker_restart;
mod consumer_crash;
mod duplicates;
mod system;
