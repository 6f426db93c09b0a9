//! MODIFY_CQ's resize through the driver on every backend: with CQEs
//! outstanding, every one of them is polled after the resize, in order,
//! and the next completion follows them in the new buffer; a size below
//! what is outstanding is refused and the CQ keeps working.

mod common;

use common::{complete, up};
use hca_engines::Backend;

fn resize_keeps_cqes(backend: Backend) {
    let mut d = up(backend);
    let mut cq = d.create_cq(15, 1).unwrap();
    for k in 0..5 {
        complete(&mut d, cq.cqn, 0x40, k);
    }
    // Two polled before the resize; three outstanding.
    let first = d.poll_cq(&cq, 2).unwrap();
    assert_eq!(
        first.iter().map(|w| w.wqe_index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let e = d.resize_cq(&mut cq, 2);
    assert!(
        e.is_err(),
        "{backend}: 3 outstanding and the marker do not fit 3 slots"
    );
    assert_eq!(cq.entries, 15, "{backend}: unchanged");
    d.resize_cq(&mut cq, 100).unwrap();
    assert_eq!(cq.entries, 127);
    complete(&mut d, cq.cqn, 0x41, 9);
    let wc = d.poll_cq(&cq, 16).unwrap();
    let got: Vec<(u32, u16)> = wc.iter().map(|w| (w.qpn, w.wqe_index)).collect();
    assert_eq!(
        got,
        vec![(0x40, 2), (0x40, 3), (0x40, 4), (0x41, 9)],
        "{backend}: the outstanding CQEs, then the new one"
    );
    // Round the new, larger ring more than once.
    for k in 0..300u16 {
        complete(&mut d, cq.cqn, 0x42, k);
        let w = d.poll_cq(&cq, 4).unwrap();
        assert_eq!(w.len(), 1, "{backend}: CQE {k}");
        assert_eq!(w[0].wqe_index, k);
    }
    // And smaller again.
    complete(&mut d, cq.cqn, 0x43, 1);
    d.resize_cq(&mut cq, 7).unwrap();
    let w = d.poll_cq(&cq, 8).unwrap();
    assert_eq!(
        w.iter().map(|w| (w.qpn, w.wqe_index)).collect::<Vec<_>>(),
        vec![(0x43, 1)]
    );
    d.destroy_cq(&cq).unwrap();
    d.tear_down().unwrap();
}

hca_engines::on_every_backend! {
    fn resize_with_cqes_outstanding_keeps_them(backend: Backend) {
        resize_keeps_cqes(backend)
    }
}
