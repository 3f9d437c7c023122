// Number and date formatting for the report view. Money values arrive as decimal
// strings in the report's currency, rates as floats in [0, 1] or null
// (reporting/schemas.py); every label on screen goes through these helpers.

export const MONEY = new Set(["revenue", "average_order_value", "revenue_per_delivered"]);
export const RATES = new Set([
  "delivery_rate",
  "bounce_rate",
  "open_rate",
  "click_rate",
  "click_to_open_rate",
  "conversion_rate",
  "unsubscribe_rate",
  "spam_rate",
]);
// An increase of these is bad news: their change is coloured the other way round.
export const LOWER_IS_BETTER = new Set([
  "bounces",
  "bounce_rate",
  "unsubscribes",
  "unsubscribe_rate",
  "spam_complaints",
  "spam_rate",
]);

export const LABELS = {
  sends: "Sends",
  delivered: "Delivered",
  bounces: "Bounces",
  opens: "Opens",
  clicks: "Clicks",
  unsubscribes: "Unsubscribes",
  spam_complaints: "Spam complaints",
  orders: "Orders",
  revenue: "Revenue",
  delivery_rate: "Delivery rate",
  bounce_rate: "Bounce rate",
  open_rate: "Open rate",
  click_rate: "Click rate",
  click_to_open_rate: "Click-to-open",
  conversion_rate: "Conversion rate",
  unsubscribe_rate: "Unsubscribe rate",
  spam_rate: "Spam rate",
  average_order_value: "Avg. order value",
  revenue_per_delivered: "Revenue / delivered",
};

/** "good" / "bad" / "flat" for a change's sign, taking the metric's polarity into account. */
export function changeTone(metric, sign) {
  if (!sign) return "flat";
  return sign > 0 !== LOWER_IS_BETTER.has(metric) ? "good" : "bad";
}

export const label = (metric) => LABELS[metric] ?? metric.replaceAll("_", " ");

/** Numbers from the JSON: decimal strings become numbers, null stays null. */
export function num(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

export class Formatter {
  constructor(currency, locale) {
    this.locale = locale || undefined;
    this.currency = currency || "USD";
    const money = (options) =>
      new Intl.NumberFormat(this.locale, { style: "currency", currency: this.currency, ...options });
    this._money = money({});
    this._moneyWhole = money({ maximumFractionDigits: 0, minimumFractionDigits: 0 });
    this._moneyCompact = money({ notation: "compact", maximumFractionDigits: 1 });
    this._moneyFine = money({ minimumFractionDigits: 2, maximumFractionDigits: 4 });
    this._int = new Intl.NumberFormat(this.locale, { maximumFractionDigits: 0 });
    this._compact = new Intl.NumberFormat(this.locale, {
      notation: "compact",
      maximumFractionDigits: 1,
    });
    this._pct = new Intl.NumberFormat(this.locale, {
      style: "percent",
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
    });
    this._pctFine = new Intl.NumberFormat(this.locale, {
      style: "percent",
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    this._pctTiny = new Intl.NumberFormat(this.locale, {
      style: "percent",
      maximumSignificantDigits: 2,
    });
    this._signedPct = new Intl.NumberFormat(this.locale, {
      style: "percent",
      maximumFractionDigits: 1,
      signDisplay: "exceptZero",
    });
    this._pp = new Intl.NumberFormat(this.locale, {
      maximumFractionDigits: 2,
      signDisplay: "exceptZero",
    });
    this._day = new Intl.DateTimeFormat(this.locale, {
      day: "numeric",
      month: "short",
      timeZone: "UTC",
    });
    this._dayYear = new Intl.DateTimeFormat(this.locale, {
      day: "numeric",
      month: "short",
      year: "numeric",
      timeZone: "UTC",
    });
    this._month = new Intl.DateTimeFormat(this.locale, {
      month: "short",
      year: "numeric",
      timeZone: "UTC",
    });
  }

  /** A metric's value in full (tables, tooltips); "–" for null (not tracked / no data). */
  value(metric, raw) {
    const n = num(raw);
    if (n === null) return "–";
    if (metric === "revenue_per_delivered") return this._moneyFine.format(n);
    if (MONEY.has(metric)) return Math.abs(n) >= 1000 ? this._moneyWhole.format(n) : this._money.format(n);
    // Rates under 10 % keep two decimals (0.73 %, not 0.7 %); spam rates two significant digits.
    if (RATES.has(metric)) {
      if (n !== 0 && Math.abs(n) < 0.0001) return this._pctTiny.format(n);
      return Math.abs(n) < 0.1 ? this._pctFine.format(n) : this._pct.format(n);
    }
    return this._int.format(n);
  }

  /** A metric's value in few characters (KPI tiles, axis ticks). */
  short(metric, raw) {
    const n = num(raw);
    if (n === null) return "–";
    if (MONEY.has(metric)) {
      if (Math.abs(n) >= 10000) return this._moneyCompact.format(n);
      return Number.isInteger(n) ? this._moneyWhole.format(n) : this.value(metric, n);
    }
    if (RATES.has(metric)) return this.value(metric, n);
    return Math.abs(n) >= 10000 ? this._compact.format(n) : this._int.format(n);
  }

  /**
   * A change as shown: relative % for counts and money, percentage points for rates.
   * Returns {text, sign} with the sign of the *displayed* (rounded) number, so a
   * change that rounds to zero is shown flat; null when there is nothing to compare.
   */
  change(metric, change) {
    if (!change) return null;
    const rate = RATES.has(metric);
    const raw = rate ? num(change.absolute) : num(change.relative);
    if (raw === null) return null;
    const shown = rate ? Math.round(raw * 10000) / 100 : Math.round(raw * 1000) / 1000;
    const text = rate ? `${this._pp.format(shown)} pp` : this._signedPct.format(shown);
    return { text, sign: Math.sign(shown) };
  }

  /** A signed amount in the metric's unit (changes, driver contributions); rates in points. */
  signed(metric, raw) {
    const n = num(raw);
    if (n === null) return "–";
    if (RATES.has(metric)) return `${this._pp.format(Math.round(n * 10000) / 100)} pp`;
    const text = this.short(metric, Math.abs(n));
    return n > 0 ? `+${text}` : n < 0 ? `−${text}` : text;
  }

  /** A relative change: "+12.5%". */
  percent(value) {
    return this._signedPct.format(value);
  }

  date(iso, withYear = false) {
    const d = new Date(`${iso}T00:00:00Z`);
    return (withYear ? this._dayYear : this._day).format(d);
  }

  month(iso) {
    return this._month.format(new Date(`${iso}T00:00:00Z`));
  }

  /** "7 Sep – 5 Dec 2026" */
  range(window) {
    if (!window) return "";
    const sameYear = window.date_from.slice(0, 4) === window.date_to.slice(0, 4);
    if (window.date_from === window.date_to) return this.date(window.date_from, true);
    return `${this.date(window.date_from, !sameYear)} – ${this.date(window.date_to, true)}`;
  }

  /** A timeline bucket's label for its granularity. */
  bucket(granularity, bucket, withYear = false) {
    if (granularity === "month") return this.month(bucket.period_start);
    if (granularity === "week") {
      const end = bucket.period_end === bucket.period_start ? "" : ` – ${this.date(bucket.period_end)}`;
      return `${this.date(bucket.period_start, withYear && !end)}${end}`;
    }
    return this.date(bucket.period_start, withYear);
  }
}
