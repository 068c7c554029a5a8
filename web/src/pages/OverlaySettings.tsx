// Studio › Overlay settings: builds the OBS overlay's URL from its options
// (overlay-options.ts), with a live preview (the overlay itself in a frame,
// scaled from 1920×1080, showing a sample mission when none is active), a
// test alert, and a copy button.
import { useEffect, useId, useRef, useState, type CSSProperties } from 'react';
import { PageTitle } from '../components/Layout.tsx';
import { CopyField, Field } from '../components/ui.tsx';
import { useTitle } from '../hooks.ts';
import { useLang, useT, type Lang } from '../i18n.ts';
import {
  DEFAULT_OPTIONS,
  DURATION_MAX,
  DURATION_MIN,
  overlayUrl,
  POSITIONS,
  SCALE_MAX,
  SCALE_MIN,
  TEST_ALERT_MESSAGE,
  THEMES,
  WIDGETS,
  type OverlayOptions,
  type Widget,
} from '../overlay-options.ts';
import { Link } from '../router.tsx';
import type { Me } from '../types.ts';

/** How long the preview waits for the options to settle before it reloads. */
const PREVIEW_DELAY_MS = 400;

export function OverlaySettingsPage({ me }: { me: Me }) {
  const t = useT();
  useTitle(t.overlaySettings.title);
  if (!me.channel) {
    return (
      <>
        <PageTitle>{t.overlaySettings.title}</PageTitle>
        <p>
          {t.overlaySettings.noChannel} <Link to="/studio">{t.nav.studio}</Link>
        </p>
      </>
    );
  }
  return <OverlaySettings key={me.channel} handle={me.channel} />;
}

function OverlaySettings({ handle }: { handle: string }) {
  const t = useT();
  const uiLang = useLang();
  const [opts, setOpts] = useState<OverlayOptions>({ ...DEFAULT_OPTIONS, widgets: [...WIDGETS] });
  const [lang, setLang] = useState<Lang>(uiLang);
  const set = <K extends keyof OverlayOptions>(key: K, value: OverlayOptions[K]) =>
    setOpts((o) => ({ ...o, [key]: value }));

  const url = overlayUrl(window.location.origin, handle, opts, lang);
  const previewUrl = overlayUrl(window.location.origin, handle, { ...opts, preview: true }, lang);
  // The preview reloads once the options settle, not on every step of a slider.
  const [frameUrl, setFrameUrl] = useState(previewUrl);
  useEffect(() => {
    const id = setTimeout(() => setFrameUrl(previewUrl), PREVIEW_DELAY_MS);
    return () => clearTimeout(id);
  }, [previewUrl]);

  const s = t.overlaySettings;
  return (
    <>
      <div className="page-head">
        <div>
          <PageTitle>{s.title}</PageTitle>
          <p className="handle">
            <Link to="/studio">{t.nav.studio}</Link> · @{handle}
          </p>
        </div>
      </div>
      <p>{s.lead}</p>

      <div className="overlay-settings">
        <section className="card section" aria-labelledby="overlay-look-h">
          <h2 id="overlay-look-h">{s.layout}</h2>
          <Choice
            legend={s.position}
            name="position"
            values={POSITIONS}
            labels={s.positions}
            value={opts.position}
            onChange={(v) => set('position', v)}
          />
          <Choice
            legend={s.theme}
            name="theme"
            values={THEMES}
            labels={s.themes}
            value={opts.theme}
            onChange={(v) => set('theme', v)}
          />
          <Range
            label={s.scale(Math.round(opts.scale * 100))}
            min={SCALE_MIN * 100}
            max={SCALE_MAX * 100}
            step={5}
            value={Math.round(opts.scale * 100)}
            onChange={(v) => set('scale', v / 100)}
          />
          <WidgetChoice value={opts.widgets} onChange={(v) => set('widgets', v)} />
          <Range
            label={s.duration(opts.duration)}
            hint={s.durationHint}
            min={DURATION_MIN}
            max={DURATION_MAX}
            step={1}
            value={opts.duration}
            onChange={(v) => set('duration', v)}
          />
          <Field label={s.lang}>
            {({ id }) => (
              <select id={id} value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
                {(['ko', 'en'] as const).map((l) => (
                  <option key={l} value={l} lang={l}>
                    {s.langNames[l]}
                  </option>
                ))}
              </select>
            )}
          </Field>

          <h3>{s.audio}</h3>
          <label className="check">
            <input
              type="checkbox"
              checked={opts.sound}
              onChange={(e) => set('sound', e.target.checked)}
            />
            {s.sound}
          </label>
          <TtsCheck checked={opts.tts} onChange={(v) => set('tts', v)} />
          <Range
            label={s.volume(opts.volume)}
            min={0}
            max={100}
            step={5}
            value={opts.volume}
            disabled={!opts.sound && !opts.tts}
            onChange={(v) => set('volume', v)}
          />
          <button
            type="button"
            className="button button-ghost"
            onClick={() => {
              setOpts({ ...DEFAULT_OPTIONS, widgets: [...WIDGETS] });
              setLang(uiLang);
            }}
          >
            {s.reset}
          </button>
        </section>

        <section
          className="card section overlay-settings-preview"
          aria-labelledby="overlay-preview-h"
        >
          <h2 id="overlay-preview-h">{s.preview}</h2>
          <CopyField label={s.url} hint={s.urlHint} value={url} testId="overlay-url" />
          <Preview url={frameUrl} title={s.previewFrame} />
          <p className="hint">{s.previewHint}</p>
        </section>
      </div>
    </>
  );
}

function Choice<V extends string>(props: {
  legend: string;
  name: string;
  values: readonly V[];
  labels: Record<V, string>;
  value: V;
  onChange: (v: V) => void;
}) {
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      <div className="choice-options">
        {props.values.map((v) => (
          <label key={v} className="choice-option">
            <input
              type="radio"
              name={props.name}
              value={v}
              checked={props.value === v}
              onChange={() => props.onChange(v)}
            />
            {props.labels[v]}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function WidgetChoice({ value, onChange }: { value: Widget[]; onChange: (v: Widget[]) => void }) {
  const t = useT();
  const hintId = useId();
  return (
    <fieldset aria-describedby={hintId}>
      <legend>{t.overlaySettings.widgets}</legend>
      <div className="choice-options">
        {WIDGETS.map((w) => (
          <label key={w} className="choice-option">
            <input
              type="checkbox"
              name="widgets"
              value={w}
              checked={value.includes(w)}
              onChange={(e) => {
                const next = e.target.checked ? [...value, w] : value.filter((x) => x !== w);
                // None chosen means every widget (the parser's default): keep the boxes honest.
                onChange(next.length > 0 ? WIDGETS.filter((x) => next.includes(x)) : [...WIDGETS]);
              }}
            />
            {t.overlaySettings.widgetNames[w]}
          </label>
        ))}
      </div>
      <p className="hint" id={hintId}>
        {t.overlaySettings.widgetsHint}
      </p>
    </fieldset>
  );
}

function TtsCheck({ checked, onChange }: { checked: boolean; onChange: (v: boolean) => void }) {
  const t = useT();
  const hintId = useId();
  return (
    <>
      <label className="check">
        <input
          type="checkbox"
          checked={checked}
          aria-describedby={hintId}
          onChange={(e) => onChange(e.target.checked)}
        />
        {t.overlaySettings.tts}
      </label>
      <p className="hint" id={hintId}>
        {t.overlaySettings.ttsHint}
      </p>
    </>
  );
}

function Range(props: {
  label: string;
  hint?: string;
  min: number;
  max: number;
  step: number;
  value: number;
  disabled?: boolean;
  onChange: (v: number) => void;
}) {
  return (
    <Field label={props.label} hint={props.hint}>
      {({ id, describedBy }) => (
        <input
          id={id}
          type="range"
          min={props.min}
          max={props.max}
          step={props.step}
          value={props.value}
          disabled={props.disabled}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange(Number(e.target.value))}
        />
      )}
    </Field>
  );
}

/** The overlay in a frame, 1920×1080 scaled to the card's width, and a test alert. */
function Preview({ url, title }: { url: string; title: string }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLIFrameElement>(null);
  const [scale, setScale] = useState(0.3);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fit = () => setScale(el.clientWidth / 1920);
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return (
    <>
      <div
        ref={box}
        className="overlay-preview-frame"
        style={{ '--preview-scale': String(scale) } as CSSProperties}
      >
        <iframe
          ref={frame}
          src={url}
          title={title}
          allow="autoplay"
          data-testid="overlay-preview"
        />
      </div>
      <p className="overlay-preview-actions">
        <button
          type="button"
          className="button button-secondary"
          onClick={() =>
            frame.current?.contentWindow?.postMessage(
              { type: TEST_ALERT_MESSAGE },
              window.location.origin,
            )
          }
        >
          {t.overlaySettings.testAlert}
        </button>
      </p>
    </>
  );
}
