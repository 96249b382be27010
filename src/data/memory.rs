//! How much memory this process may still take: the kernel's estimate of
//! what can be allocated without swapping (`MemAvailable`), lowered by the
//! limit of the control group the process runs in (a container's), so that
//! a dataset too large to hold is refused with a message rather than
//! killed by the kernel or aborted by the allocator.

use std::fs;

/// Bytes available to this process, or `None` where the system does not say.
pub fn available() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok();
    let system = meminfo.as_deref().and_then(|text| kib_field(text, "MemAvailable:"));
    [system, cgroup_room()].into_iter().flatten().min()
}

/// `field`'s value in a `/proc/meminfo`-style text, in bytes.
fn kib_field(text: &str, field: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// The least room (limit − usage) of this process's control group and its
/// ancestors (cgroup v2), or of its memory controller (v1).
fn cgroup_room() -> Option<u64> {
    let groups = fs::read_to_string("/proc/self/cgroup").ok()?;
    let number = |path: String| fs::read_to_string(path).ok()?.trim().parse::<u64>().ok();
    let mut least: Option<u64> = None;
    for line in groups.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (root, limit, usage) = match controllers {
            "" => ("/sys/fs/cgroup", "memory.max", "memory.current"),
            c if c.split(',').any(|c| c == "memory") => {
                ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes")
            }
            _ => continue,
        };
        let mut dir = path.trim_end_matches('/').to_string();
        loop {
            // "max" (v2) does not parse: no limit at this level.
            if let Some(max) = number(format!("{root}{dir}/{limit}")) {
                let used = number(format!("{root}{dir}/{usage}")).unwrap_or(0);
                let room = max.saturating_sub(used);
                least = Some(least.map_or(room, |l| l.min(room)));
            }
            match dir.rfind('/') {
                Some(at) => dir.truncate(at),
                None => break,
            }
        }
    }
    least
}

/// Bytes as a person reads them: `450 GB`, `1.5 MB`.
pub fn bytes_text(bytes: u64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} bytes"),
        _ => format!("{} {}", crate::format::sig(value, 3), units[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_meminfo_and_prints_sizes() {
        let text = "MemTotal:       24000000 kB\nMemAvailable:   22000000 kB\n";
        assert_eq!(kib_field(text, "MemAvailable:"), Some(22_000_000 * 1024));
        assert_eq!(kib_field(text, "Nope:"), None);
        assert_eq!(bytes_text(12), "12 bytes");
        assert_eq!(bytes_text(450_000_000_000), "450 GB");
        #[cfg(target_os = "linux")]
        assert!(available().is_some_and(|b| b > 0));
    }
}
