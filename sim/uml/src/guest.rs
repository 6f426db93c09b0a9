//! What runs inside each guest: a script the run writes into a host
//! directory the guest's init mounts (`hca_run=DIR` on the kernel command
//! line, `scripts/build-uml-kernel.sh`), and what it reports back on the
//! console.

/// Where the guest's script prints the port's attributes:
/// `hca-guest: port1 <attribute> <value>`.
pub const PORT_TAG: &str = "hca-guest: port1 ";

/// Where the guest's script prints each kernel message of warning
/// severity or worse: `hca-guest: kmsg <level> <message>` (the console
/// shows every level alike under `ignore_loglevel`).
pub const KMSG_TAG: &str = "hca-guest: kmsg ";

/// The default script: wait (up to `wait_s` seconds) for port 1 of
/// `mlx4_0` to come ACTIVE, then print its state, physical state, LID and
/// SM LID as the kernel's sysfs has them, and every kernel message of
/// warning severity or worse with its level.
pub fn wait_for_active(wait_s: u32) -> String {
    format!(
        r#"#!/bin/sh
# Written by hca-uml: wait for mlx4_0's port 1 to come ACTIVE through the
# fabric's subnet manager, then say what the kernel has of it.
p=/sys/class/infiniband/mlx4_0/ports/1
n=0
while [ $n -lt {ticks} ]; do
    case "$(cat $p/state 2>/dev/null)" in *ACTIVE*) break ;; esac
    usleep 100000
    n=$((n + 1))
done
for a in state phys_state lid sm_lid; do
    echo "{tag}$a $(cat $p/$a 2>/dev/null)"
done
# Raw records start <level> (kernel facility 0: 0 emerg ... 4 warning).
dmesg -r | sed -n 's/^<\([0-4]\)>\(.*\)/{kmsg}\1 \2/p'
"#,
        ticks = wait_s * 10,
        tag = PORT_TAG,
        kmsg = KMSG_TAG,
    )
}

/// Port 1 as a guest's sysfs showed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestPort {
    /// `state`: "4: ACTIVE".
    pub state: String,
    /// `phys_state`: "5: LinkUp".
    pub phys_state: String,
    pub lid: Option<u16>,
    pub sm_lid: Option<u16>,
}

impl GuestPort {
    /// The port from a guest's log, if the script reported it.
    pub fn from_log(log: &[String]) -> Option<GuestPort> {
        let mut p = GuestPort::default();
        let mut seen = false;
        for l in log {
            let Some(at) = l.find(PORT_TAG) else { continue };
            let rest = &l[at + PORT_TAG.len()..];
            let (attr, value) = rest.split_once(' ').unwrap_or((rest, ""));
            let value = value.trim();
            let hex = || u16::from_str_radix(value.trim_start_matches("0x"), 16).ok();
            match attr {
                "state" => p.state = value.to_string(),
                "phys_state" => p.phys_state = value.to_string(),
                "lid" => p.lid = hex(),
                "sm_lid" => p.sm_lid = hex(),
                _ => continue,
            }
            seen = true;
        }
        seen.then_some(p)
    }

    pub fn active(&self) -> bool {
        self.state.ends_with("ACTIVE")
    }
}

/// The kernel messages of warning severity or worse a guest's script
/// reported: (level, message).
pub fn severe_messages(log: &[String]) -> Vec<(u8, String)> {
    log.iter()
        .filter_map(|l| {
            let rest = &l[l.find(KMSG_TAG)? + KMSG_TAG.len()..];
            let (level, msg) = rest.split_once(' ')?;
            Some((level.parse().ok()?, msg.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_script_prints() {
        let log: Vec<String> = [
            "random line",
            "hca-guest: port1 state 4: ACTIVE",
            "hca-guest: port1 phys_state 5: LinkUp",
            "hca-guest: port1 lid 0x2",
            "hca-guest: port1 sm_lid 0x1",
        ]
        .map(String::from)
        .to_vec();
        let p = GuestPort::from_log(&log).unwrap();
        assert!(p.active());
        assert_eq!((p.lid, p.sm_lid), (Some(2), Some(1)));
        assert_eq!(p.phys_state, "5: LinkUp");
        assert_eq!(GuestPort::from_log(&log[..1]), None);
        let down = ["hca-guest: port1 state 1: DOWN".to_string()];
        assert!(!GuestPort::from_log(&down).unwrap().active());
        let k = [
            "hca-guest: kmsg 3 mlx4_core 0000:00:00.0: boom".to_string(),
            "hca-guest: kmsg x not a level".to_string(),
        ];
        assert_eq!(
            severe_messages(&k),
            vec![(3, "mlx4_core 0000:00:00.0: boom".to_string())]
        );
    }
}
