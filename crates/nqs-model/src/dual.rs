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
    /// A constant: derivative 0.
    pub(crate) fn constant(value: f64) -> Self {
        Self {
            value,
            tangent: 0.0,
        }
    }

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

impl Dual {
    /// √u: d√u = du/(2√u).
    #[inline(always)]
    pub(crate) fn sqrt(self) -> Dual {
        let root = self.value.sqrt();
        Dual {
            value: root,
            tangent: self.tangent / (2.0 * root),
        }
    }

    /// ln|u|: d ln|u| = du/u.
    #[inline(always)]
    pub(crate) fn ln_abs(self) -> Dual {
        Dual {
            value: self.value.abs().ln(),
            tangent: self.tangent / self.value,
        }
    }
}

/// What the code that forward mode differentiates is written over: f64 for values, [`Dual`]
/// for values with their derivatives.
pub(crate) trait Number:
    Copy
    + Add<f64, Output = Self>
    + Add<Output = Self>
    + Mul<f64, Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
where
    f64: Div<Self, Output = Self>,
{
    /// The value's size, for choosing pivots (the derivative does not enter the choice).
    fn magnitude(self) -> f64;
}

impl Number for f64 {
    #[inline(always)]
    fn magnitude(self) -> f64 {
        self.abs()
    }
}

impl Number for Dual {
    #[inline(always)]
    fn magnitude(self) -> f64 {
        self.value.abs()
    }
}

/// log|det A| of the row-major n × n matrix `a` (consumed) by LU elimination with partial
/// pivoting, as Σ_k ln|pivot_k| (`ln_abs` takes ln|·|; a sum, so that no product of pivots
/// can overflow). Written once over [`Number`], so that on [`Dual`] entries it gives the
/// derivative of log|det A| along the entries' tangents.
pub(crate) fn log_abs_det<T: Number>(mut a: Vec<T>, n: usize, ln_abs: impl Fn(T) -> T) -> T
where
    f64: Div<T, Output = T>,
{
    assert_eq!(a.len(), n * n, "a is n × n");
    let mut sum: Option<T> = None;
    for k in 0..n {
        let pivot_row = (k..n)
            .max_by(|&i, &j| {
                a[i * n + k]
                    .magnitude()
                    .total_cmp(&a[j * n + k].magnitude())
            })
            .expect("k < n");
        if pivot_row != k {
            for c in 0..n {
                a.swap(k * n + c, pivot_row * n + c);
            }
        }
        let pivot = a[k * n + k];
        for i in k + 1..n {
            let factor = a[i * n + k] / pivot;
            for c in k + 1..n {
                a[i * n + c] = a[i * n + c] + factor * a[k * n + c] * -1.0;
            }
        }
        let log = ln_abs(pivot);
        sum = Some(match sum {
            None => log,
            Some(s) => s + log,
        });
    }
    sum.expect("n ≥ 1")
}

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

    /// log|det A(t)| of a matrix whose entries are polynomials in t: the value equals a
    /// cofactor expansion's, the tangent a central difference of the f64 instantiation.
    #[test]
    fn log_abs_det_and_its_tangent() {
        let entries = |t: f64| -> Vec<f64> {
            vec![
                0.3 + t,
                2.0 * t * t,
                -1.1,
                0.7,
                -0.4 + 3.0 * t,
                0.25 * t,
                1.9 - t,
                0.6,
                0.05 + t * t * t,
            ]
        };
        let det3 = |m: &[f64]| {
            m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
                + m[2] * (m[3] * m[7] - m[4] * m[6])
        };
        for t in [-0.8, 0.1, 0.45, 1.3] {
            let value = super::log_abs_det(entries(t), 3, |v: f64| v.abs().ln());
            assert!(
                (value - det3(&entries(t)).abs().ln()).abs() < 1e-13,
                "t = {t}"
            );
            let h = 1e-6;
            let duals: Vec<Dual> = entries(t)
                .iter()
                .zip(entries(t + h).iter().zip(entries(t - h)))
                .map(|(&v, (&p, m))| Dual {
                    value: v,
                    tangent: (p - m) / (2.0 * h),
                })
                .collect();
            let dual = super::log_abs_det(duals, 3, Dual::ln_abs);
            let ln = |t: f64| det3(&entries(t)).abs().ln();
            let difference = (ln(t + h) - ln(t - h)) / (2.0 * h);
            assert!((dual.value - value).abs() < 1e-14, "t = {t}");
            assert!(
                (dual.tangent - difference).abs() < 1e-7 * (1.0 + difference.abs()),
                "t = {t}: {} against {difference}",
                dual.tangent
            );
        }
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
