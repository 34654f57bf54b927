//! Small helpers shared by the benchmark commands (`src/bin/bench_*.rs`).

/// The value of `--name N` on the command line, or `default`.
pub fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// Resident memory of this process now, in MiB (Linux `VmRSS`).
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The `p`-th percentile (nearest rank) of ascending `sorted`; 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The value of `--name A,B,C` on the command line (positive integers), or `default`.
/// `--name ""` or `--name 0` gives an empty list.
pub fn list_arg(args: &[String], name: &str, default: &[usize]) -> Vec<usize> {
    args.windows(2)
        .find(|w| w[0] == name)
        .map(|w| {
            w[1].split(',')
                .filter_map(|s| s.trim().parse().ok())
                .filter(|&n| n > 0)
                .collect()
        })
        .unwrap_or_else(|| default.to_vec())
}

/// "N cores, M GiB RAM" of this machine (Linux `/proc/meminfo`).
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let ram_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cores} cores, {ram_gib:.1} GiB RAM")
}

/// A benchmark's worker: the harness's configuration, on a thread and runtime of its own (two
/// threads, like the harness's), with `extra` workflows registered beside the system's.
pub struct BenchWorker {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl BenchWorker {
    /// Stops the worker and waits for its thread.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

pub fn start_worker(
    env: &crate::TestEnv,
    extra: impl FnOnce(
        &mut temporalio_sdk::WorkerOptions,
    ) -> Result<(), temporalio_sdk::workflows::WorkflowRegistrationError>
    + Send
    + 'static,
) -> BenchWorker {
    let config = env.worker_config();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("worker runtime: {e}");
                return;
            }
        };
        rt.block_on(async {
            let run = psa_worker::run_worker_with(
                config,
                async {
                    let _ = stopped.await;
                },
                extra,
            );
            if let Err(e) = run.await {
                eprintln!("benchmark worker failed: {e}");
            }
        });
        rt.shutdown_background();
    });
    BenchWorker { stop, thread }
}
