// A time-series chart drawn by uPlot on a canvas. uPlot sets sizes through
// the CSSOM (allowed by our CSP) and its stylesheet is bundled with ours.
// The canvas is described in words for people who cannot see it. Times are
// Korean time (Asia/Seoul) in the reader's language; colours come from the
// theme's tokens (a canvas cannot read CSS variables, so they are resolved
// here, and the plot is redrawn when the theme changes).
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { timeAxisLabels } from '../format.ts';
import { useLang } from '../i18n.ts';
import { useTheme } from '../theme.ts';
import { EmptyArt } from './EmptyState.tsx';

export interface ChartProps {
  title: string;
  /** A sentence with the current value(s), read to screen readers. */
  summary: string;
  /** x = unix seconds; one array of y per series. */
  x: number[];
  series: {
    label: string;
    values: (number | null)[];
    /** A colour, or a theme token such as 'var(--chart-1)'. */
    color: string;
    fill?: string;
    stepped?: boolean;
    /** Bars instead of a line (e.g. one per day). */
    bars?: boolean;
  }[];
  height?: number;
  formatY?: (v: number) => string;
  /** Show at most this many seconds up to the newest point (a rolling window). */
  windowSeconds?: number;
  /** Whole numbers only (counts): integer ticks, at least 0–5. */
  integer?: boolean;
  /**
   * Fewer points than this draw no axes at all, only `collecting` (a sentence
   * such as "collecting data…"): a rate needs two samples, a line two points.
   */
  minPoints?: number;
  collecting?: string;
  /** Room on both sides of the first and last x (seconds), e.g. half a day around daily bars. */
  xPad?: number;
}

const TZ = 'Asia/Seoul';
const MIN = 60;
const HOUR = 3600;
const DAY = 86_400;
/** Steps of a time axis (seconds): never less than a second, so no two labels read the same. */
const TIME_INCRS = [
  1, 2, 5, 10, 15, 30, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR,
  6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY,
];

/** The value of a theme token ('var(--x)') on `el`, or the colour as given. */
function resolve(el: Element, color: string | undefined): string | undefined {
  const m = color?.match(/^var\((--[\w-]+)\)$/);
  if (!m) return color;
  return getComputedStyle(el).getPropertyValue(m[1]!).trim() || undefined;
}

export function Chart({
  title,
  summary,
  x,
  series,
  height = 180,
  formatY,
  windowSeconds,
  integer,
  minPoints = 1,
  collecting,
  xPad,
}: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const lang = useLang();
  const theme = useTheme();
  const ready = x.length >= minPoints;
  const shape = `${series.map((s) => `${s.label}|${s.color}|${s.fill}|${s.stepped ? 1 : 0}|${s.bars ? 1 : 0}`).join(',')}|${windowSeconds}|${integer}|${xPad}|${lang}|${theme}|${ready}`;
  const fmt = useRef(formatY);
  fmt.current = formatY;

  // (Re)create the plot when the series change shape (or the language, or the theme).
  useEffect(() => {
    const el = box.current;
    if (!el || !ready) return;
    const axisColor = resolve(el, 'var(--chart-axis)') ?? '#4b4563';
    const axis = {
      stroke: axisColor,
      grid: { stroke: resolve(el, 'var(--chart-grid)') ?? '#e8e4f2', width: 1 },
      ticks: { stroke: resolve(el, 'var(--chart-grid)') ?? '#e8e4f2', width: 1 },
      font: `12px ${getComputedStyle(el).fontFamily || 'system-ui, sans-serif'}`,
    };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: false },
      cursor: { show: true, points: { show: false }, drag: { x: false, y: false } },
      // Ticks fall on Korean minutes, hours and days whatever the browser's zone.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TZ),
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => {
            const pad = xPad ?? (min === max ? 60 : 0);
            return [(windowSeconds ? Math.max(min, max - windowSeconds) : min) - pad, max + pad];
          },
        },
        y: {
          range: (_u, min, max) => [
            Math.min(0, min),
            integer ? Math.max(5, Math.ceil(max * 1.1)) : max > 0 ? max * 1.1 : 1,
          ],
        },
      },
      axes: [
        {
          ...axis,
          // Room for "12월 7일 14:30" between two labels; whole seconds at the finest.
          space: 90,
          incrs: TIME_INCRS,
          values: (_u, splits, _axis, _space, incr) => {
            const labels = timeAxisLabels(splits, incr, lang);
            // What the canvas shows, for tests and for anyone inspecting the page.
            el.dataset.xLabels = labels.join('|');
            return labels;
          },
        },
        {
          ...axis,
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
        ...series.map((s) => {
          const stroke = resolve(el, s.color) ?? axisColor;
          return {
            label: s.label,
            stroke,
            width: s.bars ? 1 : 2,
            fill: resolve(el, s.fill) ?? (s.bars ? stroke : undefined),
            // Dots while there are too few points to draw a line.
            points: { show: (u: uPlot) => !s.bars && u.data[0].length < 3, size: 6 },
            ...(s.bars
              ? { paths: uPlot.paths.bars!({ size: [0.6, 48] }) }
              : s.stepped
                ? { paths: uPlot.paths.stepped!({ align: 1 }) }
                : {}),
          };
        }),
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
      delete el.dataset.xLabels;
    };
    // Data updates go through setData below.
  }, [shape, height]);

  useEffect(() => {
    if (ready) plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  });

  return (
    <figure className="chart" data-state={ready ? 'drawn' : 'collecting'}>
      <figcaption className="chart-title">{title}</figcaption>
      {ready ? (
        <div key="canvas" ref={box} className="chart-canvas" role="img" aria-label={`${title}: ${summary}`} />
      ) : (
        <div key="collecting" className="chart-collecting" data-testid="chart-collecting">
          <EmptyArt art="chart" />
          <p>{collecting}</p>
        </div>
      )}
      <p className="chart-summary">{summary}</p>
    </figure>
  );
}
