//! The vhost-user backend against a frontend written here: UML's message
//! sequence (features, the backend-request channel, SET_MEM_TABLE with room
//! for two regions, rings, kick and call descriptors), a config read and
//! an MMIO read through a real split virtqueue, and malformed messages,
//! each answered with an error and none stopping the device.

use hca_device::{DeviceEvent, HcaPci};
use hca_vhost_user::proto;
use hca_vhost_user::{serve, Event, ServeOutcome};
use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

const GUEST: u64 = 0x4000_0000;
const USER: u64 = 0x7f00_0000_0000;
const MEM: u64 = 1 << 20;
const RING: u16 = 8;
const DESC: u64 = 0;
const AVAIL: u64 = 0x1000;
const USED: u64 = 0x2000;
const REQ_BUF: u64 = 0x10000;
const REPLY_BUF: u64 = 0x11000;

struct Front {
    sock: UnixStream,
    mem: File,
    kick: std::io::PipeWriter,
    call: std::io::PipeReader,
    avail_idx: u16,
    used_seen: u16,
}

fn send(sock: &UnixStream, request: u32, flags: u32, payload: &[u8], fds: &[RawFd]) {
    let mut m = Vec::new();
    m.extend_from_slice(&request.to_le_bytes());
    m.extend_from_slice(&(proto::VERSION | flags).to_le_bytes());
    m.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    m.extend_from_slice(payload);
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    sendmsg::<()>(
        sock.as_raw_fd(),
        &[IoSlice::new(&m)],
        cmsgs,
        MsgFlags::empty(),
        None,
    )
    .unwrap();
}

fn recv(sock: &mut UnixStream) -> (u32, Vec<u8>) {
    let mut h = [0u8; 12];
    sock.read_exact(&mut h).unwrap();
    let flags = u32::from_le_bytes(h[4..8].try_into().unwrap());
    assert_eq!(flags & proto::FLAG_REPLY, proto::FLAG_REPLY);
    let n = u32::from_le_bytes(h[8..12].try_into().unwrap()) as usize;
    let mut p = vec![0u8; n];
    sock.read_exact(&mut p).unwrap();
    (u32::from_le_bytes(h[0..4].try_into().unwrap()), p)
}

fn u64_of(p: &[u8]) -> u64 {
    u64::from_le_bytes(p[..8].try_into().unwrap())
}

/// Send a message asking for an ACK; return whether the backend took it.
fn acked(f: &mut Front, request: u32, payload: &[u8], fds: &[RawFd]) -> bool {
    send(&f.sock, request, proto::FLAG_NEED_REPLY, payload, fds);
    let (r, p) = recv(&mut f.sock);
    assert_eq!(r, request);
    u64_of(&p) == 0
}

fn vring_state(i: u32, n: u32) -> Vec<u8> {
    [i.to_le_bytes(), n.to_le_bytes()].concat()
}

fn mem_table(num: u32) -> Vec<u8> {
    let mut p = vec![0u8; 72];
    p[0..4].copy_from_slice(&num.to_le_bytes());
    for (k, v) in [GUEST, MEM, USER, 0].iter().enumerate() {
        p[8 + 8 * k..16 + 8 * k].copy_from_slice(&v.to_le_bytes());
    }
    p
}

impl Front {
    /// Put one request on queue 0 and wait for its reply.
    fn request(&mut self, msg: &[u8], reply_len: u32) -> Vec<u8> {
        self.mem.write_at(msg, REQ_BUF).unwrap();
        let desc = |addr: u64, len: u32, flags: u16, next: u16| {
            let mut d = Vec::new();
            d.extend_from_slice(&addr.to_le_bytes());
            d.extend_from_slice(&len.to_le_bytes());
            d.extend_from_slice(&flags.to_le_bytes());
            d.extend_from_slice(&next.to_le_bytes());
            d
        };
        self.mem
            .write_at(&desc(GUEST + REQ_BUF, msg.len() as u32, 1, 1), DESC)
            .unwrap();
        self.mem
            .write_at(&desc(GUEST + REPLY_BUF, reply_len, 2, 0), DESC + 16)
            .unwrap();
        let slot = AVAIL + 4 + 2 * (self.avail_idx % RING) as u64;
        self.mem.write_at(&0u16.to_le_bytes(), slot).unwrap();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        self.mem
            .write_at(&self.avail_idx.to_le_bytes(), AVAIL + 2)
            .unwrap();
        self.kick.write_all(&1u64.to_le_bytes()).unwrap();
        let mut n = [0u8; 8];
        self.call.read_exact(&mut n).unwrap();
        let mut idx = [0u8; 2];
        self.mem.read_at(&mut idx, USED + 2).unwrap();
        assert_eq!(u16::from_le_bytes(idx), self.used_seen.wrapping_add(1));
        let mut e = [0u8; 8];
        self.mem
            .read_at(&mut e, USED + 4 + 8 * (self.used_seen % RING) as u64)
            .unwrap();
        self.used_seen = self.used_seen.wrapping_add(1);
        let len = u32::from_le_bytes(e[4..8].try_into().unwrap());
        let mut r = vec![0u8; len as usize];
        self.mem.read_at(&mut r, REPLY_BUF).unwrap();
        r
    }
}

fn pci_msg(op: u8, bar: u8, size: u32, addr: u64) -> Vec<u8> {
    let mut m = vec![op, bar, 0, 0];
    m.extend_from_slice(&size.to_le_bytes());
    m.extend_from_slice(&addr.to_le_bytes());
    m
}

#[test]
fn umls_sequence_a_virtqueue_and_malformed_messages() {
    let (front, back) = UnixStream::pair().unwrap();
    let (tx, rx) = mpsc::channel();
    let server = std::thread::spawn(move || {
        let mut dev = HcaPci::new();
        let mut events = Vec::new();
        let stop = AtomicBool::new(false);
        // The device's own events and the transport's warnings, in order,
        // as the UML runner collects them.
        let out = serve(back, &mut dev, &stop, &mut |e, dev: &mut HcaPci| match e {
            Event::Warning(w) => events.push(DeviceEvent::Warning(w)),
            Event::Served => events.extend(dev.take_events()),
        });
        tx.send((out, events)).unwrap();
    });
    let mem = tempfile::tempfile().unwrap();
    mem.set_len(MEM).unwrap();
    let (kick_r, kick_w) = std::io::pipe().unwrap();
    let (call_r, call_w) = std::io::pipe().unwrap();
    let (req_ours, req_theirs) = UnixStream::pair().unwrap();
    let mut f = Front {
        sock: front,
        mem,
        kick: kick_w,
        call: call_r,
        avail_idx: 0,
        used_seen: 0,
    };

    let memfd = f.mem.as_raw_fd();
    send(&f.sock, proto::GET_FEATURES, 0, &[], &[]);
    let (_, p) = recv(&mut f.sock);
    assert_ne!(u64_of(&p) & proto::F_PROTOCOL_FEATURES, 0);
    send(
        &f.sock,
        proto::SET_FEATURES,
        0,
        &u64_of(&p).to_le_bytes(),
        &[],
    );
    send(&f.sock, proto::GET_PROTOCOL_FEATURES, 0, &[], &[]);
    let (_, p) = recv(&mut f.sock);
    assert_ne!(
        u64_of(&p) & proto::PF_BACKEND_REQ,
        0,
        "UML needs BACKEND_REQ"
    );
    send(
        &f.sock,
        proto::SET_PROTOCOL_FEATURES,
        0,
        &proto::PROTOCOL_FEATURES.to_le_bytes(),
        &[],
    );
    assert!(acked(&mut f, proto::SET_OWNER, &[], &[]));
    assert!(acked(
        &mut f,
        proto::SET_BACKEND_REQ_FD,
        &[],
        &[req_theirs.as_raw_fd()]
    ));
    drop(req_theirs);

    // Malformed and unexpected messages: refused, the device goes on.
    assert!(!acked(&mut f, 77, &[1, 2, 3], &[]));
    assert!(!acked(
        &mut f,
        proto::SET_MEM_TABLE,
        &mem_table(3),
        &[memfd]
    ));
    assert!(!acked(&mut f, proto::SET_MEM_TABLE, &mem_table(1), &[]));
    assert!(!acked(
        &mut f,
        proto::SET_MEM_TABLE,
        &mem_table(1)[..6],
        &[memfd]
    ));
    assert!(
        !acked(&mut f, proto::SET_VRING_ADDR, &[0; 40], &[]),
        "rings before memory"
    );
    assert!(!acked(
        &mut f,
        proto::SET_VRING_NUM,
        &vring_state(0, 3),
        &[]
    ));
    assert!(!acked(
        &mut f,
        proto::SET_VRING_NUM,
        &vring_state(9, 8),
        &[]
    ));
    assert!(!acked(
        &mut f,
        proto::SET_VRING_KICK,
        &5u64.to_le_bytes(),
        &[]
    ));
    assert!(
        !acked(&mut f, proto::SET_VRING_CALL, &0u64.to_le_bytes(), &[]),
        "no descriptor"
    );
    assert!(!acked(
        &mut f,
        proto::SET_VRING_ENABLE,
        &vring_state(200, 1),
        &[]
    ));
    assert!(
        !acked(&mut f, proto::SET_FEATURES, &vec![0u8; 4096], &[]),
        "oversized payload"
    );

    // UML's memory table: room for two regions, one used.
    assert!(acked(&mut f, proto::SET_MEM_TABLE, &mem_table(1), &[memfd]));
    let mut addr = vec![0u8; 40];
    for (k, off) in [DESC, USED, AVAIL].iter().enumerate() {
        addr[8 + 8 * k..16 + 8 * k].copy_from_slice(&(USER + off).to_le_bytes());
    }
    let mut outside = addr.clone();
    outside[8..16].copy_from_slice(&(USER + MEM + 0x1000).to_le_bytes());
    assert!(!acked(&mut f, proto::SET_VRING_ADDR, &outside, &[]));
    assert!(acked(
        &mut f,
        proto::SET_VRING_NUM,
        &vring_state(0, RING as u32),
        &[]
    ));
    assert!(acked(
        &mut f,
        proto::SET_VRING_BASE,
        &vring_state(0, 0),
        &[]
    ));
    assert!(acked(&mut f, proto::SET_VRING_ADDR, &addr, &[]));
    assert!(acked(
        &mut f,
        proto::SET_VRING_KICK,
        &0u64.to_le_bytes(),
        &[kick_r.as_raw_fd()]
    ));
    assert!(acked(
        &mut f,
        proto::SET_VRING_CALL,
        &0u64.to_le_bytes(),
        &[call_w.as_raw_fd()]
    ));
    drop((kick_r, call_w));
    send(&f.sock, proto::GET_QUEUE_NUM, 0, &[], &[]);
    assert_eq!(u64_of(&recv(&mut f.sock).1), 2);

    // Through the virtqueue: vendor and device id, then the HCR status.
    let r = f.request(&pci_msg(1, 0, 4, 0), 8);
    assert_eq!(r, 0x1003_15b3u32.to_le_bytes());
    let r = f.request(&pci_msg(3, 0, 4, hca_firmware::bar0::HCR_BASE + 24), 8);
    assert_eq!(r, [0; 4]);
    // A request shorter than its header, and an unknown op: answered.
    let r = f.request(&[3, 0, 0], 8);
    assert_eq!(r.len(), 8);
    let r = f.request(&pci_msg(42, 0, 4, 0), 8);
    assert_eq!(r, [0xff; 4]);
    // Outside config space or a BAR, up to the very top of the address
    // space: all ones, no wrap-around.
    let r = f.request(&pci_msg(3, 0, 8, u64::MAX - 2), 8);
    assert_eq!(r, [0xff; 8]);
    let r = f.request(&pci_msg(1, 0, 4, u64::MAX - 1), 8);
    assert_eq!(r, [0xff; 4]);
    let r = f.request(&pci_msg(3, 0, 4, hca_firmware::bar0::BAR0_SIZE - 2), 8);
    assert_eq!(r, [0xff; 4]);
    let r = f.request(&pci_msg(3, 5, 4, 0), 8);
    assert_eq!(r, [0xff; 4], "a BAR the device does not have");
    // A write that carries fewer bytes than it claims: ignored.
    let r = f.request(&pci_msg(4, 0, 4, hca_firmware::bar0::HCR_BASE), 0);
    assert!(r.is_empty());

    // The backend-request channel is still open: no EOF on our end.
    req_ours
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut b = [0u8; 1];
    let e = (&req_ours).read(&mut b).unwrap_err();
    assert!(matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    ));

    drop(f);
    let (out, events) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the device ends when UML hangs up");
    server.join().unwrap();
    assert_eq!(out, ServeOutcome::Closed);
    let warnings = events
        .iter()
        .filter(|e| matches!(e, DeviceEvent::Warning(_)))
        .count();
    assert!(
        warnings >= 14,
        "every malformed message is logged ({warnings})"
    );
}

#[test]
fn a_frontend_that_dies_mid_message_ends_the_device() {
    for cut in [0usize, 5, 12, 20] {
        let (mut front, back) = UnixStream::pair().unwrap();
        let server = std::thread::spawn(move || {
            let mut dev = HcaPci::new();
            let stop = AtomicBool::new(false);
            serve(back, &mut dev, &stop, &mut |_, _| {})
        });
        let mut m = Vec::new();
        m.extend_from_slice(&proto::SET_MEM_TABLE.to_le_bytes());
        m.extend_from_slice(&proto::VERSION.to_le_bytes());
        m.extend_from_slice(&72u32.to_le_bytes());
        m.extend_from_slice(&[0u8; 72]);
        front.write_all(&m[..cut]).unwrap();
        drop(front);
        let out = server.join().expect("no panic");
        assert!(
            matches!(out, ServeOutcome::Closed | ServeOutcome::Error(_)),
            "{out:?}"
        );
    }
}
