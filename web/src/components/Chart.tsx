// A time-series chart drawn by uPlot on a canvas. uPlot sets sizes through
// the CSSOM (allowed by our CSP) and its stylesheet is bundled with ours.
// The canvas is described in words for people who cannot see it.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  title: string;
  /** A sentence with the current value(s), read to screen readers. */
  summary: string;
  /** x = unix seconds; one array of y per series. */
  x: number[];
  series: {
    label: string;
    values: (number | null)[];
    color: string;
    fill?: string;
    stepped?: boolean;
  }[];
  height?: number;
  formatY?: (v: number) => string;
  /** Show at most this many seconds up to the newest point (a rolling window). */
  windowSeconds?: number;
  /** Whole numbers only (counts): integer ticks, at least 0–5. */
  integer?: boolean;
}

const AXIS = {
  stroke: '#3f3a52',
  grid: { stroke: '#e5e2ef', width: 1 },
  ticks: { stroke: '#c9c4da', width: 1 },
  font: '12px system-ui, sans-serif',
};

export function Chart({
  title,
  summary,
  x,
  series,
  height = 180,
  formatY,
  windowSeconds,
  integer,
}: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${series.map((s) => `${s.label}|${s.color}|${s.stepped ? 1 : 0}`).join(',')}|${windowSeconds}|${integer}`;
  const fmt = useRef(formatY);
  fmt.current = formatY;

  // (Re)create the plot when the series change shape.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { show: true, points: { show: false }, drag: { x: false, y: false } },
      scales: {
        x: {
          time: true,
          // One point (or a fixed window) still gets a sensible time axis.
          range: (_u, min, max) =>
            min === max
              ? [min - 60, max + 60]
              : [windowSeconds ? Math.max(min, max - windowSeconds) : min, max],
        },
        y: {
          range: (_u, min, max) => [
            Math.min(0, min),
            integer ? Math.max(5, Math.ceil(max * 1.1)) : max > 0 ? max * 1.1 : 1,
          ],
        },
      },
      axes: [
        { ...AXIS },
        {
          ...AXIS,
          size: 64,
          ...(integer
            ? {
                incrs: [
                  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000, 1_000_000,
                ],
              }
            : {}),
          values: (_u, vals) => vals.map((v) => (fmt.current ? fmt.current(v) : String(v))),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: s.fill,
          // Dots while there are too few points to draw a line.
          points: { show: (u: uPlot) => u.data[0].length < 3, size: 6 },
          ...(s.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        })),
      ],
    };
    const u = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      u.setSize({ width: Math.max(200, el.clientWidth), height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Data updates go through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  });

  return (
    <figure className="chart">
      <figcaption className="chart-title">{title}</figcaption>
      <div ref={box} className="chart-canvas" role="img" aria-label={`${title}: ${summary}`} />
      <p className="chart-summary">{summary}</p>
    </figure>
  );
}
