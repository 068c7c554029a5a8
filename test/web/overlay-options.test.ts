// The overlay's URL options: every value it knows is read as written, anything
// else falls back to its default (a typo in an OBS browser source's URL must
// still give a working overlay), and the Studio's builder writes only what
// differs from the defaults, in a form the parser reads back the same.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { chimeWav, OUTPUT as CHIME } from '../../scripts/gen-chime.mjs';
import {
  DEFAULT_OPTIONS,
  overlayQuery,
  overlayUrl,
  parseOverlayOptions,
  POSITIONS,
  speakable,
  THEMES,
  WIDGETS,
  type OverlayOptions,
} from '../../web/src/overlay-options.ts';

describe('parseOverlayOptions', () => {
  it('gives the defaults for an empty query', () => {
    expect(parseOverlayOptions('')).toEqual(DEFAULT_OPTIONS);
    expect(parseOverlayOptions('?')).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toMatchObject({
      position: 'top-left',
      theme: 'dark',
      scale: 1,
      widgets: ['board', 'alerts', 'prediction', 'units'],
      sound: true,
      volume: 70,
      tts: false,
      duration: 6,
      preview: false,
    });
  });

  it('reads every known position and theme, case and spaces aside', () => {
    for (const p of POSITIONS) expect(parseOverlayOptions(`position=${p}`).position).toBe(p);
    for (const th of THEMES) expect(parseOverlayOptions(`theme=${th}`).theme).toBe(th);
    expect(parseOverlayOptions('position=%20Bottom-Right%20&theme=LIGHT')).toMatchObject({
      position: 'bottom-right',
      theme: 'light',
    });
  });

  it('falls back to the default for unknown positions and themes', () => {
    for (const bad of ['middle', 'left', '', 'top-left;', '__proto__', 'constructor'])
      expect(parseOverlayOptions(`position=${encodeURIComponent(bad)}`).position).toBe('top-left');
    for (const bad of ['neon', 'card', '', 'toString']) expect(parseOverlayOptions(`theme=${bad}`).theme).toBe('dark');
  });

  it('keeps the scale within 0.5–2 and on 0.05 steps; not a number → 1', () => {
    const scale = (v: string) => parseOverlayOptions(`scale=${encodeURIComponent(v)}`).scale;
    expect(scale('1.5')).toBe(1.5);
    expect(scale('0.5')).toBe(0.5);
    expect(scale('2')).toBe(2);
    expect(scale('.75')).toBe(0.75);
    expect(scale('1.23')).toBe(1.25);
    expect(scale('1.15')).toBe(1.15);
    expect(scale('5')).toBe(2);
    expect(scale('0.1')).toBe(0.5);
    expect(scale('-3')).toBe(0.5);
    for (const bad of ['', 'big', '1.5x', 'NaN', 'Infinity', '1e3', '0x2', '1,5'])
      expect(scale(bad), bad).toBe(1);
  });

  it('reads the widgets list in a fixed order, ignoring unknown names; none known → all', () => {
    const widgets = (v: string) => parseOverlayOptions(`widgets=${v}`).widgets;
    expect(widgets('alerts')).toEqual(['alerts']);
    expect(widgets('units,board')).toEqual(['board', 'units']);
    expect(widgets(' Prediction , alerts,alerts')).toEqual(['alerts', 'prediction']);
    expect(widgets('board,chat,fireworks')).toEqual(['board']);
    expect(widgets('chat')).toEqual([...WIDGETS]);
    expect(widgets('')).toEqual([...WIDGETS]);
    expect(widgets(',,,')).toEqual([...WIDGETS]);
  });

  it('reads on/off switches; anything else keeps the default', () => {
    expect(parseOverlayOptions('sound=off').sound).toBe(false);
    expect(parseOverlayOptions('sound=0').sound).toBe(false);
    expect(parseOverlayOptions('sound=ON').sound).toBe(true);
    expect(parseOverlayOptions('sound=maybe').sound).toBe(true);
    expect(parseOverlayOptions('tts=on').tts).toBe(true);
    expect(parseOverlayOptions('tts=true').tts).toBe(true);
    expect(parseOverlayOptions('tts=loud').tts).toBe(false);
    expect(parseOverlayOptions('preview=1').preview).toBe(true);
  });

  it('keeps the volume an integer within 0–100 and the duration within 2–20 s', () => {
    const volume = (v: string) => parseOverlayOptions(`volume=${v}`).volume;
    expect(volume('0')).toBe(0);
    expect(volume('35')).toBe(35);
    expect(volume('35.6')).toBe(36);
    expect(volume('250')).toBe(100);
    expect(volume('-5')).toBe(0);
    expect(volume('quiet')).toBe(70);
    const duration = (v: string) => parseOverlayOptions(`duration=${v}`).duration;
    expect(duration('8')).toBe(8);
    expect(duration('1')).toBe(2);
    expect(duration('60')).toBe(20);
    expect(duration('soon')).toBe(6);
  });

  it('takes a URLSearchParams as well as a string, and ignores parameters it does not know', () => {
    const q = new URLSearchParams({ position: 'top', lang: 'en', utm_source: 'obs' });
    expect(parseOverlayOptions(q)).toEqual({ ...DEFAULT_OPTIONS, position: 'top' });
  });
});

describe('overlayQuery and overlayUrl', () => {
  it('write nothing for the defaults', () => {
    expect(overlayQuery(DEFAULT_OPTIONS)).toBe('');
    expect(overlayQuery({})).toBe('');
    expect(overlayUrl('https://ml.example', 'cooking_kim', DEFAULT_OPTIONS)).toBe(
      'https://ml.example/overlay/cooking_kim',
    );
  });

  it('write what differs, in a fixed order, and the parser reads it back', () => {
    const opts: OverlayOptions = {
      position: 'bottom-right',
      theme: 'transparent',
      scale: 1.5,
      widgets: ['units', 'alerts'],
      sound: false,
      volume: 40,
      tts: true,
      duration: 9,
      preview: false,
    };
    const query = overlayQuery(opts, 'en');
    expect(query).toBe(
      'position=bottom-right&theme=transparent&scale=1.5&widgets=alerts,units&sound=off&volume=40&tts=on&duration=9&lang=en',
    );
    expect(parseOverlayOptions(query)).toEqual({ ...opts, widgets: ['alerts', 'units'] });
    expect(overlayUrl('http://127.0.0.1:8080', 'cooking_kim', opts)).toBe(
      `http://127.0.0.1:8080/overlay/cooking_kim?${overlayQuery(opts)}`,
    );
  });

  it('leave out the volume when nothing makes a sound, and mend invalid values as the parser would', () => {
    expect(overlayQuery({ sound: false, tts: false, volume: 10 })).toBe('sound=off');
    expect(overlayQuery({ scale: 9, volume: 101, duration: 0 })).toBe('scale=2&volume=100&duration=2');
    expect(overlayQuery({ widgets: [] })).toBe('');
    expect(overlayQuery({ preview: true })).toBe('preview=on');
  });

  it('encode the handle', () => {
    expect(overlayUrl('https://ml.example', 'a b', {})).toBe('https://ml.example/overlay/a%20b');
  });
});

describe('the alert sound and speech', () => {
  it('ships the chime its script generates: a short mono 16-bit PCM WAV', async () => {
    const file = await readFile(CHIME);
    expect(file.equals(chimeWav()), 'web/src/assets/chime.wav is stale: run node scripts/gen-chime.mjs').toBe(true);
    expect(file.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(file.subarray(8, 12).toString('ascii')).toBe('WAVE');
    expect(file.readUInt16LE(20)).toBe(1); // PCM
    expect(file.readUInt16LE(22)).toBe(1); // mono
    const rate = file.readUInt32LE(24);
    const seconds = file.readUInt32LE(40) / 2 / rate;
    expect(seconds).toBeGreaterThan(0.3);
    expect(seconds).toBeLessThan(1.5);
    expect(file.length).toBeLessThan(64 * 1024);
    // Not silence, and never clipped.
    let peak = 0;
    for (let i = 44; i < file.length; i += 2) peak = Math.max(peak, Math.abs(file.readInt16LE(i)));
    expect(peak).toBeGreaterThan(8000);
    expect(peak).toBeLessThan(32767);
  });

  it('never reads masked words aloud', () => {
    expect(speakable('이 ***** 진짜  최고!')).toBe('이 진짜 최고!');
    expect(speakable('****')).toBe('');
  });
});
