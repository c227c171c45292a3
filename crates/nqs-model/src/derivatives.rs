//! log|ψ| with its position derivatives for a batch of walkers.

use burn::tensor::Tensor;

/// How many position derivatives to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// log|ψ| only (sampling, and the autodiff loss).
    Value,
    /// log|ψ| and ∇ log|ψ| (Langevin drift).
    Gradient,
    /// log|ψ|, ∇ log|ψ| and ∇² log|ψ| (local energy).
    Laplacian,
}

impl Order {
    /// Whether the gradient is carried.
    pub fn gradient(self) -> bool {
        self != Order::Value
    }
    /// Whether the Laplacian is carried.
    pub fn laplacian(self) -> bool {
        self == Order::Laplacian
    }
}

/// log|ψ| of a batch with, depending on [`Order`], its gradient and Laplacian in positions.
#[derive(Debug, Clone)]
pub struct LogPsi {
    /// log|ψ(x)|, `[walkers]`.
    pub value: Tensor<1>,
    /// ∇ log|ψ|, `[walkers, N·d]`.
    pub grad: Option<Tensor<2>>,
    /// ∇² log|ψ| = Σ_k ∂_k² log|ψ|, `[walkers]`.
    pub lap: Option<Tensor<1>>,
}

impl LogPsi {
    /// Sum of two factors' logs (the log of their product).
    pub fn add(self, other: LogPsi) -> LogPsi {
        LogPsi {
            value: self.value + other.value,
            grad: add_opt(self.grad, other.grad),
            lap: add_opt(self.lap, other.lap),
        }
    }

    /// `grad`, or a panic naming the missing order (a programming error, not user input).
    pub fn expect_grad(&self) -> Tensor<2> {
        self.grad
            .clone()
            .expect("LogPsi: gradient requested with Order::Gradient or Order::Laplacian")
    }

    /// `lap`, or a panic naming the missing order (a programming error, not user input).
    pub fn expect_lap(&self) -> Tensor<1> {
        self.lap
            .clone()
            .expect("LogPsi: Laplacian requested with Order::Laplacian")
    }
}

fn add_opt<const D: usize>(a: Option<Tensor<D>>, b: Option<Tensor<D>>) -> Option<Tensor<D>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    }
}
