//! What the subnet manager sets on a port through the SMA (IBTA vol. 1,
//! 14.2.5.6 PortInfo): its LID and LMC, the master SM's LID and SL, the
//! subnet timeout, and the logical port state it walks from INIT through
//! ARMED to ACTIVE. The physical link comes from the fabric: a port with
//! no link attached is DOWN whatever the SM says, and one whose link
//! comes up after INIT_PORT trains to INIT.
//!
//! A change the driver must hear of is an event: ACTIVE and a link going
//! down post mlx4's PORT_CHANGE EQE (subtypes 4 and 1). mlx4 leaves
//! PORT_MNG_CHG_EV clear, so the LID and SM changes it learns by snooping
//! its own MAD replies; the firmware posts nothing for them.

use hca_abi::cmd::mad::{PortInfo, STATUS_INVALID_VALUE};

/// Logical port states (PortInfo:PortState).
pub mod state {
    pub const NOP: u8 = 0;
    pub const DOWN: u8 = 1;
    pub const INIT: u8 = 2;
    pub const ARMED: u8 = 3;
    pub const ACTIVE: u8 = 4;

    pub fn name(s: u8) -> &'static str {
        match s {
            DOWN => "DOWN",
            INIT => "INIT",
            ARMED => "ARMED",
            ACTIVE => "ACTIVE",
            _ => "NOP",
        }
    }
}

/// Physical port states (PortInfo:PortPhysicalState).
pub mod phys {
    pub const POLLING: u8 = 2;
    pub const LINK_UP: u8 = 5;
}

/// mlx4's PORT_CHANGE subtypes.
pub mod port_change {
    pub const DOWN: u8 = 1;
    pub const ACTIVE: u8 = 4;
}

/// One port as the subnet manager sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortSma {
    /// The link is up and INIT_PORT was done: the port has trained.
    pub trained: bool,
    /// The logical state the SM took the port to (INIT when the link came
    /// up; reading as DOWN while there is no link or INIT_PORT).
    pub state: u8,
    pub lid: u16,
    pub lmc: u8,
    pub sm_lid: u16,
    pub sm_sl: u8,
    pub subnet_timeout: u8,
    pub gid_prefix: u64,
}

impl PortSma {
    /// The state PortInfo reports: DOWN without a trained link.
    pub fn reported(&self) -> u8 {
        if self.trained {
            self.state.max(state::INIT)
        } else {
            state::DOWN
        }
    }

    /// Whether data packets may flow (only SMPs on VL15 pass before).
    pub fn active(&self) -> bool {
        self.trained && self.state == state::ACTIVE
    }

    /// The link trained or went down: a port without a link forgets what
    /// the SM set (it must be swept again). Returns the PORT_CHANGE subtype
    /// to post, if any.
    pub fn link(&mut self, trained: bool) -> Option<u8> {
        if trained == self.trained {
            return None;
        }
        let was_active = self.active();
        if trained {
            self.trained = true;
            self.state = state::INIT;
            None
        } else {
            *self = PortSma {
                state: state::DOWN,
                ..Default::default()
            };
            was_active.then_some(port_change::DOWN)
        }
    }

    /// SubnSet(PortInfo): take what the SM sets, and walk the state.
    /// Returns the PORT_CHANGE subtype to post, if any, or the MAD status
    /// refusing the whole Set (nothing changed).
    pub fn set(&mut self, pi: &PortInfo) -> Result<Option<u8>, u16> {
        let from = self.reported();
        let to = match pi.port_state {
            state::NOP => from,
            state::DOWN => state::DOWN,
            state::ARMED if from == state::INIT || from == state::ARMED => state::ARMED,
            state::ACTIVE if from == state::ARMED || from == state::ACTIVE => state::ACTIVE,
            _ => return Err(STATUS_INVALID_VALUE),
        };
        if pi.lid >= 0xc000 || pi.lmc > 7 {
            return Err(STATUS_INVALID_VALUE);
        }
        self.lid = pi.lid;
        self.lmc = pi.lmc;
        self.sm_lid = pi.master_sm_lid;
        self.sm_sl = pi.master_sm_sl;
        self.subnet_timeout = pi.subnet_timeout;
        if pi.gid_prefix != 0 {
            self.gid_prefix = pi.gid_prefix;
        }
        let event = (to == state::ACTIVE && from != state::ACTIVE).then_some(port_change::ACTIVE);
        // DOWN from the SM retrains the link: it comes back in INIT.
        self.state = if to == state::DOWN && self.trained {
            state::INIT
        } else {
            to
        };
        Ok(event)
    }

    /// Whether `dlid` names this port (its LID with any of the LMC's path
    /// bits).
    pub fn owns_lid(&self, dlid: u16) -> bool {
        self.lid != 0 && dlid >> self.lmc == self.lid >> self.lmc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: u8, lid: u16) -> PortInfo {
        PortInfo {
            port_state: s,
            lid,
            master_sm_lid: 1,
            ..Default::default()
        }
    }

    #[test]
    fn the_sm_walks_init_armed_active_and_only_that_way() {
        let mut p = PortSma::default();
        assert_eq!(p.reported(), state::DOWN);
        assert_eq!(p.link(true), None);
        assert_eq!(p.reported(), state::INIT);
        assert_eq!(p.set(&set(state::ACTIVE, 2)), Err(STATUS_INVALID_VALUE));
        assert_eq!(p.lid, 0, "a refused Set changes nothing");
        assert_eq!(p.set(&set(state::NOP, 2)), Ok(None));
        assert_eq!((p.lid, p.sm_lid), (2, 1));
        assert_eq!(p.set(&set(state::ARMED, 2)), Ok(None));
        assert!(!p.active());
        assert_eq!(p.set(&set(state::ACTIVE, 2)), Ok(Some(port_change::ACTIVE)));
        assert!(p.active());
        assert_eq!(p.set(&set(state::ACTIVE, 2)), Ok(None), "once");
        assert_eq!(p.link(false), Some(port_change::DOWN));
        assert_eq!((p.lid, p.reported(), p.active()), (0, state::DOWN, false));
    }

    #[test]
    fn the_lmc_widens_the_lids_a_port_answers_to() {
        let mut p = PortSma::default();
        p.link(true);
        let mut pi = set(state::NOP, 8);
        pi.lmc = 2;
        p.set(&pi).unwrap();
        assert!(p.owns_lid(8) && p.owns_lid(11) && !p.owns_lid(12) && !p.owns_lid(7));
        assert_eq!(p.set(&set(state::NOP, 0xc000)), Err(STATUS_INVALID_VALUE));
    }
}
