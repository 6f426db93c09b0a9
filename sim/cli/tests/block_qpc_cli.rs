//! `hca block qpc`: JSON Lines in, one answer per line out, the same on
//! every backend; bad lines answered with an error while the run goes on.

mod common;

use hca_cli::cli::block_qpc::Qpc;
use hca_cli::cli::jsonl::serve;

const SCRIPT: &[&str] = &[
    r#"{"op":"modify","qpn":5,"to":"init","attrs":{"qp_type":"rc","pd":3,"send_cqn":1,"recv_cqn":2,"pkey_index":0,"port":1,"access_flags":7}}"#,
    r#"{"op":"modify","qpn":5,"to":"rtr","attrs":{"dlid":9,"path_mtu":5,"dest_qpn":77,"rq_psn":16777215,"max_dest_rd_atomic":4}}"#,
    r#"{"op":"modify","qpn":5,"to":"rtr","attrs":{"dlid":9,"path_mtu":5,"dest_qpn":77,"rq_psn":16777215,"max_dest_rd_atomic":4,"min_rnr_timer":12}}"#,
    r#"{"op":"recv_psn","qpn":5,"psn":16777215,"last":true}"#,
    r#"{"op":"recv_psn","qpn":5,"psn":16777215}"#,
    r#"{"op":"send_psn","qpn":5,"count":1}"#,
    r#"{"op":"modify","qpn":5,"to":"rts","attrs":{"timeout":14,"retry_cnt":1,"rnr_retry":7,"sq_psn":16777215,"max_rd_atomic":4}}"#,
    r#"{"op":"send_psn","qpn":5,"count":2}"#,
    r#"{"op":"retry","qpn":5}"#,
    r#"{"op":"retry","qpn":5}"#,
    r#"{"op":"query","qpn":5}"#,
    r#"{"op":"modify","qpn":5,"to":"reset"}"#,
    r#"{"op":"ack","qpn":6}"#,
    r#"{"op":"modify","qpn":6,"to":"init","attrs":{"qp_type":"ud","pkey_index":0,"port":1,"qkey":17}}"#,
    r#"{"op":"send_error","qpn":6}"#,
    r#"{"op":"flush","qpn":6}"#,
    r#"{"op":"query","qpn":16777216}"#,
];

#[test]
fn every_backend_walks_a_qp_alike() {
    let input: String = SCRIPT.iter().map(|l| format!("{l}\n")).collect();
    let (text, totals) = common::serve_everywhere(
        |b, v, i, o| serve::<Qpc>(b, v, None, i, o),
        input.as_bytes(),
        SCRIPT.len() as u64,
    );
    let answers: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status = |i: usize| answers[i]["status"].as_str().unwrap_or("error").to_string();
    let ctx = |i: usize, f: &str| answers[i]["context"][f].clone();
    assert_eq!(status(0), "ok");
    assert_eq!(status(1), "bad_param", "RC INIT to RTR needs min_rnr_timer");
    assert_eq!((status(2), ctx(2, "state")), ("ok".into(), "rtr".into()));
    assert_eq!(
        (
            answers[3]["class"].as_str(),
            ctx(3, "expected_psn"),
            ctx(3, "msn")
        ),
        (Some("in_sequence"), 0.into(), 1.into())
    );
    assert_eq!(answers[4]["class"].as_str(), Some("duplicate"));
    assert_eq!(status(5), "bad_qp_state", "no sends before RTS");
    assert_eq!(answers[7]["psn"], 16777215);
    assert_eq!(ctx(8, "retry_left"), 0);
    assert_eq!(ctx(9, "state"), "err", "retries ran out");
    assert_eq!(ctx(11, "state"), "reset");
    assert_eq!(status(12), "bad_qp_state");
    assert_eq!(status(14), "bad_qp_state", "a send error in INIT");
    assert!(answers[15]["error"]
        .as_str()
        .unwrap()
        .contains("unknown op `flush`"));
    assert!(answers[16]["error"]
        .as_str()
        .unwrap()
        .contains("does not fit in 24 bits"));
    assert_eq!(totals.errors, 2);
}

#[test]
fn garbage_is_answered_line_by_line_on_every_backend() {
    let (input, lines) = common::garbage(SCRIPT);
    common::serve_everywhere(|b, v, i, o| serve::<Qpc>(b, v, None, i, o), &input, lines);
}
