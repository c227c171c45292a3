//! Plots as PNG and SVG (plotters, with the DejaVu Sans font compiled in so that no system
//! font is needed): energy against step, density, pair distribution, and sweeps.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::TrainError;
use crate::observables::{DensityResult, PairDistributionResult};

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const SIZE: (u32, u32) = (1000, 700);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled into the binary.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draw `$body` (an expression using the drawing area `$root`) into `stem.png` and
/// `stem.svg`; the body is instantiated once per backend.
macro_rules! both {
    ($stem:expr, |$root:ident| $body:expr) => {{
        register_font();
        let png = $stem.with_extension("png");
        let svg = $stem.with_extension("svg");
        {
            let $root = BitMapBackend::new(&png, SIZE).into_drawing_area();
            $body.map_err(|e| TrainError::io(&png, e))?;
            $root.present().map_err(|e| TrainError::io(&png, e))?;
        }
        let $root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        $body.map_err(|e| TrainError::io(&svg, e))?;
        $root.present().map_err(|e| TrainError::io(&svg, e))?;
        Ok(())
    }};
}

/// A run's energy trajectory for [`energy_plot`].
pub struct Trajectory {
    /// Legend label.
    pub label: String,
    /// (step, energy, error) per step.
    pub points: Vec<(f64, f64, f64)>,
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| {
        if v.is_finite() {
            (lo.min(v), hi.max(v))
        } else {
            (lo, hi)
        }
    });
    if lo > hi {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Energy against step for several runs, with the reference as a dashed line: the whole
/// trajectory on the left, a zoom on the last half (the converged part) on the right.
/// `unit` names the energy unit on the axis ("Hartree", "MeV").
pub fn energy_plot(
    stem: &Path,
    runs: &[Trajectory],
    reference: Option<(f64, String)>,
    unit: &str,
) -> Result<(), TrainError> {
    both!(stem, |root| energy_panels(&root, runs, &reference, unit))
}

fn energy_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[Trajectory],
    reference: &Option<(f64, String)>,
    unit: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((1, 2));
    for (k, area) in panels.iter().enumerate() {
        let zoom = k == 1;
        let select = |r: &Trajectory| -> Vec<(f64, f64, f64)> {
            let start = if zoom { r.points.len() / 2 } else { 0 };
            r.points[start..].to_vec()
        };
        let all: Vec<(f64, f64, f64)> = runs.iter().flat_map(select).collect();
        let (x0, x1) = range(all.iter().map(|p| p.0));
        let mut energies: Vec<f64> = all.iter().map(|p| p.1).filter(|e| e.is_finite()).collect();
        energies.sort_by(f64::total_cmp);
        let (mut y0, mut y1) = if zoom && !energies.is_empty() {
            // Robust zoom: 2nd to 98th percentile of the converged half.
            let q = |f: f64| energies[((energies.len() - 1) as f64 * f) as usize];
            range([q(0.02), q(0.98)].into_iter())
        } else {
            range(energies.iter().copied())
        };
        if let Some((e, _)) = reference {
            y0 = y0.min(*e - (y1 - y0) * 0.05);
            y1 = y1.max(*e + (y1 - y0) * 0.05);
        }
        let title = if zoom {
            "converged half (zoom)"
        } else {
            "training"
        };
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 24))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("optimisation step")
            .y_desc(format!("energy ({unit})"))
            .label_style(("sans-serif", 16))
            .axis_desc_style(("sans-serif", 18))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, run) in runs.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    select(run).into_iter().map(|p| (p.0, p.1)),
                    color.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?
                .label(run.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                });
        }
        if let Some((e, label)) = reference {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, *e), (x1, *e)],
                    8,
                    5,
                    BLACK.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// One curve with error bars for [`curves_plot`].
pub struct Curve {
    /// Legend label.
    pub label: String,
    /// (x, y, error) points.
    pub points: Vec<(f64, f64, f64)>,
}

/// Curves with error bars on one set of axes (radial density, pair distributions, sweeps),
/// with an optional set of reference points drawn as black crosses.
pub fn curves_plot(
    stem: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    curves: &[Curve],
    reference: Option<&Curve>,
) -> Result<(), TrainError> {
    both!(stem, |root| curves_panel(
        &root, title, x_desc, y_desc, curves, reference
    ))
}

/// Full-size axes with a title and axis descriptions (curves and emulator plots).
fn titled_axes<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    x: (f64, f64),
    y: (f64, f64),
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 26))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", 17))
        .axis_desc_style(("sans-serif", 19))
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// The legend of a chart in `corner`.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    corner: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(corner)
        .draw()
        .map_err(|e| e.to_string())
}

fn curves_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    curves: &[Curve],
    reference: Option<&Curve>,
) -> Result<(), String> {
    let points = curves.iter().chain(reference).flat_map(|c| c.points.iter());
    let (x0, x1) = range(points.clone().map(|p| p.0));
    let (y0, y1) = range(points.flat_map(|p| [p.1 - p.2, p.1 + p.2]));
    let mut chart = titled_axes(root, title, x_desc, y_desc, (x0, x1), (y0, y1))?;
    for (i, c) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                c.points.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(c.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        chart
            .draw_series(
                c.points.iter().filter(|p| p.2 > 0.0).map(|p| {
                    ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, color.filled(), 6)
                }),
            )
            .map_err(|e| e.to_string())?;
    }
    if let Some(r) = reference {
        chart
            .draw_series(
                r.points
                    .iter()
                    .map(|p| Cross::new((p.0, p.1), 7, BLACK.stroke_width(2))),
            )
            .map_err(|e| e.to_string())?
            .label(r.label.clone())
            .legend(|(x, y)| Cross::new((x + 10, y), 6, BLACK.stroke_width(2)));
    }
    // Legend in the right-hand corner the curves leave free.
    let ends_high = curves
        .first()
        .and_then(|c| c.points.last())
        .is_some_and(|p| p.1 > 0.5 * (y0 + y1));
    let corner = if ends_high {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    };
    legend(&mut chart, corner)
}

/// The density grid as a heat map (left) and the radial profile with error bars (right);
/// `unit` names the length unit ("a.u.", "fm").
pub fn density_plot(
    stem: &Path,
    d: &DensityResult,
    title: &str,
    unit: &str,
) -> Result<(), TrainError> {
    both!(stem, |root| density_panels(&root, d, title, unit))
}

fn density_panels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    d: &DensityResult,
    title: &str,
    unit: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, ("sans-serif", 26))
        .map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let bins = d.axis.len();
    let cell = d.axis.get(1).map(|a| a - d.axis[0]).unwrap_or(1.0);
    let (lo, hi) = (d.axis[0] - cell / 2.0, d.axis[bins - 1] + cell / 2.0);
    if d.grid.len() == bins * bins {
        let max = d.grid.iter().cloned().fold(0.0, f64::max).max(1e-300);
        let mut chart = ChartBuilder::on(&left)
            .caption("ρ(x, y)", ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(format!("x ({unit})"))
            .y_desc(format!("y ({unit})"))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(d.grid.iter().enumerate().map(|(k, rho)| {
                let (x, y) = (d.axis[k % bins], d.axis[k / bins]);
                let color = ViridisRGB::get_color(rho / max);
                Rectangle::new(
                    [
                        (x - cell / 2.0, y - cell / 2.0),
                        (x + cell / 2.0, y + cell / 2.0),
                    ],
                    color.filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
    }
    let curve = Curve {
        label: "ρ(r)".into(),
        points: (0..d.r.len())
            .map(|i| (d.r[i], d.radial[i], d.radial_error[i]))
            .collect(),
    };
    curves_panel(
        &right,
        "radial density",
        &format!("r ({unit})"),
        "ρ(r) (particles per unit volume)",
        &[curve],
        None,
    )
}

/// Parallel and antiparallel pair distributions with error bars; `species` is false when
/// all particles are of one spin species (the nucleons of a spatially symmetric nucleus),
/// and then one curve shows all pairs.
pub fn pair_plot(
    stem: &Path,
    p: &PairDistributionResult,
    title: &str,
    unit: &str,
    species: bool,
) -> Result<(), TrainError> {
    let curve = |label: &str, v: &[f64], e: &[f64]| Curve {
        label: label.into(),
        points: (0..p.r.len()).map(|i| (p.r[i], v[i], e[i])).collect(),
    };
    let curves = if species {
        vec![
            curve("parallel spins", &p.parallel, &p.parallel_error),
            curve("antiparallel spins", &p.antiparallel, &p.antiparallel_error),
        ]
    } else {
        vec![curve("all pairs", &p.parallel, &p.parallel_error)]
    };
    curves_plot(
        stem,
        title,
        &format!("r₁₂ ({unit})"),
        if p.normalised {
            "pair distribution g(r₁₂)"
        } else {
            "pair density P(r₁₂) (pairs per unit volume)"
        },
        &curves,
        None,
    )
}

/// What [`emulator_plot`] draws.
pub struct EmulatorCurves<'a> {
    /// Training energies (c, E, σ).
    pub data: &'a [(f64, f64, f64)],
    /// The emulator (c, E, uncertainty) on a grid.
    pub emulator: &'a [(f64, f64, f64)],
    /// The polynomial baseline (c, E) on the same grid.
    pub polynomial: &'a [(f64, f64)],
    /// Label of the polynomial.
    pub polynomial_label: String,
    /// The training range, marked by vertical lines.
    pub range: (f64, f64),
}

/// An emulator against its training data: the PMM with its uncertainty band, the polynomial
/// baseline dashed, the data with error bars, the training range marked.
pub fn emulator_plot(
    stem: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    curves: &EmulatorCurves<'_>,
) -> Result<(), TrainError> {
    both!(stem, |root| emulator_panel(
        &root, title, x_desc, y_desc, curves
    ))
}

fn emulator_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    curves: &EmulatorCurves<'_>,
) -> Result<(), String> {
    let (x0, x1) = range(
        curves
            .emulator
            .iter()
            .map(|p| p.0)
            .chain(curves.data.iter().map(|p| p.0)),
    );
    // The vertical range follows the emulator and the data; the polynomial may leave it.
    let (y0, y1) = range(
        curves
            .emulator
            .iter()
            .flat_map(|p| [p.1 - p.2, p.1 + p.2])
            .chain(curves.data.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2])),
    );
    let mut chart = titled_axes(root, title, x_desc, y_desc, (x0, x1), (y0, y1))?;
    let blue = PALETTE[0];
    let band: Vec<(f64, f64)> = curves
        .emulator
        .iter()
        .map(|p| (p.0, (p.1 + p.2).min(y1)))
        .chain(
            curves
                .emulator
                .iter()
                .rev()
                .map(|p| (p.0, (p.1 - p.2).max(y0))),
        )
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, blue.mix(0.2).filled())))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            curves.emulator.iter().map(|p| (p.0, p.1)),
            blue.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("PMM emulator ± uncertainty")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(3)));
    let red = PALETTE[1];
    let inside = |y: f64| y >= y0 && y <= y1;
    chart
        .draw_series(DashedLineSeries::new(
            curves
                .polynomial
                .iter()
                .filter(|p| inside(p.1))
                .map(|p| (p.0, p.1)),
            8,
            5,
            red.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(curves.polynomial_label.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], red.stroke_width(2)));
    for edge in [curves.range.0, curves.range.1] {
        chart
            .draw_series(DashedLineSeries::new(
                [(edge, y0), (edge, y1)],
                4,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
    }
    chart
        .draw_series(
            curves
                .data
                .iter()
                .map(|p| ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, BLACK.filled(), 8)),
        )
        .map_err(|e| e.to_string())?
        .label("training energies (range dashed)")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, BLACK.filled()));
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
