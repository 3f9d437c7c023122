// explain_change results (reporting/schemas_explain.py, Explanation): the metric in
// both windows and its change as tiles, then one bar per driver — drivers_up (largest
// first), drivers_down (largest fall first), then the `others` row — whose
// contributions add up to the change. For rates and ratios (method "shift_share")
// each bar is split into its rate effect (solid) and mix effect (light), each drawn
// on its own side of zero, since the two can pull in opposite directions.

import { h } from "./dom.js";
import { changeTone, label, num } from "./format.js";

/** True for an explain_change result. */
export function isExplanation(report) {
  return Array.isArray(report?.drivers_up) && Array.isArray(report?.drivers_down);
}

/** The metric now, before, and its change. */
export function explanationKpis(report, fmt) {
  const metric = report.metric;
  const delta = fmt.change(metric, report.change);
  const relative = num(report.change?.relative);
  const tile = (kind, title, value, text, extra = null) =>
    h(
      "div",
      { class: "kpi", dataset: { kpi: kind, value: value ?? "" } },
      h("span", { class: "kpi-label", text: title }),
      h("span", { class: "kpi-value", title: fmt.value(metric, value), text }),
      extra,
    );
  return h(
    "section",
    { class: "kpis", "aria-label": "Change" },
    tile("current", label(metric), report.current, fmt.short(metric, report.current)),
    tile("previous", "Before", report.previous, fmt.short(metric, report.previous)),
    tile(
      "change",
      "Change",
      report.change?.absolute,
      fmt.signed(metric, report.change?.absolute),
      // Rates: the tile shows points, the line below the relative change of the rate.
      h("span", {
        class: `kpi-change ${delta ? changeTone(metric, delta.sign) : "flat"}`,
        text:
          relative === null
            ? "n/a"
            : `${relative > 0 ? "▲ " : relative < 0 ? "▼ " : ""}${fmt.percent(relative)}`,
      }),
    ),
  );
}

export function explanationPanel(report, fmt) {
  const metric = report.metric;
  const split = report.method === "shift_share";
  const bar = h(
    "div",
    { class: "panel-bar" },
    h("span", { text: `Contribution by ${report.by}` }),
    split
      ? h(
          "span",
          { class: "legend", id: "legend" },
          h("span", { class: "swatch rate", "aria-hidden": "true" }),
          "own rate ",
          h("span", { class: "swatch mix", "aria-hidden": "true" }),
          "mix",
        )
      : null,
  );
  const section = (...children) =>
    h(
      "section",
      { class: "panel", id: "panel-drivers", role: "tabpanel", "aria-labelledby": "tab-drivers" },
      ...children,
    );
  if (!report.explained) {
    return section(bar, h("p", { class: "status", id: "note", text: report.note ?? "" }));
  }
  const rows = [
    ...report.drivers_up.map((d) => ({ ...d, group: "up" })),
    ...report.drivers_down.map((d) => ({ ...d, group: "down" })),
  ];
  if (report.others?.groups) {
    const n = report.others.groups;
    rows.push({ ...report.others, group: "others", name: `${n} other${n === 1 ? "" : "s"}` });
  }
  const parts = rows.map((row) => segments(row, split));
  const largest = Math.max(
    ...parts.map((segs) =>
      Math.max(
        segs.reduce((sum, [, v]) => sum + Math.max(v, 0), 0),
        segs.reduce((sum, [, v]) => sum - Math.min(v, 0), 0),
      ),
    ),
    1e-12,
  );
  const items = rows.map((row, i) => driverRow(row, parts[i], largest, metric, fmt, split));
  const note = [];
  if (report.new_groups) note.push(`${report.new_groups} new`);
  if (report.gone_groups) note.push(`${report.gone_groups} gone`);
  note.push(`${report.total_groups} ${report.by}${report.total_groups === 1 ? "" : "s"} in all`);
  return section(
    bar,
    items.length
      ? h("ol", { class: "drivers", id: "drivers" }, items)
      : h("p", { class: "status", text: "No group moved." }),
    h("p", { class: "note", text: note.join(" · ") }),
  );
}

/** [kind, value] parts of a row's bar: its rate and mix effects, or its whole contribution. */
function segments(row, split) {
  if (!split) return [["total", num(row.contribution) ?? 0]];
  return [
    ["rate", num(row.rate_effect) ?? 0],
    ["mix", num(row.mix_effect) ?? 0],
  ];
}

function driverRow(row, parts, largest, metric, fmt, split) {
  const value = num(row.contribution) ?? 0;
  const sign = Math.sign(value);
  // Positive parts stack rightwards from the zero line, negative ones leftwards.
  const offset = { right: 0, left: 0 };
  const bars = parts
    .filter(([, v]) => v !== 0)
    .map(([kind, v]) => {
      const side = v > 0 ? "left" : "right"; // the CSS property anchoring it at zero
      const width = (Math.abs(v) / largest) * 50;
      const start = 50 + (v > 0 ? offset.right : offset.left);
      offset[v > 0 ? "right" : "left"] += width;
      return h("span", {
        class: `driver-bar ${kind} ${changeTone(metric, Math.sign(v))}`,
        dataset: { value: String(v) },
        style: `${side}:${start}%;width:${width}%`,
      });
    });
  const status = row.status && row.status !== "continuing" ? row.status : null;
  const detail = split
    ? `${fmt.signed(metric, row.rate_effect)} own rate, ${fmt.signed(metric, row.mix_effect)} mix`
    : null;
  const classes = ["driver", sign < 0 ? "negative" : "positive", row.group === "others" ? "others" : null];
  return h(
    "li",
    {
      class: classes.filter(Boolean).join(" "),
      dataset: { contribution: String(value), group: row.group, status: row.status ?? "", key: row.key ?? "" },
      title: detail ?? undefined,
    },
    h(
      "span",
      { class: "driver-name" },
      h("span", { class: "driver-label", title: row.name, text: row.name }),
      h(
        "small",
        { class: "driver-values" },
        status ? h("span", { class: `flag ${status}`, text: status }) : null,
        `${fmt.short(metric, row.previous)} → ${fmt.short(metric, row.current)}`,
      ),
    ),
    h("span", { class: "driver-track", "aria-hidden": "true" }, bars),
    h(
      "span",
      { class: "driver-value" },
      fmt.signed(metric, value),
      detail ? h("span", { class: "sr-only", text: ` (${detail})` }) : null,
    ),
  );
}
