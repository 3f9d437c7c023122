// The timeline chart: uPlot on an index x-axis (one slot per bucket, so weeks and
// months are evenly spaced and no time zone can shift a day), bars for additive
// metrics, a line with points for rates and averages (which do not add up).

import uPlot from "uplot";
import { MONEY, RATES, num } from "./format.js";

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** Tick positions: at most `max` evenly spread bucket indexes, always integers. */
function ticks(count, max) {
  const step = Math.max(1, Math.ceil(count / max));
  const out = [];
  for (let i = 0; i < count; i += step) out.push(i);
  return out;
}

export class TimelineChart {
  /**
   * @param {HTMLElement} host element the chart fills
   * @param {HTMLElement} readout element showing the hovered bucket's value
   */
  constructor(host, readout) {
    this.host = host;
    this.readout = readout;
    this.plot = null;
  }

  /** Draw `metric` over `timeline.buckets`; `fmt` is the report's Formatter. */
  render(timeline, metric, fmt) {
    const buckets = timeline.buckets;
    const xs = buckets.map((_, i) => i);
    const ys = buckets.map((b) => num(b.metrics[metric]));
    const additive = !RATES.has(metric) && !(MONEY.has(metric) && metric !== "revenue");
    this.values = ys;
    // The plotted series, readable by tests and assistive tooling without a canvas.
    this.host.dataset.metric = metric;
    this.host.dataset.points = String(ys.length);
    this.host.dataset.values = JSON.stringify(ys);

    const accent = css("--accent");
    const muted = css("--muted");
    const grid = css("--grid");
    const font = `11px ${css("--font") || "system-ui, sans-serif"}`;
    const width = Math.max(200, this.host.clientWidth);
    const height = Math.max(120, this.host.clientHeight);
    const maxTicks = Math.max(2, Math.floor(width / 72));
    const series = {
      label: metric,
      stroke: accent,
      width: additive ? 0 : 2,
      fill: additive ? accent : undefined,
      points: { show: !additive && buckets.length <= 60, size: 5, fill: accent },
      spanGaps: false,
    };
    if (additive) {
      series.paths = uPlot.paths.bars({ size: [0.72, 48], gap: 1 });
    }

    const options = {
      width,
      height,
      padding: [8, 8, 0, 0],
      legend: { show: false },
      cursor: { points: { show: !additive }, drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.6, buckets.length - 0.4] },
        y: {
          range: (_u, min, max) => {
            const top = max > 0 ? max * 1.08 : 1;
            return [Math.min(0, min ?? 0), top];
          },
        },
      },
      axes: [
        {
          stroke: muted,
          font,
          size: 26,
          grid: { show: false },
          ticks: { stroke: grid, size: 4 },
          splits: () => ticks(buckets.length, maxTicks),
          values: (_u, splits) =>
            splits.map((i) => (buckets[i] ? fmt.bucket(timeline.granularity, { ...buckets[i], period_end: buckets[i].period_start }) : "")),
        },
        {
          stroke: muted,
          font,
          size: 56,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          values: (_u, splits) => splits.map((v) => fmt.short(metric, v)),
        },
      ],
      series: [{}, series],
      hooks: {
        setCursor: [(u) => this._showReadout(u.cursor.idx, timeline, metric, fmt)],
      },
    };
    this.destroy();
    this.plot = new uPlot(options, [xs, ys], this.host);
    this._showReadout(null, timeline, metric, fmt);
  }

  _showReadout(index, timeline, metric, fmt) {
    const buckets = timeline.buckets;
    if (index === null || index === undefined || !buckets[index]) {
      const total = this.values.filter((v) => v !== null);
      this.readout.textContent = `${buckets.length} ${timeline.granularity}s`;
      this.readout.title = total.length ? "" : "No data";
      return;
    }
    const bucket = buckets[index];
    this.readout.textContent = `${fmt.bucket(timeline.granularity, bucket, true)}: ${fmt.value(metric, bucket.metrics[metric])}`;
  }

  resize() {
    if (this.plot) {
      this.plot.setSize({
        width: Math.max(200, this.host.clientWidth),
        height: Math.max(120, this.host.clientHeight),
      });
    }
  }

  destroy() {
    if (this.plot) {
      this.plot.destroy();
      this.plot = null;
    }
  }
}
