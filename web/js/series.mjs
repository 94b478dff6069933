// series.mjs — a chart series that stays small however long the run: points are averaged in buckets whose width
// doubles whenever the series exceeds its budget (halving the points already drawn by merging neighbours).
// A 20,000-step run then draws at most `max` points per line, and every step still counts in some bucket.
// The points array is mutated in place, so a Chart.js dataset can hold it by reference. Pure module.

export class DecimatedSeries {
  constructor(max = 400) {
    this.max = Math.max(8, max);
    this.points = [];   // [{ x, y }], what the chart draws
    this.stride = 1;    // raw points per drawn point
    this.sumX = 0; this.sumY = 0; this.n = 0;
  }

  clear() {
    this.points.length = 0;
    this.stride = 1;
    this.sumX = this.sumY = this.n = 0;
  }

  /** Adds one raw point. Non-finite x or y (a diagnostic that does not apply) is skipped. step: kept as the
   *  last step of the bucket, for tooltips where x is not the step (the align–uniform plane). */
  push(x, y, step = x) {
    if (typeof y !== 'number' || !Number.isFinite(y) || typeof x !== 'number' || !Number.isFinite(x)) return;
    this.sumX += x; this.sumY += y; this.n++;
    if (this.n < this.stride) return;
    this.points.push({ x: this.sumX / this.n, y: this.sumY / this.n, step });
    this.sumX = this.sumY = this.n = 0;
    if (this.points.length > this.max) this.compact();
  }

  // Merges neighbours pairwise, in place, and doubles the bucket width for what comes next.
  compact() {
    const p = this.points;
    const half = Math.floor(p.length / 2);
    for (let i = 0; i < half; i++) {
      const a = p[2 * i], b = p[2 * i + 1];
      p[i] = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, step: b.step };
    }
    if (p.length % 2) p[half] = p[p.length - 1];
    p.length = half + (p.length % 2);
    this.stride *= 2;
  }
}
