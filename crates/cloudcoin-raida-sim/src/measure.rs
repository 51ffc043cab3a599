//! What the benchmarks that run against the simulator report beside their figures: the
//! machine's load, the process's CPU time, medians and milliseconds.

use std::time::Duration;

/// The 1-minute load average, as `/proc/loadavg` gives it (`?` where there is none): on a
/// shared machine the figures mean little without it.
///
/// ```
/// let load = cloudcoin_raida_sim::measure::load();
/// assert!(load == "?" || load.parse::<f64>().is_ok());
/// ```
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// The process's CPU time so far (user + system), from `/proc/self/stat` where there is one
/// (in clock ticks of 10 ms).
///
/// ```
/// if let Some(cpu) = cloudcoin_raida_sim::measure::cpu_time() {
///     assert_eq!(cpu.as_millis() % 10, 0);
/// }
/// ```
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every architecture it runs on here.
    Some(Duration::from_millis(ticks * 10))
}

/// The median of `v` (the upper one of an even count); `v` must not be empty.
///
/// ```
/// use std::time::Duration;
/// let ms = Duration::from_millis;
/// assert_eq!(cloudcoin_raida_sim::measure::median(vec![ms(3), ms(1), ms(2)]), ms(2));
/// ```
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `d` in milliseconds with one decimal, e.g. `"12.5 ms"`.
///
/// ```
/// let d = std::time::Duration::from_micros(12_500);
/// assert_eq!(cloudcoin_raida_sim::measure::ms(d), "12.5 ms");
/// ```
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
