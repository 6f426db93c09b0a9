//! The QP context block in rust-hdl (see `docs/blocks/qpc.md`).
