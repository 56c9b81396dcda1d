//! SVG charts of the results: grouped bars, one group per scenario, one bar
//! per client.

use std::path::Path;

use anyhow::anyhow;
use plotters::coord::combinators::NestedValue;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::args::Mode;

use super::results::{BenchResults, Summary};

/// One chart's data: for each client, one value (or none) per group.
pub struct BarChart<'a> {
    /// The title.
    pub title: &'a str,
    /// The y axis's description.
    pub y_label: &'a str,
    /// Group names along the x axis.
    pub groups: Vec<String>,
    /// `(client, values per group)`.
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// A logarithmic y axis (for latencies spanning decades).
    pub log_y: bool,
}

const SIZE: (u32, u32) = (1400, 640);

impl BarChart<'_> {
    /// Draws the chart as SVG into `path`.
    pub fn write_svg(&self, path: &Path) -> anyhow::Result<()> {
        let max = self
            .series
            .iter()
            .flat_map(|(_, values)| values.iter().flatten())
            .copied()
            .fold(0.0_f64, f64::max);
        // Head room above the tallest bar for the legend.
        let top = if max > 0.0 { max * 1.3 } else { 1.0 };
        if self.log_y {
            let floor = self
                .series
                .iter()
                .flat_map(|(_, values)| values.iter().flatten())
                .copied()
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            let bottom = if floor.is_finite() { floor / 2.0 } else { 0.1 };
            self.draw(path, (bottom..top * 2.0).log_scale(), bottom)
        } else {
            self.draw(path, 0.0..top, 0.0)
        }
    }

    fn draw<Y>(&self, path: &Path, y_range: Y, base: f64) -> anyhow::Result<()>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let failed = |e: &dyn std::fmt::Display| anyhow!("cannot draw {}: {e}", path.display());
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&e))?;
        let groups = self.groups.as_slice();
        let mut chart = ChartBuilder::on(&root)
            .caption(self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(
                groups.nested_coord(|_| RangedCoordf64::from(0.0..1.0)),
                y_range,
            )
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(self.y_label)
            .x_label_style(("sans-serif", 12))
            .x_label_formatter(&|value| match value {
                NestedValue::Category(group) | NestedValue::Value(group, _) => (*group).clone(),
            })
            .y_label_formatter(&|v| format_value(*v))
            .draw()
            .map_err(|e| failed(&e))?;
        let clients = self.series.len().max(1) as f64;
        let width = 0.8 / clients;
        for (index, (client, values)) in self.series.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            let left = 0.1 + index as f64 * width;
            let bars = groups.iter().zip(values).filter_map(|(group, value)| {
                let value = (*value)?;
                Some(Rectangle::new(
                    [
                        ((group, left).into(), base),
                        ((group, left + width * 0.9).into(), value),
                    ],
                    color.filled(),
                ))
            });
            chart
                .draw_series(bars)
                .map_err(|e| failed(&e))?
                .label(client.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))
    }
}

fn format_value(value: f64) -> String {
    if value == 0.0 {
        "0".to_owned()
    } else if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e3 {
        format!("{:.0}k", value / 1e3)
    } else if value >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn throughput_chart<'a>(
    results: &BenchResults,
    title: &'a str,
    y_label: &'a str,
    figure: fn(&Summary) -> Option<f64>,
) -> BarChart<'a> {
    let scenarios: Vec<&str> = results
        .scenarios
        .iter()
        .filter(|s| s.mode == Mode::Throughput)
        .map(|s| s.name.as_str())
        .collect();
    BarChart {
        title,
        y_label,
        groups: scenarios.iter().map(|s| (*s).to_owned()).collect(),
        series: results
            .clients
            .iter()
            .map(|(client, _)| {
                let values = scenarios
                    .iter()
                    .map(|s| results.summary(s, client).and_then(figure))
                    .collect();
                (client.clone(), values)
            })
            .collect(),
        log_y: false,
    }
}

fn latency_chart(results: &BenchResults) -> BarChart<'static> {
    let scenarios: Vec<&str> = results
        .scenarios
        .iter()
        .filter(|s| s.mode == Mode::Latency)
        .map(|s| s.name.as_str())
        .collect();
    type Pick = fn(&crate::report::Latency) -> f64;
    let percentiles: [(&str, Pick); 3] = [
        ("p50", |l| l.p50_us),
        ("p99", |l| l.p99_us),
        ("p99.9", |l| l.p999_us),
    ];
    let cells: Vec<(&str, &str, Pick)> = scenarios
        .iter()
        .flat_map(|s| {
            percentiles
                .iter()
                .map(move |(name, pick)| (*s, *name, *pick))
        })
        .collect();
    BarChart {
        title: "Send-to-ack latency at a fixed rate (ms, log scale; lower is better)",
        y_label: "milliseconds",
        groups: cells
            .iter()
            .map(|(s, p, _)| format!("{} {p}", s.trim_start_matches("latency-")))
            .collect(),
        series: results
            .clients
            .iter()
            .map(|(client, _)| {
                let values = cells
                    .iter()
                    .map(|(s, _, pick)| {
                        results
                            .summary(s, client)
                            .and_then(|summary| summary.latency.as_ref())
                            .map(|l| pick(l) / 1000.0)
                    })
                    .collect();
                (client.clone(), values)
            })
            .collect(),
        log_y: true,
    }
}

/// Writes `throughput.svg`, `cpu.svg` and `latency.svg` (those with data) into `dir`.
pub fn write_all(results: &BenchResults, dir: &Path) -> anyhow::Result<()> {
    let has_throughput = results.scenarios.iter().any(|s| s.mode == Mode::Throughput);
    if has_throughput {
        throughput_chart(
            results,
            "Records per second (higher is better)",
            "records/s",
            |s| s.records_per_s,
        )
        .write_svg(&dir.join("throughput.svg"))?;
        throughput_chart(
            results,
            "Client CPU seconds per million records (user + system; lower is better)",
            "CPU s / M records",
            |s| s.cpu_s_per_million,
        )
        .write_svg(&dir.join("cpu.svg"))?;
    }
    if results.scenarios.iter().any(|s| s.mode == Mode::Latency) {
        latency_chart(results).write_svg(&dir.join("latency.svg"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_written_as_svg() {
        let path =
            std::env::temp_dir().join(format!("kafka-bench-chart-{}.svg", std::process::id()));
        let chart = BarChart {
            title: "t",
            y_label: "y",
            groups: vec!["a".into(), "b".into()],
            series: vec![
                ("one".into(), vec![Some(10.0), None]),
                ("two".into(), vec![Some(5.0), Some(2_000_000.0)]),
            ],
            log_y: false,
        };
        chart.write_svg(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.contains("two"));
        BarChart {
            log_y: true,
            ..chart
        }
        .write_svg(&path)
        .unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn values_are_formatted_compactly() {
        assert_eq!(format_value(1_500_000.0), "1.5M");
        assert_eq!(format_value(25_000.0), "25k");
        assert_eq!(format_value(0.25), "0.25");
    }
}
