//! `hca block cq`: JSON Lines in, one answer per line out with the DMA
//! writes and interrupts, the same on every backend.

mod common;

use hca_cli::cli::block_cq::Cq;
use hca_cli::cli::jsonl::serve;

const SCRIPT: &[&str] = &[
    r#"{"op":"sw2hw_eq","eqn":1,"mtt":65536,"log_page":0,"log_size":4,"vector":3}"#,
    r#"{"op":"eq_doorbell","eqn":1,"ci":0,"arm":true}"#,
    r#"{"op":"map_eq","eqn":1,"types":"0x200"}"#,
    r#"{"op":"sw2hw_cq","cqn":5,"mtt":131072,"log_page":0,"log_size":1,"eqn":1}"#,
    r#"{"op":"arm_cq","cqn":5,"arm":"next","sn":1,"ci":0}"#,
    r#"{"op":"complete","cqn":5,"cqe":{"my_qpn":66,"byte_cnt":64,"opcode":1}}"#,
    r#"{"op":"complete","cqn":5,"cqe":{"my_qpn":67}}"#,
    r#"{"op":"complete","cqn":5,"cqe":{"my_qpn":68}}"#,
    r#"{"op":"event","eqe":{"type":9,"subtype":4,"d2":1}}"#,
    r#"{"op":"resize","cqn":5,"mtt":196608,"log_page":1,"log_size":1}"#,
    r#"{"op":"arm_cq","cqn":5,"arm":"maybe","sn":1,"ci":0}"#,
    r#"{"op":"complete","cqn":5}"#,
];

#[test]
fn every_backend_answers_alike() {
    let input: String = SCRIPT.iter().map(|l| format!("{l}\n")).collect();
    let (text, totals) = common::serve_everywhere(
        |b, v, i, o| serve::<Cq>(b, v, None, i, o),
        input.as_bytes(),
        SCRIPT.len() as u64,
    );
    let a: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let st = |i: usize| a[i]["status"].as_str().unwrap_or("error").to_string();
    assert_eq!(
        a[5]["dma"].as_array().unwrap().len(),
        8,
        "a CQE and a completion EQE"
    );
    assert_eq!(a[5]["irqs"], serde_json::json!([3]));
    // The MTT maps page i at i * 4096 until written: the CQE is at the
    // buffer's slot 0, the EQE at its EQ's.
    assert_eq!(a[5]["dma"][0]["addr"], "0x0000000020000000", "{}", a[5]);
    assert_eq!(a[5]["dma"][4]["addr"], "0x0000000010000000", "{}", a[5]);
    assert_eq!(
        a[6]["dma"].as_array().unwrap().len(),
        4,
        "disarmed: the CQE only"
    );
    assert_eq!(st(7), "cq_overrun");
    assert_eq!(
        (st(8), a[8]["irqs"].clone()),
        ("ok".into(), serde_json::json!([])),
        "the EQ is not re-armed"
    );
    assert_eq!(st(9), "bad_res_state", "a CQ in error is not resized");
    assert!(a[10]["error"]
        .as_str()
        .unwrap()
        .contains("field `arm`: unknown arm `maybe` (known: solicited, next)"));
    assert!(a[11]["error"]
        .as_str()
        .unwrap()
        .contains("missing field `cqe`"));
    assert_eq!(totals.errors, 2);
}

#[test]
fn garbage_is_answered_line_by_line_on_every_backend() {
    let (input, lines) = common::garbage(SCRIPT);
    common::serve_everywhere(|b, v, i, o| serve::<Cq>(b, v, None, i, o), &input, lines);
}
