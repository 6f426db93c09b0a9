//! `cargo bench`: the same measurement as `hca bench atomic`.

fn main() -> anyhow::Result<()> {
    let seconds = std::env::var("HCA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    hca_cli::cli::bench::atomic(seconds)?;
    Ok(())
}
