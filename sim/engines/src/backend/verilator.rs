//! The Verilator build of a block: the generated model plus the little
//! state the testbench needs (whether inputs changed, whether tracing).

/// A generated Verilator model (see `crate::verilated`).
pub struct Verilated<M> {
    model: M,
    dirty: bool,
    tracing: bool,
}

impl<M: Default> Default for Verilated<M> {
    fn default() -> Self {
        Verilated {
            model: M::default(),
            dirty: true,
            tracing: false,
        }
    }
}

impl<M> Verilated<M> {
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, to drive its inputs (marks it for evaluation).
    pub fn model_mut(&mut self) -> &mut M {
        self.dirty = true;
        &mut self.model
    }

    /// Run `eval` if anything was driven since the last one.
    pub fn settle_with(&mut self, eval: impl FnOnce(&mut M)) {
        if std::mem::take(&mut self.dirty) {
            eval(&mut self.model);
        }
    }

    pub fn is_tracing(&self) -> bool {
        self.tracing
    }

    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }
}
