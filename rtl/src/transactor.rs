//! The contract every block implementation meets.

pub use hca_abi::memory::BlockMemory;

/// A block seen at transaction level: requests in, one response per
/// request out, in issue order.
///
/// The behavioral model implements it directly; the rust-hdl simulation and
/// the Verilator build implement it by driving the block's valid/ready
/// ports clock by clock. The differential tests compare them through this
/// trait alone.
pub trait Transactor {
    type Req;
    type Resp;

    /// Issue `reqs` in order, as fast as the block accepts them, and return
    /// their responses in the same order. The block's ICM and DMA ports
    /// reach `mem` (every backend alike: the model reads and writes its
    /// contexts there too), which outlives the call: the contexts stay in
    /// it between transactions, as they stay in ICM.
    fn transact(
        &mut self,
        reqs: &[Self::Req],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<Self::Resp>, TransactorError>;

    /// Short name of the implementation (`model`, `rtl`, `verilator`).
    fn backend(&self) -> &'static str;

    /// Clock cycles simulated so far (0 for an untimed model).
    fn cycles(&self) -> u64;

    /// Hold every request to at most `limit` of the block's own cycles
    /// instead of its documented bound (`None`: the bound). An untimed
    /// model ignores it.
    fn set_cycle_limit(&mut self, _limit: Option<u64>) {}

    /// Reset the block (the device's reset, CLOSE_HCA): what it holds on
    /// chip (cache lines, on-chip contexts) is lost; its memory keeps what
    /// was written to it.
    fn reset(&mut self) -> Result<(), TransactorError>;
}

/// Why a clocked implementation could not complete a transaction.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TransactorError {
    #[error("no response after {cycles} cycles (outstanding: {outstanding})")]
    Timeout { cycles: u64, outstanding: usize },
    /// One request took more of the block's own cycles than its worst case
    /// allows (`docs/blocks/<block>.md`, "Cycle bound"): the block is
    /// wedged. The transactor resets it and drops what was outstanding.
    #[error(
        "the {block} block spent {cycles} cycles on one request without answering it \
         (its bound is {bound}); request: {request}; pacing seed {seed:#x}; \
         the block was reset"
    )]
    Overrun {
        block: &'static str,
        request: String,
        cycles: u64,
        bound: u64,
        seed: u64,
    },
    #[error("response without a request outstanding at cycle {cycle}")]
    Spurious { cycle: u64 },
    #[error("simulation did not settle at cycle {cycle}: combinational loop")]
    NoConvergence { cycle: u64 },
}

impl TransactorError {
    /// Whether the transactor can take more requests after this error: a
    /// timeout or an overrun resets the block; a simulation that does not
    /// settle cannot go on.
    pub fn recoverable(&self) -> bool {
        matches!(
            self,
            TransactorError::Timeout { .. } | TransactorError::Overrun { .. }
        )
    }
}

impl<T: Transactor + ?Sized> Transactor for Box<T> {
    type Req = T::Req;
    type Resp = T::Resp;

    fn transact(
        &mut self,
        reqs: &[Self::Req],
        mem: &mut dyn BlockMemory,
    ) -> Result<Vec<Self::Resp>, TransactorError> {
        (**self).transact(reqs, mem)
    }

    fn backend(&self) -> &'static str {
        (**self).backend()
    }

    fn cycles(&self) -> u64 {
        (**self).cycles()
    }

    fn set_cycle_limit(&mut self, limit: Option<u64>) {
        (**self).set_cycle_limit(limit)
    }

    fn reset(&mut self) -> Result<(), TransactorError> {
        (**self).reset()
    }
}

/// A block with a memory of its own for its ICM and DMA ports (a map: see
/// [`hca_abi::memory::SparseIcm`]), for tools, benches and tests that
/// drive one block alone. It derefs to the block.
pub struct WithMemory<T> {
    pub block: T,
    pub mem: hca_abi::memory::SparseIcm,
}

impl<T: Transactor> WithMemory<T> {
    pub fn new(block: T) -> Self {
        WithMemory {
            block,
            mem: Default::default(),
        }
    }

    /// [`Transactor::transact`] on the block's own memory.
    pub fn transact(&mut self, reqs: &[T::Req]) -> Result<Vec<T::Resp>, TransactorError> {
        self.block.transact(reqs, &mut self.mem)
    }
}

impl<T> std::ops::Deref for WithMemory<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.block
    }
}

impl<T> std::ops::DerefMut for WithMemory<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.block
    }
}
