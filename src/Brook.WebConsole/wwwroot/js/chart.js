// Line charts drawn as inline SVG: time on x, a value on y, one polyline per series.

const SVG = 'http://www.w3.org/2000/svg';
export const palette = ['#1c6dd0', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#0c8599', '#5f3dc4', '#a61e4d', '#5c940d'];

function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  for (const child of children) if (child) element.append(child);
  return element;
}

function niceStep(range, ticks) {
  const raw = range / Math.max(1, ticks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1;
  return Math.max(nice * magnitude, 1e-9);
}

function timeLabel(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * series: [{ name, color, points: [{ t: ms, v: number }] }]. Options: width, height, format (y tick labels),
 * integer (y ticks on whole numbers), title (accessible name), compact (a sparkline without axes).
 */
export function lineChart(series, { width = 720, height = 220, format = String, integer = false, title = 'chart', compact = false } = {}) {
  const margin = compact ? { top: 4, right: 4, bottom: 4, left: 4 } : { top: 12, right: 16, bottom: 26, left: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: compact ? 'chart spark' : 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'none' });
  const all = series.flatMap((x) => x.points);
  if (all.length === 0) {
    if (!compact) svg.append(s('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-empty' }, document.createTextNode('Waiting for samples…')));
    return svg;
  }
  let tMin = Math.min(...all.map((p) => p.t));
  let tMax = Math.max(...all.map((p) => p.t));
  if (tMax === tMin) {
    tMin -= 1000;
    tMax += 1000;
  }
  const vMaxRaw = Math.max(...all.map((p) => p.v), 0);
  const step = integer ? Math.max(1, Math.ceil(niceStep(vMaxRaw || 1, 4))) : niceStep(vMaxRaw || 1, 4);
  const vMax = Math.max(step, Math.ceil(vMaxRaw / step) * step);
  const x = (t) => margin.left + ((t - tMin) / (tMax - tMin)) * plotW;
  const y = (v) => margin.top + plotH - (v / vMax) * plotH;

  if (!compact) {
    const grid = s('g', { class: 'chart-grid' });
    for (let v = 0; v <= vMax + step / 2; v += step) {
      grid.append(s('line', { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v) }));
      grid.append(s('text', { x: margin.left - 8, y: y(v) + 4, 'text-anchor': 'end' }, document.createTextNode(format(v))));
    }
    const ticks = Math.min(6, Math.max(2, Math.floor(plotW / 110)));
    for (let i = 0; i <= ticks; i++) {
      const t = tMin + ((tMax - tMin) * i) / ticks;
      grid.append(s('text', { x: x(t), y: height - 6, 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' }, document.createTextNode(timeLabel(t))));
    }
    svg.append(grid);
  }
  series.forEach((line, index) => {
    if (line.points.length === 0) return;
    const color = line.color || palette[index % palette.length];
    const points = line.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    if (compact && index === 0) {
      const first = line.points[0];
      const last = line.points[line.points.length - 1];
      svg.append(s('polygon', { points: `${x(first.t)},${y(0)} ${points} ${x(last.t)},${y(0)}`, fill: color, 'fill-opacity': 0.12, stroke: 'none' }));
    }
    const polyline = s('polyline', { points, fill: 'none', stroke: color, 'stroke-width': line.width || (compact ? 1.5 : 2), 'stroke-linejoin': 'round', 'vector-effect': 'non-scaling-stroke' });
    polyline.append(s('title', {}, document.createTextNode(line.name)));
    svg.append(polyline);
    if (!compact && line.points.length <= 60) {
      for (const p of line.points) svg.append(s('circle', { cx: x(p.t), cy: y(p.v), r: 2.2, fill: color }));
    }
  });
  return svg;
}

export function legend(series) {
  const list = document.createElement('ul');
  list.className = 'legend';
  series.forEach((line, index) => {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = line.color || palette[index % palette.length];
    item.append(swatch, document.createTextNode(line.name));
    list.append(item);
  });
  return list;
}
