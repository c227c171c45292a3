//! Forward-mode automatic differentiation with one tangent: a number carried together with
//! its derivative along one direction of parameter space, through +, × and ÷ by the textbook
//! rules of each operation (d(u + v) = du + dv, d(uv) = u dv + v du,
//! d(u/v) = (du − (u/v) dv)/v).
//!
//! burn's autodiff is reverse mode: through a host pass it needs the pass's every
//! intermediate as a tensor. Where a pass depends on few parameters, forward mode carries
//! their derivatives through the pass itself, from the same code that computes the value
//! (written once, generic over [`Number`]); the host pass then hands burn one first-order op,
//! y = f + (θ − θ̄)·∂f/∂θ, as `host_det.rs` does for log|det| and `host_tanh.rs` for tanh.
//! Nothing about ∂ψ/∂θ is derived by hand: the derivative is the value's own code run on
//! [`Dual`] numbers.

use std::ops::{Add, Div, Mul};

/// A value and its derivative along one direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dual {
    pub(crate) value: f64,
    pub(crate) tangent: f64,
}

impl Dual {
    /// The variable itself: value `value`, derivative 1.
    pub(crate) fn variable(value: f64) -> Self {
        Self {
            value,
            tangent: 1.0,
        }
    }
}

impl Add<f64> for Dual {
    type Output = Dual;
    #[inline(always)]
    fn add(self, c: f64) -> Dual {
        Dual {
            value: self.value + c,
            tangent: self.tangent,
        }
    }
}

impl Add for Dual {
    type Output = Dual;
    #[inline(always)]
    fn add(self, v: Dual) -> Dual {
        Dual {
            value: self.value + v.value,
            tangent: self.tangent + v.tangent,
        }
    }
}

impl Mul<f64> for Dual {
    type Output = Dual;
    #[inline(always)]
    fn mul(self, c: f64) -> Dual {
        Dual {
            value: self.value * c,
            tangent: self.tangent * c,
        }
    }
}

impl Mul for Dual {
    type Output = Dual;
    #[inline(always)]
    fn mul(self, v: Dual) -> Dual {
        Dual {
            value: self.value * v.value,
            tangent: self.value * v.tangent + v.value * self.tangent,
        }
    }
}

/// c/v with one division: q = c·(1/v) (c/v to rounding), dq = −q·dv·(1/v).
impl Div<Dual> for f64 {
    type Output = Dual;
    #[inline(always)]
    fn div(self, v: Dual) -> Dual {
        let inverse = 1.0 / v.value;
        let value = self * inverse;
        Dual {
            value,
            tangent: -value * v.tangent * inverse,
        }
    }
}

/// u/v with one division: q = u·(1/v), dq = (du − q·dv)·(1/v).
impl Div for Dual {
    type Output = Dual;
    #[inline(always)]
    fn div(self, v: Dual) -> Dual {
        let inverse = 1.0 / v.value;
        let value = self.value * inverse;
        Dual {
            value,
            tangent: (self.tangent - value * v.tangent) * inverse,
        }
    }
}

/// What the code that forward mode differentiates is written over: f64 for values, [`Dual`]
/// for values with their derivatives.
pub(crate) trait Number:
    Copy + Add<f64, Output = Self> + Add<Output = Self> + Mul<f64, Output = Self> + Mul<Output = Self>
where
    f64: Div<Self, Output = Self>,
{
}

impl Number for f64 {}
impl Number for Dual {}

#[cfg(test)]
mod tests {
    use super::{Dual, Number};
    use std::ops::Div;

    /// A function written once over [`Number`], mixing every operation.
    fn f<T: Number + Div<Output = T>>(x: T) -> T
    where
        f64: Div<T, Output = T>,
    {
        let y = x * x * 0.7 + 1.3;
        (y + x) / (2.5 / (x * 3.0 + 4.0)) + 1.0 / y
    }

    /// The tangent equals a central difference of the f64 instantiation (step 1e-5: error
    /// ≈ 1e-10 relative), and the value is the f64 instantiation's to a few ulps.
    #[test]
    fn tangents_equal_central_differences() {
        for x in [-1.7, -0.3, 0.0, 0.4, 1.1, 2.9] {
            let dual = f(Dual::variable(x));
            let h = 1e-5;
            let difference = (f(x + h) - f(x - h)) / (2.0 * h);
            assert!(
                (dual.tangent - difference).abs() < 1e-8 * (1.0 + difference.abs()),
                "x = {x}: {} against {difference}",
                dual.tangent
            );
            assert!(
                (dual.value - f(x)).abs() < 1e-14 * (1.0 + f(x).abs()),
                "x = {x}"
            );
        }
    }
}
