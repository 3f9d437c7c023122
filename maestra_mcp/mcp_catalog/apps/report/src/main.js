// The Maestra report view (MCP Apps, `ui://maestra/report`): renders the
// structuredContent of campaign_report / flow_report (reporting/schemas.py) and of
// explain_change (reporting/schemas_explain.py). It talks only to its host through
// the ext-apps App (postMessage); it loads nothing from the network.

import {
  App,
  applyDocumentTheme,
  applyHostStyleVariables,
} from "@modelcontextprotocol/ext-apps/app-with-deps";
import { TimelineChart } from "./chart.js";
import { h } from "./dom.js";
import { explanationKpis, explanationPanel, isExplanation } from "./explain.js";
import { Formatter, LABELS, changeTone, label, num } from "./format.js";
import "./style.css";

// The tiles on top, and the breakdown's columns after the name.
const KPIS = ["revenue", "orders", "sends", "open_rate", "click_rate", "conversion_rate"];
const COLUMNS = ["revenue", "orders", "sends", "open_rate", "click_rate", "conversion_rate"];
// Metrics offered in the chart's switch, in this order.
const CHART_METRICS = Object.keys(LABELS);
// Claude caps inline views at about 500 px; a host's containerDimensions win.
const DEFAULT_HEIGHT = 500;

const root = document.getElementById("app");
const state = {
  report: null,
  toolTitle: null,
  locale: navigator.language,
  metric: "revenue",
  tab: null,
  sort: null, // {column, dir} once the user sorts the breakdown
};
let chart = null;

function formatter() {
  const report = state.report;
  return new Formatter(report?.currency ?? report?.provenance?.currency, state.locale);
}

function status(text, kind = "info") {
  root.className = "view";
  root.replaceChildren(h("p", { class: `status ${kind}`, role: "status", text }));
}

// --- Rendering ---------------------------------------------------------------------

function render() {
  const report = state.report;
  if (!report) return;
  const fmt = formatter();
  chart?.destroy();
  chart = null;

  const explanation = isExplanation(report);
  const panels = [];
  if (explanation) panels.push(["drivers", "Drivers"]);
  if (report.timeline?.buckets?.length) panels.push(["timeline", "Timeline"]);
  if (report.breakdown) panels.push(["breakdown", breakdownTitle(report.breakdown)]);
  if (!panels.some(([id]) => id === state.tab)) state.tab = panels[0]?.[0] ?? null;

  const children = [header(report, fmt)];
  if (report.summary) children.push(kpis(report, fmt));
  if (explanation) children.push(explanationKpis(report, fmt));
  if (panels.length > 1) {
    children.push(
      h(
        "div",
        { class: "tabs", role: "tablist", "aria-label": "Report views" },
        panels.map(([id, title]) =>
          h("button", {
            type: "button",
            role: "tab",
            id: `tab-${id}`,
            "aria-selected": String(id === state.tab),
            "aria-controls": `panel-${id}`,
            class: id === state.tab ? "tab active" : "tab",
            text: title,
            onclick: () => {
              state.tab = id;
              render();
            },
          }),
        ),
      ),
    );
  }
  let panel = null;
  if (state.tab === "timeline") panel = timelinePanel(report, fmt);
  if (state.tab === "breakdown") panel = breakdownPanel(report.breakdown, fmt);
  if (state.tab === "drivers") panel = explanationPanel(report, fmt);
  if (panel) children.push(panel);
  if (!report.summary && !panel) {
    children.push(h("p", { class: "status", text: "This result has nothing to chart." }));
  }

  // With a timeline the view takes the full height (the chart needs one, and switching
  // tabs then does not resize the host's frame); otherwise it is as tall as its content.
  root.className = report.timeline?.buckets?.length ? "view fixed" : "view";
  root.dataset.ready = "true";
  root.replaceChildren(...children);
  if (state.tab === "timeline") drawChart(report, fmt);
}

function breakdownTitle(breakdown) {
  return breakdown.by === "none" ? "Breakdown" : `By ${breakdown.by}`;
}

function header(report, fmt) {
  const explanation = isExplanation(report);
  const title = state.toolTitle ?? (explanation ? "What changed" : "Report");
  const parts = [];
  if (report.window) parts.push(`${fmt.range(report.window)} · ${report.window.days} days`);
  const comparison = report.comparison;
  if (comparison) {
    const kind = comparison.compare_to === "previous_year" ? "previous year" : "previous period";
    parts.push(`vs ${kind} (${fmt.range(comparison.window)})`);
  }
  if (explanation) parts.push(`vs ${fmt.range(report.comparison_window)}`);
  if (report.brand_restricted) parts.push("your brands only");
  if (explanation && report.provenance?.partial) parts.push("incomplete data");
  return h(
    "header",
    {},
    h("h1", { text: title }),
    h("p", { class: "sub", id: "subtitle", text: parts.join(" · ") }),
  );
}

function kpis(report, fmt) {
  const change = report.comparison?.change ?? {};
  return h(
    "section",
    { class: "kpis", "aria-label": "Totals" },
    KPIS.map((metric) => {
      const value = report.summary[metric];
      const delta = fmt.change(metric, change[metric]);
      const previous = report.comparison?.summary?.[metric];
      return h(
        "div",
        { class: "kpi", dataset: { metric, value: value ?? "" } },
        h("span", { class: "kpi-label", text: label(metric) }),
        h("span", { class: "kpi-value", title: fmt.value(metric, value), text: fmt.short(metric, value) }),
        delta
          ? h("span", {
              class: `kpi-change ${changeTone(metric, delta.sign)}`,
              dataset: { change: delta.text },
              title: `Before: ${fmt.value(metric, previous)}`,
              text: `${delta.sign > 0 ? "▲ " : delta.sign < 0 ? "▼ " : ""}${delta.text}`,
            })
          : report.comparison
            ? h("span", { class: "kpi-change flat", text: "n/a" })
            : null,
      );
    }),
  );
}

function timelinePanel(report, fmt) {
  const timeline = report.timeline;
  const available = CHART_METRICS.filter((m) => m in timeline.buckets[0].metrics);
  if (!available.includes(state.metric)) state.metric = available[0];
  const select = h(
    "select",
    {
      id: "metric",
      "aria-label": "Chart metric",
      onchange: (event) => {
        state.metric = event.target.value;
        render();
      },
    },
    available.map((m) => h("option", { value: m, text: label(m), selected: m === state.metric })),
  );
  const readout = h("span", { class: "readout", id: "readout", "aria-live": "polite" });
  const plot = h("div", { class: "chart", id: "chart", role: "img", "aria-label": `${label(state.metric)} by ${timeline.granularity}` });
  // The same numbers as a table for screen readers (and for tests that cannot read a canvas).
  // (A table ignores `height`, so the clipping box is a div around it.)
  const table = h(
    "div",
    { class: "sr-only" },
    h("table", { id: "timeline-table" },
    h("caption", { text: `${label(state.metric)} by ${timeline.granularity}` }),
    h("tbody", {}, timeline.buckets.map((bucket) =>
      h("tr", { dataset: { start: bucket.period_start, value: bucket.metrics[state.metric] ?? "" } },
        h("th", { scope: "row", text: fmt.bucket(timeline.granularity, bucket, true) }),
        h("td", { text: fmt.value(state.metric, bucket.metrics[state.metric]) }),
      ),
    )),
    ),
  );
  return h(
    "section",
    { class: "panel", id: "panel-timeline", role: "tabpanel", "aria-labelledby": "tab-timeline" },
    h("div", { class: "panel-bar" }, select, readout),
    plot,
    table,
  );
}

function drawChart(report, fmt) {
  const plot = document.getElementById("chart");
  chart = new TimelineChart(plot, document.getElementById("readout"));
  chart.render(report.timeline, state.metric, fmt);
}

function breakdownPanel(breakdown, fmt) {
  const columns = [...COLUMNS];
  if (!columns.includes(breakdown.sort_by) && breakdown.sort_by in LABELS) columns.push(breakdown.sort_by);
  const rows = sortedRows(breakdown);
  const sort = state.sort;
  const th = (column, text, numeric) => {
    const active = sort ? sort.column === column : column === breakdown.sort_by;
    const dir = sort ? sort.dir : breakdown.order;
    return h(
      "th",
      {
        scope: "col",
        class: numeric ? "num" : "name",
        "aria-sort": active ? (dir === "asc" ? "ascending" : "descending") : "none",
        dataset: { column },
      },
      h("button", {
        type: "button",
        text: text + (active ? (dir === "asc" ? " ▲" : " ▼") : ""),
        onclick: () => {
          const current = state.sort ?? { column: breakdown.sort_by, dir: breakdown.order };
          const dir2 = current.column === column
            ? (current.dir === "asc" ? "desc" : "asc")
            : column === "name" ? "asc" : "desc";
          state.sort = { column, dir: dir2 };
          render();
        },
      }),
    );
  };
  const note = breakdown.truncated
    ? `Top ${breakdown.rows.length} of ${breakdown.total_groups} ${breakdown.by}s`
    : `${breakdown.total_groups} ${breakdown.by === "none" ? "group" : breakdown.by}${breakdown.total_groups === 1 ? "" : "s"}`;
  const body = rows.length
    ? rows.map((row) =>
        h(
          "tr",
          { dataset: { key: row.key ?? "" } },
          h("th", { scope: "row", class: "name", title: row.name, text: row.name }),
          columns.map((column) =>
            h("td", { class: "num", dataset: { column, value: row.metrics[column] ?? "" }, text: fmt.value(column, row.metrics[column]) }),
          ),
        ),
      )
    : [h("tr", {}, h("td", { colspan: columns.length + 1, class: "empty", text: "No activity in this window." }))];
  return h(
    "section",
    { class: "panel", id: "panel-breakdown", role: "tabpanel", "aria-labelledby": "tab-breakdown" },
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "breakdown" },
        h("thead", {}, h("tr", {}, th("name", "Name", false), columns.map((c) => th(c, label(c), true)))),
        h("tbody", {}, body),
      ),
    ),
    h("p", { class: "note", text: note }),
  );
}

/** The breakdown's rows in the user's chosen order (else as the server sorted them). */
function sortedRows(breakdown) {
  const sort = state.sort;
  if (!sort) return breakdown.rows;
  const factor = sort.dir === "asc" ? 1 : -1;
  const value = (row) => (sort.column === "name" ? row.name : num(row.metrics[sort.column]));
  return [...breakdown.rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === vb) return a.name.localeCompare(b.name, state.locale);
    if (va === null) return 1; // no data sorts last either way
    if (vb === null) return -1;
    if (sort.column === "name") return factor * va.localeCompare(vb, state.locale);
    return factor * (va - vb);
  });
}

// --- Host --------------------------------------------------------------------------

function applyHostContext(context) {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.locale) state.locale = context.locale;
  if (context.toolInfo?.tool) state.toolTitle = context.toolInfo.tool.title ?? null;
  const dims = context.containerDimensions;
  if (dims) {
    const height = "height" in dims ? dims.height : Math.min(dims.maxHeight ?? DEFAULT_HEIGHT, DEFAULT_HEIGHT);
    document.documentElement.style.setProperty("--view-h", `${height}px`);
  }
}

function receive(result) {
  if (result.isError) {
    const text = (result.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
    status(text || "The report failed.", "error");
    return;
  }
  const report = result.structuredContent;
  if (!report || typeof report !== "object") {
    status("This result has no report data to show.", "error");
    return;
  }
  state.report = report;
  state.sort = null;
  render();
}

const app = new App({ name: "Maestra report", version: "1.0.0" }, {}, { autoResize: true });
app.ontoolinput = () => status("Running the report…");
app.ontoolresult = receive;
app.ontoolcancelled = () => status("The report was cancelled.");
app.onhostcontextchanged = (context) => {
  applyHostContext(context);
  render(); // colours, locale and height may have changed
};
app.onteardown = async () => {
  chart?.destroy();
  return {};
};

new ResizeObserver(() => chart?.resize()).observe(root);
status("Waiting for the report…");
app
  .connect()
  .then(() => {
    applyHostContext(app.getHostContext());
    render();
  })
  .catch((error) => status(`Could not connect to the host: ${error.message}`, "error"));
