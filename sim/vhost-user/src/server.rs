//! The backend's event loop: vhost-user messages on the socket, kicks on
//! the two queues, MSI messages out on the interrupt queue.
//!
//! One thread, `poll(2)` on the socket and the kick eventfds. A request is
//! answered before the next is read, well inside the ~40 ms UML spins for
//! an MMIO read. Between requests, and at least every millisecond once the
//! guest's memory is shared, the device is given time of its own
//! ([`PciFunction::run`]: packets from its ports, its timers), as
//! hardware runs beside the CPU; the interrupts it raises go out at once. Whatever arrives, the loop logs it and goes on: a bad
//! message is answered with an error status (when the frontend asked for
//! one), never a panic.

use super::memory::GuestMem;
use super::proto::{self, MemRegion};
use super::virt_pci::{self, PciMsg};
use hca_abi::hostmem::HostMemory;
use hca_abi::pci::{MsiMessage, PciFunction};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use virtio_queue::{Queue, QueueT};

/// Why serving ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeOutcome {
    /// The frontend closed the socket (UML shut down or died).
    Closed,
    /// Asked to stop.
    Stopped,
    /// The socket failed.
    Error(String),
}

struct Vring {
    queue: Queue,
    kick: Option<File>,
    call: Option<File>,
    addr: Option<(u64, u64, u64)>,
}

impl Vring {
    fn new() -> Vring {
        Vring {
            queue: Queue::new(proto::MAX_RING).expect("a power-of-two ring size"),
            kick: None,
            call: None,
            addr: None,
        }
    }

    fn notify(&mut self) {
        if let Some(c) = &mut self.call {
            // The frontend's call fd is a non-blocking pipe: a full pipe
            // already holds a wake-up.
            let _ = c.write(&1u64.to_le_bytes());
        }
    }
}

/// What the server tells whoever runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Something the frontend sent that could not be taken: logged,
    /// answered, and otherwise ignored.
    Warning(String),
    /// A request was answered: the moment to collect what the device did.
    Served,
}

struct Backend<'a, D: PciFunction + ?Sized> {
    sock: UnixStream,
    dev: &'a mut D,
    mem: Option<GuestMem>,
    vrings: [Vring; proto::NUM_QUEUES],
    /// The backend-request channel: held open for the device's lifetime
    /// (UML drops the device if it closes).
    backend_req: Option<OwnedFd>,
    protocol_features: u64,
    msis: VecDeque<MsiMessage>,
    on_event: &'a mut dyn FnMut(Event, &mut D),
}

/// Serve one frontend on `sock` until it closes, `stop` is set, or the
/// socket fails. `on_event` hears of every warning, and after each
/// request is answered gets the device to collect what it did.
pub fn serve<D: PciFunction + ?Sized>(
    sock: UnixStream,
    dev: &mut D,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event, &mut D),
) -> ServeOutcome {
    let mut b = Backend {
        sock,
        dev,
        mem: None,
        vrings: [Vring::new(), Vring::new()],
        backend_req: None,
        protocol_features: 0,
        msis: VecDeque::new(),
        on_event,
    };
    b.run(stop)
}

impl<D: PciFunction + ?Sized> Backend<'_, D> {
    fn warn(&mut self, w: String) {
        (self.on_event)(Event::Warning(w), self.dev);
    }

    fn run(&mut self, stop: &AtomicBool) -> ServeOutcome {
        let mut busy = false;
        loop {
            // The stop flag is looked at after the socket: a frontend that
            // exited has closed it first, and that is the outcome to tell.
            let (sock_ready, kicked) = {
                let mut fds = vec![PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
                let mut which = Vec::new();
                for (i, v) in self.vrings.iter().enumerate() {
                    if let Some(k) = &v.kick {
                        fds.push(PollFd::new(k.as_fd(), PollFlags::POLLIN));
                        which.push(i);
                    }
                }
                // With memory shared the device may have work of its own
                // (packets arriving, timers): wake for it every
                // millisecond.
                let wait = match (busy, self.mem.is_some()) {
                    (true, _) => 0u16,
                    (false, true) => 1,
                    (false, false) => 50,
                };
                match poll(&mut fds, PollTimeout::from(wait)) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return ServeOutcome::Error(format!("poll: {e}")),
                }
                let ready = |f: &PollFd| {
                    f.revents().is_some_and(|r| {
                        r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                    })
                };
                let kicked: Vec<usize> = fds[1..]
                    .iter()
                    .zip(&which)
                    .filter(|(f, _)| ready(f))
                    .map(|(_, i)| *i)
                    .collect();
                (ready(&fds[0]), kicked)
            };
            if sock_ready {
                match self.message() {
                    Ok(true) => {}
                    Ok(false) => return ServeOutcome::Closed,
                    Err(e) => return ServeOutcome::Error(e),
                }
            }
            for q in kicked {
                if let Some(k) = &mut self.vrings[q].kick {
                    let mut n = [0u8; 8];
                    let _ = k.read(&mut n);
                }
                if q == 0 {
                    self.requests();
                }
            }
            busy = self.device_time();
            self.deliver_msis();
            if stop.load(Ordering::Relaxed) {
                return ServeOutcome::Stopped;
            }
        }
    }

    /// Read and handle one message. `Ok(false)`: the frontend hung up.
    fn message(&mut self) -> Result<bool, String> {
        let mut hdr = [0u8; proto::HEADER];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 8]);
        let (n, fds) = {
            let mut iov = [IoSliceMut::new(&mut hdr)];
            let msg = match recvmsg::<()>(
                self.sock.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(m) => m,
                Err(nix::errno::Errno::EINTR) | Err(nix::errno::Errno::EAGAIN) => return Ok(true),
                Err(nix::errno::Errno::ECONNRESET) => return Ok(false),
                Err(e) => return Err(format!("recvmsg: {e}")),
            };
            let mut fds: Vec<OwnedFd> = Vec::new();
            if let Ok(cmsgs) = msg.cmsgs() {
                for c in cmsgs {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        // SAFETY: SCM_RIGHTS hands us new descriptors we own.
                        #[allow(unsafe_code)]
                        fds.extend(raw.into_iter().map(|r| unsafe { OwnedFd::from_raw_fd(r) }));
                    }
                }
            }
            (msg.bytes, fds)
        };
        if n == 0 {
            return Ok(false);
        }
        if n < proto::HEADER {
            self.sock
                .read_exact(&mut hdr[n..])
                .map_err(|e| format!("reading a message header: {e}"))?;
        }
        let request = u32::from_le_bytes(hdr[0..4].try_into().unwrap());
        let flags = u32::from_le_bytes(hdr[4..8].try_into().unwrap());
        let size = u32::from_le_bytes(hdr[8..12].try_into().unwrap()) as usize;
        let mut payload = vec![0u8; size.min(proto::MAX_PAYLOAD)];
        self.sock
            .read_exact(&mut payload)
            .map_err(|e| format!("reading a {size}-byte payload: {e}"))?;
        if size > proto::MAX_PAYLOAD {
            // Drain what we will not keep, then refuse it.
            let mut rest = (&self.sock).take((size - proto::MAX_PAYLOAD) as u64);
            std::io::copy(&mut rest, &mut std::io::sink()).map_err(|e| e.to_string())?;
            self.warn(format!(
                "{} with a {size}-byte payload: refused",
                proto::name(request)
            ));
            self.ack(request, flags, false)?;
            return Ok(true);
        }
        let ok = self.dispatch(request, &payload, fds)?;
        self.ack(request, flags, ok)?;
        Ok(true)
    }

    fn reply(&mut self, request: u32, payload: &[u8]) -> Result<(), String> {
        let mut m = Vec::with_capacity(proto::HEADER + payload.len());
        m.extend_from_slice(&request.to_le_bytes());
        m.extend_from_slice(&(proto::VERSION | proto::FLAG_REPLY).to_le_bytes());
        m.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        m.extend_from_slice(payload);
        self.sock
            .write_all(&m)
            .map_err(|e| format!("replying to {}: {e}", proto::name(request)))
    }

    /// REPLY_ACK: answer a message that asked for it (and has no reply of
    /// its own) with 0 for success.
    fn ack(&mut self, request: u32, flags: u32, ok: bool) -> Result<(), String> {
        let own_reply = matches!(
            request,
            proto::GET_FEATURES
                | proto::GET_PROTOCOL_FEATURES
                | proto::GET_QUEUE_NUM
                | proto::GET_VRING_BASE
        );
        if flags & proto::FLAG_NEED_REPLY != 0
            && self.protocol_features & proto::PF_REPLY_ACK != 0
            && !own_reply
        {
            self.reply(request, &(!ok as u64).to_le_bytes())?;
        }
        Ok(())
    }

    fn u64_of(p: &[u8]) -> Option<u64> {
        p.get(0..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    }

    fn vring_index(&mut self, p: &[u8], what: &str) -> Option<usize> {
        let i = p
            .get(0..4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()) & 0xff)? as usize;
        if i >= proto::NUM_QUEUES {
            self.warn(format!(
                "{what} for queue {i}: the device has {}",
                proto::NUM_QUEUES
            ));
            return None;
        }
        Some(i)
    }

    /// Handle one message; `Ok(false)` if it was refused.
    fn dispatch(&mut self, request: u32, p: &[u8], fds: Vec<OwnedFd>) -> Result<bool, String> {
        match request {
            proto::GET_FEATURES => self.reply(request, &proto::FEATURES.to_le_bytes())?,
            proto::GET_PROTOCOL_FEATURES => {
                self.reply(request, &proto::PROTOCOL_FEATURES.to_le_bytes())?
            }
            proto::SET_PROTOCOL_FEATURES => {
                self.protocol_features = Self::u64_of(p).unwrap_or(0) & proto::PROTOCOL_FEATURES;
            }
            proto::GET_QUEUE_NUM => {
                self.reply(request, &(proto::NUM_QUEUES as u64).to_le_bytes())?
            }
            proto::SET_FEATURES | proto::SET_OWNER | proto::RESET_OWNER => {}
            proto::SET_BACKEND_REQ_FD => match fds.into_iter().next() {
                Some(fd) => self.backend_req = Some(fd),
                None => {
                    self.warn("SET_BACKEND_REQ_FD without a descriptor".into());
                    return Ok(false);
                }
            },
            proto::SET_MEM_TABLE => {
                let regions: Vec<MemRegion> = match proto::parse_mem_table(p) {
                    Ok(r) => r,
                    Err(e) => {
                        self.warn(format!("SET_MEM_TABLE: {e}"));
                        return Ok(false);
                    }
                };
                let files = fds.into_iter().map(File::from).collect();
                match GuestMem::map(regions, files) {
                    Ok(m) => self.mem = Some(m),
                    Err(e) => {
                        self.warn(format!("SET_MEM_TABLE: {e}"));
                        return Ok(false);
                    }
                }
            }
            proto::SET_VRING_NUM | proto::SET_VRING_BASE | proto::SET_VRING_ENABLE => {
                let Some(i) = self.vring_index(p, proto::name(request)) else {
                    return Ok(false);
                };
                let num = p
                    .get(4..8)
                    .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
                    .unwrap_or(0);
                let q = &mut self.vrings[i].queue;
                match request {
                    proto::SET_VRING_NUM => {
                        if num == 0 || num > proto::MAX_RING as u32 || !num.is_power_of_two() {
                            self.warn(format!("ring {i} of {num} entries"));
                            return Ok(false);
                        }
                        q.set_size(num as u16);
                    }
                    proto::SET_VRING_BASE => {
                        q.set_next_avail(num as u16);
                        q.set_next_used(num as u16);
                    }
                    _ => {}
                }
            }
            proto::GET_VRING_BASE => {
                let Some(i) = self.vring_index(p, "GET_VRING_BASE") else {
                    let mut r = [0u8; 8];
                    r[..4].copy_from_slice(p.get(0..4).unwrap_or(&[0; 4]));
                    self.reply(request, &r)?;
                    return Ok(false);
                };
                let v = &mut self.vrings[i];
                v.queue.set_ready(false);
                let mut r = [0u8; 8];
                r[..4].copy_from_slice(&(i as u32).to_le_bytes());
                r[4..].copy_from_slice(&(v.queue.next_avail() as u32).to_le_bytes());
                self.reply(request, &r)?;
            }
            proto::SET_VRING_ADDR => {
                let Some(i) = self.vring_index(p, "SET_VRING_ADDR") else {
                    return Ok(false);
                };
                if p.len() < 40 {
                    self.warn(format!("SET_VRING_ADDR of {} bytes", p.len()));
                    return Ok(false);
                }
                let q = |k: usize| u64::from_le_bytes(p[8 + 8 * k..16 + 8 * k].try_into().unwrap());
                let (desc, used, avail) = (q(0), q(1), q(2));
                let Some(mem) = &self.mem else {
                    self.warn("SET_VRING_ADDR before SET_MEM_TABLE".into());
                    return Ok(false);
                };
                let t = |a: u64| mem.user_to_guest(a);
                let (Some(d), Some(u), Some(a)) = (t(desc), t(used), t(avail)) else {
                    self.warn(format!("ring {i} addresses outside the shared memory"));
                    return Ok(false);
                };
                let v = &mut self.vrings[i];
                v.queue
                    .set_desc_table_address(Some(d as u32), Some((d >> 32) as u32));
                v.queue
                    .set_avail_ring_address(Some(a as u32), Some((a >> 32) as u32));
                v.queue
                    .set_used_ring_address(Some(u as u32), Some((u >> 32) as u32));
                v.addr = Some((d, a, u));
                v.queue.set_ready(true);
            }
            proto::SET_VRING_KICK | proto::SET_VRING_CALL | proto::SET_VRING_ERR => {
                let v = Self::u64_of(p).unwrap_or(0);
                let i = (v & 0xff) as usize;
                let fd = fds.into_iter().next();
                if i >= proto::NUM_QUEUES || (v & 0x100 == 0 && fd.is_none()) {
                    self.warn(format!(
                        "{} for queue {i} (payload {v:#x})",
                        proto::name(request)
                    ));
                    return Ok(false);
                }
                let f = fd.map(File::from);
                match request {
                    proto::SET_VRING_KICK => self.vrings[i].kick = f,
                    proto::SET_VRING_CALL => self.vrings[i].call = f,
                    _ => {}
                }
                if request == proto::SET_VRING_KICK && i == 0 {
                    // Requests may already wait.
                    self.requests();
                }
            }
            other => {
                self.warn(format!(
                    "vhost-user request {other} ({}) not supported",
                    proto::name(other)
                ));
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Let the device act on its own once; whether it did anything. One
    /// round at a time: the frontend's requests (an MMIO read UML spins
    /// on) are looked at between rounds.
    fn device_time(&mut self) -> bool {
        let Some(mem) = &mut self.mem else {
            return false;
        };
        let busy = self.dev.run(mem);
        // Even a run that took nothing in may have raised an interrupt (a
        // port change, a timer's completion) or an event to report.
        self.flush_events();
        busy
    }

    fn flush_events(&mut self) {
        (self.on_event)(Event::Served, self.dev);
        self.msis.extend(self.dev.take_msis());
    }

    /// Serve every request waiting on queue 0.
    fn requests(&mut self) {
        let Some(mem) = &mut self.mem else {
            return;
        };
        let q = &mut self.vrings[0];
        if !q.queue.ready() {
            return;
        }
        let mut served = 0;
        // The rings' view of memory (a cheap handle to the same mapping).
        let mm = mem.mmap().clone();
        while let Some(chain) = q.queue.pop_descriptor_chain(&mm) {
            let head = chain.head_index();
            let mut req = Vec::new();
            let mut out: Vec<(u64, u32)> = Vec::new();
            let mut bad = false;
            for d in chain {
                if d.is_write_only() {
                    out.push((d.addr().0, d.len()));
                } else if req.len() + d.len() as usize <= 64 << 10 {
                    let start = req.len();
                    req.resize(start + d.len() as usize, 0);
                    bad |= mem.read(d.addr().0, &mut req[start..]).is_err();
                } else {
                    bad = true;
                }
            }
            let room: usize = out.iter().map(|(_, l)| *l as usize).sum();
            let reply = if bad {
                (self.on_event)(
                    Event::Warning(format!(
                        "request chain {head}: buffers outside shared memory or over 64 KiB"
                    )),
                    self.dev,
                );
                vec![0xff; room.min(8)]
            } else {
                let on_event = &mut *self.on_event;
                let dev = &mut *self.dev;
                let mut warnings = Vec::new();
                let reply = virt_pci::handle(dev, &req, room, mem, &mut |w| warnings.push(w));
                for w in warnings {
                    on_event(Event::Warning(w), dev);
                }
                reply
            };
            let mut written = 0usize;
            for (addr, len) in &out {
                if written >= reply.len() {
                    break;
                }
                let n = (*len as usize).min(reply.len() - written);
                if mem.write(*addr, &reply[written..written + n]).is_err() {
                    break;
                }
                written += n;
            }
            if q.queue.add_used(&mm, head, written as u32).is_err() {
                (self.on_event)(
                    Event::Warning(format!("used ring of queue 0 rejected chain {head}")),
                    self.dev,
                );
            }
            served += 1;
            (self.on_event)(Event::Served, self.dev);
            self.msis.extend(self.dev.take_msis());
        }
        if served > 0 {
            q.notify();
        }
        self.flush_events();
    }

    /// Send pending MSI messages in the buffers the frontend posted on
    /// queue 1; what finds no buffer waits for the next kick.
    fn deliver_msis(&mut self) {
        if self.msis.is_empty() {
            return;
        }
        let Some(mem) = &mut self.mem else {
            return;
        };
        let q = &mut self.vrings[1];
        if !q.queue.ready() {
            return;
        }
        let mut sent = 0;
        let mm = mem.mmap().clone();
        while let Some(m) = self.msis.front().copied() {
            let Some(chain) = q.queue.pop_descriptor_chain(&mm) else {
                break;
            };
            let head = chain.head_index();
            let bytes = PciMsg::msi(&m);
            let mut len = 0u32;
            if let Some(d) = chain
                .into_iter()
                .find(|d| d.is_write_only() && d.len() as usize >= bytes.len())
            {
                if mem.write(d.addr().0, &bytes).is_ok() {
                    len = bytes.len() as u32;
                }
            }
            let _ = q.queue.add_used(&mm, head, len);
            if len > 0 {
                self.msis.pop_front();
                sent += 1;
            }
        }
        if sent > 0 {
            q.notify();
        }
    }
}
